"""Omniglot readers (Lake et al.): background alphabets and the official 20-way one-shot runs.

The files are those of brendenlake/omniglot's ``python/`` folder:
``images_background[_small1|_small2].zip`` (alphabet/character/PNG, 105×105
black strokes on white) and ``all_runs.zip`` (20 runs; each has 20 training
images, one per class, 20 test images and ``class_labels.txt`` pairing them).
hgzoo ships none of them: pass the paths of your copies.

Example:

>>> from hgzoo.fewshot import omniglot
>>> runs = omniglot.load_runs("all_runs.zip")  # doctest: +SKIP
>>> inputs, target = runs[0]  # doctest: +SKIP
>>> inputs["support_images"].shape, target.shape  # doctest: +SKIP
((1, 20, 105, 105, 1), (1, 20, 20))
"""

import io
import os
import zipfile

import numpy as np
from PIL import Image

from hgzoo.data.image_classes import ImageClasses


def load_background(*paths, size=None):
    """Characters of one or more background archives/folders as one pool (each character a class)."""
    if not paths:
        raise ValueError("pass at least one images_background archive or folder")
    pools = [ImageClasses.from_folder(p, channels=1, size=size) for p in paths]
    return ImageClasses([a for p in pools for a in p.images], [n for p in pools for n in p.names])


def alphabet_of(name):
    """The alphabet of a class named ``.../alphabet/character`` (any prefix, any ``@rot`` suffix).

    >>> alphabet_of("images_background_small1/Greek/character01@rot90")
    'Greek'
    """
    folders = str(name).partition("@")[0].rstrip("/").split("/")
    return folders[-2] if len(folders) > 1 else folders[0]


def alphabets(pool):
    """Each class's alphabet, with its rotation for rotated copies.

    The groups of :class:`~hgzoo.fewshot.EpisodeSampler`'s within-alphabet episodes: a rotated
    alphabet is a group of its own, so such an episode's characters share alphabet and orientation,
    like a task of the 20 runs.

    >>> from hgzoo.data.image_classes import ImageClasses
    >>> import numpy as np
    >>> pool = ImageClasses([np.zeros((2, 4, 4, 1))] * 2, ["bg/Greek/character01", "bg/Latin/character01"])
    >>> alphabets(pool.with_rotations((0, 90)))
    ['Greek', 'Latin', 'Greek@rot90', 'Latin@rot90']
    """
    return [alphabet_of(name) + ("@" + name.partition("@")[2] if "@" in name else "") for name in pool.names]


def _read_gray(z, name):
    try:
        data = z.read(name)
    except KeyError:
        raise FileNotFoundError(f"{z.filename}: {name} is listed in class_labels.txt but missing") from None
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("L"), np.float32)[..., None] / 255.0


def load_runs(path):
    """The 20 one-shot runs as episodes ``(inputs, target)`` with B = 1, N = 20, K = 1, Q = 20.

    Support images are the run's ``training/classNN.png`` (label NN - 1);
    queries its ``test/itemNN.png`` with the class given by
    ``class_labels.txt``. Images are as in the files: 105×105, [0, 1].
    """
    path = os.fspath(path)
    if not zipfile.is_zipfile(path):
        raise FileNotFoundError(f"{path}: not a zip archive (expected Omniglot's all_runs.zip)")
    episodes = []
    with zipfile.ZipFile(path) as z:
        runs = sorted({n.split("/")[0] for n in z.namelist() if n.endswith("class_labels.txt")})
        if not runs:
            raise ValueError(f"{path}: no runNN/class_labels.txt inside; is this all_runs.zip?")
        for run in runs:
            pairs = [line.split() for line in z.read(f"{run}/class_labels.txt").decode().splitlines() if line.strip()]
            classes = sorted({train for _, train in pairs})
            support = np.stack([_read_gray(z, c) for c in classes])
            queries = np.stack([_read_gray(z, test) for test, _ in pairs])
            target = np.eye(len(classes), dtype=np.float32)[[classes.index(train) for _, train in pairs]]
            inputs = {"support_images": support[None], "support_labels": np.arange(len(classes), dtype=np.int32)[None],
                      "query_images": queries[None]}
            episodes.append((inputs, target[None]))
    return episodes
