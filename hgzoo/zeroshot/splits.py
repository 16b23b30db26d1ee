"""The GBU data (Xian et al.): ``att_splits.mat`` + ``res101.mat``, their checks, and :class:`ZSLData`.

``att_splits.mat`` holds ``att`` (A × C class attributes), ``allclasses_names``
and the proposed splits as 1-based sample indices: ``trainval_loc``,
``train_loc``, ``val_loc`` (validation classes, disjoint from the train
classes), ``test_seen_loc`` and ``test_unseen_loc``. ``res101.mat`` holds
``features`` (2048 × N, ResNet-101) and ``labels`` (N × 1, 1-based classes).
hgzoo keeps samples and classes as rows and labels 0-based.

Example:

>>> import numpy as np
>>> data = ZSLData(features=np.random.rand(6, 4), labels=np.array([0, 0, 1, 1, 2, 2]),
...                attributes=np.random.rand(3, 2),
...                splits={"trainval": [0, 2], "test_seen": [1, 3], "test_unseen": [4, 5]})
>>> data.seen_classes.tolist(), data.unseen_classes.tolist()
([0, 1], [2])
"""

import dataclasses
import os

import numpy as np

from hgzoo.config import require
from hgzoo.errors import HgzooError

SPLIT_KEYS = ("trainval_loc", "train_loc", "val_loc", "test_seen_loc", "test_unseen_loc")
REQUIRED_SPLITS = ("trainval", "test_seen", "test_unseen")
GBU_DOWNLOAD = ("the GBU benchmark's xlsa17 archive (Xian et al., 'Zero-Shot Learning - The Good, the Bad and "
                "the Ugly', CVPR 2017 project page): unpack xlsa17/data/<DATASET>/res101.mat")


class InvalidZSLDataError(HgzooError, ValueError):
    """A zero-shot data file or array that is missing a key or whose classes, splits or values do not agree."""


def _loadmat(path, what):
    io = require("scipy.io", "zeroshot")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} {path} not found")
    try:
        return io.loadmat(path)
    except Exception as e:  # scipy raises ValueError, TypeError, MatReadError... for a file that is no .mat
        raise InvalidZSLDataError(f"{path} is not a readable MATLAB .mat file ({type(e).__name__}: {e})") from e


def _key(mat, key, path):
    if key not in mat:
        present = sorted(k for k in mat if not k.startswith("__"))
        raise InvalidZSLDataError(f"{path} has no key {key!r} (keys: {present}); use the GBU file from "
                                  f"{GBU_DOWNLOAD.split(':')[0]}")
    return mat[key]


def _indices(value, key, path):
    idx = np.asarray(value).reshape(-1).astype(np.int64)
    if idx.size and idx.min() < 1:
        raise InvalidZSLDataError(f"{path}: {key} must hold 1-based MATLAB indices, found {idx.min()}")
    return idx - 1


def load_att_splits(path):
    """``{"attributes": (C, A), "class_names": [...], "splits": {name: 0-based sample indices}}`` of an
    ``att_splits.mat``."""
    mat = _loadmat(path, "att_splits file")
    att = np.asarray(_key(mat, "att", path), np.float64)
    if att.ndim != 2:
        raise InvalidZSLDataError(f"{path}: 'att' must be an attributes × classes matrix, got shape {att.shape}")
    splits = {key[:-4]: _indices(_key(mat, key, path), key, path) for key in SPLIT_KEYS
              if key in mat or key[:-4] in REQUIRED_SPLITS}
    names = [str(np.ravel(n)[0]) if np.size(n) else "" for n in np.ravel(mat["allclasses_names"])] \
        if "allclasses_names" in mat else [f"class_{i}" for i in range(att.shape[1])]
    return {"attributes": att.T, "class_names": names, "splits": splits}


def load_features(path):
    """``(features (N, D), labels (N,) 0-based)`` of a ``res101.mat``-style file."""
    if not os.path.isfile(os.fspath(path)):
        raise FileNotFoundError(f"image features {path} not found: hgzoo does not ship the GBU ResNet-101 "
                                f"features; download {GBU_DOWNLOAD} and put it at {path}")
    mat = _loadmat(path, "features file")
    features = np.asarray(_key(mat, "features", path), np.float64)
    labels = _indices(_key(mat, "labels", path), "labels", path)
    if features.ndim != 2 or features.shape[1] != labels.size:
        raise InvalidZSLDataError(f"{path}: 'features' must be D × N with N = {labels.size} labels, got shape "
                                  f"{features.shape}")
    return features.T, labels


def load_gbu(folder, features="res101.mat", att_splits="att_splits.mat"):
    """A GBU dataset folder (``att_splits.mat`` + ``res101.mat``) as :class:`ZSLData`, not yet pre-processed.

    Args:
        folder: e.g. ``xlsa17/data/AWA2``.
        features, att_splits: the file names inside ``folder`` (or paths).
    """
    att_path, feat_path = (os.path.join(os.fspath(folder), f) for f in (att_splits, features))
    meta = load_att_splits(att_path)
    x, y = load_features(feat_path)
    return ZSLData(x, y, meta["attributes"], meta["splits"], meta["class_names"],
                   source=f"{feat_path} + {att_path}")


@dataclasses.dataclass
class ZSLData:
    """Features, labels, class attributes and splits of one zero-shot dataset (checked on construction).

    Attributes:
        features: (N, D) image features, or None (splits and attributes only).
        labels: (N,) int, 0-based rows of ``attributes``.
        attributes: (C, A) class embeddings (attributes or text embeddings).
        splits: ``{name: 0-based sample indices}``: at least ``trainval``,
            ``test_seen``, ``test_unseen``; ``train`` / ``val`` for validation.
        class_names: C names.
        source: where the data came from (named in errors).

    Example:

    >>> import numpy as np
    >>> data = ZSLData(np.random.rand(4, 3), np.array([0, 1, 2, 2]), np.random.rand(3, 2),
    ...                {"trainval": [0, 1], "test_seen": [0, 1], "test_unseen": [2, 3]})
    >>> x, y = data.split("test_unseen")
    >>> x.shape, y.tolist()
    ((2, 3), [2, 2])
    """

    features: np.ndarray
    labels: np.ndarray
    attributes: np.ndarray
    splits: dict
    class_names: list = None
    source: str = "arrays"

    def __post_init__(self):
        self.attributes = np.asarray(self.attributes, np.float64)
        self.labels = np.asarray(self.labels).reshape(-1).astype(np.int64)
        self.splits = {k: np.asarray(v, np.int64).reshape(-1) for k, v in self.splits.items()}
        if self.features is not None:
            self.features = np.asarray(self.features, np.float64)
        if self.class_names is None:
            self.class_names = [f"class_{i}" for i in range(len(self.attributes))]
        self.check()

    def check(self):
        """Raise :class:`InvalidZSLDataError` naming the problem and its fix."""
        where = self.source
        if self.attributes.ndim != 2 or not np.isfinite(self.attributes).all():
            raise InvalidZSLDataError(f"{where}: attributes must be a finite classes × attributes matrix, got "
                                      f"shape {self.attributes.shape}")
        c = len(self.attributes)
        if self.labels.size and (self.labels.min() < 0 or self.labels.max() >= c):
            raise InvalidZSLDataError(
                f"{where}: the attribute matrix has {c} classes but the labels go from {self.labels.min()} to "
                f"{self.labels.max()}: labels must index its rows (0-based; .mat files are read 1-based)")
        if self.features is not None:
            if self.features.ndim != 2 or len(self.features) != self.labels.size:
                raise InvalidZSLDataError(f"{where}: features must be N × D with N = {self.labels.size} labels, "
                                          f"got shape {self.features.shape}")
            bad = ~np.isfinite(self.features).all(axis=1)
            if bad.any():
                raise InvalidZSLDataError(f"{where}: {bad.sum()} feature rows hold NaN or infinite values (first: "
                                          f"row {int(np.argmax(bad))}); drop or repair those samples")
        missing = [k for k in REQUIRED_SPLITS if k not in self.splits]
        if missing:
            raise InvalidZSLDataError(f"{where}: splits {missing} missing (give trainval, test_seen, test_unseen)")
        for name, idx in self.splits.items():
            if idx.size and (idx.min() < 0 or idx.max() >= self.labels.size):
                raise InvalidZSLDataError(f"{where}: split {name!r} indexes samples up to {idx.max()} but there "
                                          f"are {self.labels.size} samples")
        overlap = np.intersect1d(self.seen_classes, self.unseen_classes)
        if overlap.size:
            raise InvalidZSLDataError(f"{where}: unseen classes {overlap.tolist()} also occur in trainval (seen); "
                                      "zero-shot needs disjoint seen and unseen classes: fix the splits")
        if "train" in self.splits and "val" in self.splits:
            both = np.intersect1d(self.classes_of("train"), self.classes_of("val"))
            if both.size:
                raise InvalidZSLDataError(f"{where}: validation classes {both.tolist()} also occur in train; the "
                                          "val split must hold classes unseen in train")

    def classes_of(self, split):
        """Sorted classes of the samples of ``split``."""
        return np.unique(self.labels[self.splits[split]])

    @property
    def seen_classes(self):
        return self.classes_of("trainval")

    @property
    def unseen_classes(self):
        return self.classes_of("test_unseen")

    def split(self, name):
        """``(features, labels)`` of a split (labels 0-based over all classes)."""
        if self.features is None:
            raise InvalidZSLDataError(f"{self.source}: no features loaded (load res101.mat with load_gbu)")
        if name not in self.splits:
            raise InvalidZSLDataError(f"{self.source}: no split {name!r}; splits: {sorted(self.splits)}")
        idx = self.splits[name]
        return self.features[idx], self.labels[idx]

    def preprocessed(self):
        """A copy pre-processed as the official ZSKL code: features centred on trainval and ℓ2-normalised,
        attributes centred over all classes and ℓ2-normalised."""
        from hgzoo.zeroshot.preprocessing import normalise_attributes, normalise_features

        features = None if self.features is None else normalise_features(self.features, self.splits["trainval"])
        return dataclasses.replace(self, features=features, attributes=normalise_attributes(self.attributes))
