"""DistilledSet: the synthetic images of a distillation run, and reading/writing them.

Saved as ``distilled.npz`` (standardised images, labels, mean, std, class
names, iteration, history) plus one PNG grid per class for looking at.
Files are replaced atomically, so an interrupted write never leaves a
half-written set.

Example:

>>> import numpy as np, tempfile
>>> from hgzoo.distill import DistilledSet
>>> s = DistilledSet(np.zeros((2, 4, 4, 3), "float32"), np.array([0, 1]), (0.5,) * 3, (0.25,) * 3)
>>> s.pixels().dtype, s.pixels()[0, 0, 0].tolist()
(dtype('uint8'), [128, 128, 128])
>>> path = s.save(tempfile.mkdtemp())
>>> DistilledSet.load(path).labels.tolist()
[0, 1]
"""

import dataclasses
import json
import os
import zipfile

import numpy as np

from hgzoo.data.images import write_image
from hgzoo.errors import ResumeError
from hgzoo.files import replace_atomically

FILENAME = "distilled.npz"
KEYS = ("images", "labels", "mean", "std", "meta")


@dataclasses.dataclass
class DistilledSet:
    """Synthetic images (standardised, NHWC float32) with their labels and the standardisation.

    Attributes:
        images: (N, H, W, C) float32, ``(pixels/255 − mean) / std``: what the
            evaluation networks train on.
        labels: (N,) int32, ``images_per_class`` of each class in order.
        mean, std: per-channel standardisation of the dataset.
        class_names: names for the PNG grids (``class_<k>`` if empty).
        iteration: distillation iterations done.
        history: ``[{"iteration": i, "loss": l}, ...]``.

    Example:

    >>> import numpy as np
    >>> DistilledSet(np.zeros((1, 2, 2, 3), "float32"), np.array([0]), (0,) * 3, (1,) * 3).images_per_class
    1
    """

    images: np.ndarray
    labels: np.ndarray
    mean: tuple
    std: tuple
    class_names: list = dataclasses.field(default_factory=list)
    iteration: int = 0
    history: list = dataclasses.field(default_factory=list)

    @property
    def images_per_class(self):
        return int(np.bincount(np.asarray(self.labels)).max())

    def pixels(self):
        """The images as uint8 pixels (clipped to [0, 255])."""
        x = np.asarray(self.images, "float32") * np.asarray(self.std, "float32") + np.asarray(self.mean, "float32")
        return np.round(np.clip(x, 0.0, 1.0) * 255).astype(np.uint8)

    def arrays(self):
        meta = {"class_names": list(self.class_names), "iteration": int(self.iteration), "history": self.history}
        return {"images": np.asarray(self.images, "float32"), "labels": np.asarray(self.labels, "int32"),
                "mean": np.asarray(self.mean, "float32"), "std": np.asarray(self.std, "float32"),
                "meta": np.array(json.dumps(meta))}

    def save(self, folder):
        """Write ``folder/distilled.npz`` and ``folder/class_<k>_<name>.png`` grids; returns the npz path."""
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, FILENAME)
        write_npz(path, self.arrays())
        pixels, labels = self.pixels(), np.asarray(self.labels)
        for k in np.unique(labels):
            name = self.class_names[k] if k < len(self.class_names) else f"class_{k}"
            safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(name))
            write_image(os.path.join(folder, f"class_{k:02d}_{safe}.png"), grid(pixels[labels == k]))
        return path

    @classmethod
    def load(cls, path):
        """Read a ``distilled.npz`` (or a checkpoint); :class:`~hgzoo.errors.ResumeError` when it is no such file."""
        arrays = read_npz(path, KEYS)
        meta = json.loads(str(arrays["meta"]))
        return cls(arrays["images"], arrays["labels"], tuple(arrays["mean"].tolist()), tuple(arrays["std"].tolist()),
                   meta.get("class_names", []), int(meta.get("iteration", 0)), meta.get("history", []))


def write_npz(path, arrays):
    """``np.savez`` through :func:`hgzoo.files.replace_atomically` (a kill mid-write keeps the old file)."""
    replace_atomically(path, lambda tmp: np.savez(tmp, **arrays), suffix=".npz")


def read_npz(path, keys):
    """The arrays of an npz holding at least ``keys``; one clear :class:`ResumeError` for any broken file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ResumeError(f"{path}: no such file; give the distilled.npz (or checkpoint.npz) a run wrote")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in keys if k not in data.files]
            if missing:
                raise ResumeError(f"{path}: not a distilled set (no {', '.join(missing)}); give the .npz "
                                  f"hgzoo.distill wrote, or delete it to start afresh")
            return {k: data[k] for k in data.files}
    except ResumeError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise ResumeError(f"{path}: corrupt or truncated ({type(e).__name__}: {e}); delete it to start afresh "
                          f"(a complete earlier copy is never overwritten by a half-written one)") from e


def grid(images, columns=10):
    """Tile (N, H, W, C) uint8 images into one picture, ``columns`` per row, with 2-pixel gaps."""
    n, h, w, c = images.shape
    columns = min(columns, n)
    rows = -(-n // columns)
    out = np.full((rows * (h + 2) - 2, columns * (w + 2) - 2, c), 255, np.uint8)
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        out[r * (h + 2):r * (h + 2) + h, col * (w + 2):col * (w + 2) + w] = image
    return out
