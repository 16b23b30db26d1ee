"""Read a labelled image folder, ``<root>/<class>/<image>``, into uint8 arrays."""

import os

import numpy as np
from PIL import Image, UnidentifiedImageError

from hgzoo.errors import InvalidImageError

SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def load_image_folder(root, per_class=None, seed=0):
    """``(images (N, H, W, 3) uint8, labels (N,) int32, class names)`` from ``root/<class>/*``.

    Classes are the sub-folders in sorted order; ``per_class`` keeps that many
    images of each (chosen with ``seed``; all when None). Every image must
    have the same size: distillation keeps one tensor of synthetic images.
    """
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"{root}: no such folder; give a folder with one sub-folder of images per class")
    names = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    images, labels, shapes = [], [], {}
    for label, name in enumerate(names):
        files = sorted(f for f in os.listdir(os.path.join(root, name)) if f.lower().endswith(SUFFIXES))
        if per_class is not None and len(files) > per_class:
            keep = np.random.default_rng([int(seed), label]).choice(len(files), int(per_class), replace=False)
            files = [files[i] for i in sorted(keep)]
        for f in files:
            path = os.path.join(root, name, f)
            try:
                with Image.open(path) as im:
                    array = np.asarray(im.convert("RGB"))
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
                raise InvalidImageError(f"{path}: not a readable image ({e})") from e
            shapes.setdefault(array.shape, path)
            if len(shapes) > 1:
                (a, first), (b, other) = list(shapes.items())[:2]
                raise InvalidImageError(f"{root}: images of mixed sizes ({first} is {a[1]}x{a[0]}, {other} is "
                                        f"{b[1]}x{b[0]}); resize them to one size first")
            images.append(array)
            labels.append(label)
    if not images:
        raise ValueError(f"{root}: no images found; expected {root}/<class>/<image>{SUFFIXES[0]}")
    return np.stack(images), np.asarray(labels, np.int32), names
