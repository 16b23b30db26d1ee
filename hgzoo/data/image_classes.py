"""ImageClasses: a labelled image pool, grouped by class (few-shot episodes are drawn from one).

Images are kept in memory as uint8 arrays (H, W, C), one array of images per
class, all of one size. Build a pool from a folder tree or an archive (every
folder that holds images is a class), from numpy arrays, or from a
tensorflow-datasets dataset; then split it by class, resize it, or add
rotated copies as new classes (Omniglot's class-level augmentation).

Example:

>>> import numpy as np
>>> from hgzoo.data.image_classes import ImageClasses
>>> pool = ImageClasses.from_arrays(np.zeros((6, 8, 8, 1), np.uint8), [0, 0, 1, 1, 2, 2])
>>> pool.num_classes, pool.image_shape
(3, (8, 8, 1))
>>> pool.with_rotations((0, 90)).num_classes
6
"""

import io
import os
import tarfile
import zipfile

import numpy as np
from PIL import Image, UnidentifiedImageError

from hgzoo.config import require
from hgzoo.errors import InvalidImageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


def _decode(data, name, mode):
    try:
        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im.convert(mode))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise InvalidImageError(f"{name}: not a readable image ({e})") from e


def _convert(image, mode, size=None):
    """A uint8 (H, W[, C]) array in PIL ``mode`` ("L" or "RGB"), optionally Lanczos-resized, as (h, w, C)."""
    im = Image.fromarray(image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image).convert(mode)
    if size is not None:
        im = im.resize((size[1], size[0]), Image.LANCZOS)
    array = np.asarray(im)
    return array.reshape(array.shape[:2] + (-1,))


def _members(path):
    """(relative name, bytes reader) for every image in a folder, .zip or .tar(.gz)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        for root, _, files in sorted(os.walk(path)):
            for f in sorted(files):
                if f.lower().endswith(IMAGE_SUFFIXES):
                    full = os.path.join(root, f)
                    yield os.path.relpath(full, path).replace(os.sep, "/"), lambda full=full: open(full, "rb").read()
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for name in sorted(z.namelist()):
                if name.lower().endswith(IMAGE_SUFFIXES):
                    yield name, lambda name=name: z.read(name)
    elif os.path.isfile(path) and tarfile.is_tarfile(path):
        with tarfile.open(path) as t:
            for member in t:
                if member.isfile() and member.name.lower().endswith(IMAGE_SUFFIXES):
                    data = t.extractfile(member).read()
                    yield member.name, lambda data=data: data
    else:
        raise FileNotFoundError(f"{path}: not a folder, .zip or .tar archive of images")


class ImageClasses:
    """A pool of labelled images, grouped by class.

    Args:
        images: a list with one uint8 array (n_i, H, W, C) per class; every
            class needs at least one image and all images one shape.
        names: a name per class (defaults to "0", "1", ...).
    """

    def __init__(self, images, names=None):
        images = [np.asarray(a) for a in images]
        if not images:
            raise ValueError("ImageClasses needs at least one class")
        names = [str(i) for i in range(len(images))] if names is None else [str(n) for n in names]
        if len(names) != len(images):
            raise ValueError(f"{len(names)} names for {len(images)} classes")
        shape = images[0].shape[1:]
        for name, a in zip(names, images):
            if a.ndim != 4 or len(a) == 0:
                raise ValueError(f"class {name!r}: expected a non-empty (n, H, W, C) array, got shape {a.shape}")
            if a.shape[1:] != shape:
                raise ValueError(f"class {name!r} has images of shape {a.shape[1:]}, others {shape}; "
                                 "resize them to one size first")
        self.images = images
        self.names = names

    @property
    def num_classes(self):
        return len(self.images)

    @property
    def image_shape(self):
        return tuple(self.images[0].shape[1:])

    def __len__(self):
        return sum(len(a) for a in self.images)

    def __repr__(self):
        return f"ImageClasses({self.num_classes} classes, {len(self)} images of {self.image_shape})"

    @classmethod
    def from_arrays(cls, images, labels):
        """Images (n, H, W, C) or (n, H, W) uint8 with one label (int or class name) per image."""
        images, labels = np.asarray(images), np.asarray(labels)
        if images.ndim == 3:
            images = images[..., None]
        if images.ndim != 4 or len(images) != len(labels):
            raise ValueError(f"expected (n, H, W[, C]) images and n labels, got {images.shape} and {labels.shape}")
        if images.dtype != np.uint8:
            raise ValueError(f"expected uint8 images (0-255), got {images.dtype}")
        classes, index = np.unique(labels, return_inverse=True)
        return cls([images[index == i] for i in range(len(classes))], names=classes.tolist())

    @classmethod
    def from_folder(cls, path, channels=1, size=None, classes=None):
        """Every folder (or archive folder) holding images becomes one class.

        Args:
            path: a folder, a ``.zip`` or a ``.tar``/``.tar.gz`` archive;
                class names are the folder paths inside it, e.g.
                ``images_background_small1/Balinese/character01``.
            channels: 1 (grayscale) or 3 (RGB).
            size: (height, width) to resize to with Lanczos (the SoSN
                pipeline's choice), or None to keep the files' size.
            classes: a predicate on the class name to keep only some.
        """
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        mode = "L" if channels == 1 else "RGB"
        grouped = {}
        for name, read in _members(path):
            folder = name.rsplit("/", 1)[0] if "/" in name else "."
            if classes is not None and not classes(folder):
                continue
            grouped.setdefault(folder, []).append(_convert(_decode(read(), f"{path}:{name}", mode), mode, size))
        if not grouped:
            raise ValueError(f"{path}: no images found")
        names = sorted(grouped)
        shapes = {grouped[n][0].shape for n in names}
        if len(shapes) > 1 and size is None:
            raise ValueError(f"{path}: images have different sizes {sorted(shapes)[:3]}...; pass size=(H, W)")
        return cls([np.stack(grouped[n]) for n in names], names=names)

    @classmethod
    def from_tfds(cls, dataset, split="train", image_key="image", label_key="label", channels=None, size=None,
                  data_dir=None):
        """A tensorflow-datasets dataset: a name for ``tfds.load`` (e.g. ``"omniglot"``) or a prepared builder.

        Labels may be integers or strings (class names). ``channels`` (1 or
        3) and ``size`` (height, width) convert and resize (Lanczos) images.
        Needs the ``data`` extra (tensorflow-datasets).
        """
        tfds = require("tensorflow_datasets", "data")

        if isinstance(dataset, str):
            data = tfds.load(dataset, split=split, data_dir=data_dir)
        else:
            data = dataset.as_dataset(split=split)
        images, labels = [], []
        for example in tfds.as_numpy(data):
            image = example[image_key]
            if channels is not None or size is not None:
                image = _convert(image, {1: "L", 3: "RGB"}[channels or image.shape[-1]], size)
            images.append(image)
            label = example[label_key]
            labels.append(label.decode() if isinstance(label, bytes) else label)
        if not images:
            raise ValueError(f"{dataset}: split {split!r} is empty")
        if len({i.shape for i in images}) > 1:
            raise ValueError(f"{dataset}: images have different sizes; pass size=(H, W)")
        return cls.from_arrays(np.stack(images), np.asarray(labels))

    def subset(self, indices):
        """The classes at ``indices``, in that order."""
        return ImageClasses([self.images[i] for i in indices], [self.names[i] for i in indices])

    def split(self, fractions_or_counts, seed=0):
        """Disjoint class splits, shuffled with ``seed``: e.g. ``split([200, 42])``."""
        order = np.random.default_rng(seed).permutation(self.num_classes)
        counts = [int(round(f * self.num_classes)) if isinstance(f, float) else int(f) for f in fractions_or_counts]
        if sum(counts) > self.num_classes:
            raise ValueError(f"split {counts} needs {sum(counts)} classes, the pool has {self.num_classes}")
        bounds = np.cumsum([0] + counts)
        return [self.subset(order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]

    def with_rotations(self, angles=(0, 90, 180, 270)):
        """Each class rotated by each angle (multiples of 90°) as a new class."""
        out, names = [], []
        for angle in angles:
            if angle % 90:
                raise ValueError(f"rotations must be multiples of 90 degrees, got {angle}")
            for name, a in zip(self.names, self.images):
                out.append(np.rot90(a, k=angle // 90, axes=(1, 2)).copy())
                names.append(name if angle == 0 else f"{name}@rot{angle}")
        return ImageClasses(out, names)

    def resized(self, size):
        """All images resized to (height, width) with Lanczos."""
        mode = "L" if self.image_shape[-1] == 1 else "RGB"
        return ImageClasses([np.stack([_convert(i, mode, size) for i in a]) for a in self.images], self.names)
