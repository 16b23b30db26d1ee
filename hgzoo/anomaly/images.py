"""Behaviour images: the 120 Table-1 features of a user-day as a 12×12 grayscale image.

The paper turns each user-day into a small grayscale image but publishes
neither its size nor its scaling (``papers.md`` §15). hgzoo's choice:

- layout: row ``w * 3 + s`` holds time window ``w`` (work hours, after hours,
  weekend, whole) and PC scope ``s`` (own, other, whole); column ``a`` holds
  activity counter ``a`` of :data:`~hgzoo.anomaly.features.ACTIVITIES`; the
  12×10 grid is widened to a square 12×12 (90° rotations must keep the shape)
  by nearest-neighbour resampling of its columns (``COLUMN_SOURCE``): zero
  padding would be a constant stripe that gives every transformation away,
  so the classifier would be sure of every day, normal or not;
- scaling: ``log1p(count) / log1p(scale_j)`` clipped to [0, 1], with
  ``scale_j`` the largest value of feature ``j`` on the training data (at
  least 1): counts are heavy-tailed, and the log keeps a day with 3 and one
  with 300 web visits apart without letting the 300 flatten everything else.

Example:

>>> import numpy as np
>>> encoder = BehaviourImageEncoder().fit(np.ones((4, 120)) * np.arange(120))
>>> images = encoder.transform(np.ones((2, 120)) * np.arange(120))
>>> images.shape, float(images.max())
((2, 12, 12, 1), 1.0)
"""

import json
import os
import pathlib

import numpy as np

from hgzoo.anomaly.features import ACTIVITIES, NUM_FEATURES, SCOPES, WINDOWS
from hgzoo.files import replace_atomically

ROWS, COLUMNS = len(WINDOWS) * len(SCOPES), len(ACTIVITIES)
IMAGE_SIZE = max(ROWS, COLUMNS)
COLUMN_SOURCE = [j * COLUMNS // IMAGE_SIZE for j in range(IMAGE_SIZE)]  # image column -> activity column


class BehaviourImageEncoder:
    """Scales Table-1 features (fit on normal training days) and lays them out as 12×12 images.

    The paper publishes neither the image size nor the scaling; hgzoo's
    choices (detailed in this module's docstring): rows are time window ×
    PC scope, the ten activity columns are widened to twelve by
    nearest-neighbour resampling (zero padding would give every
    transformation away), and pixels are ``log1p(count) / log1p(max on the
    training days)`` clipped to [0, 1] (counts are heavy-tailed).

    Example:

    >>> import numpy as np
    >>> encoder = BehaviourImageEncoder().fit(np.full((3, 120), 9.0))
    >>> round(float(encoder.transform(np.full((1, 120), 9.0))[0, 0, 0, 0]), 3)
    1.0
    """

    def __init__(self, scale=None):
        self.scale = None if scale is None else np.asarray(scale, np.float64)

    def fit(self, features):
        features = _check(features, "features")
        if not len(features):
            raise ValueError("BehaviourImageEncoder.fit needs at least one user-day")
        self.scale = np.maximum(features.max(axis=0), 1.0)
        return self

    def transform(self, features):
        if self.scale is None:
            raise ValueError("call BehaviourImageEncoder.fit(training features) before transform")
        x = np.clip(np.log1p(_check(features, "features")) / np.log1p(self.scale), 0.0, 1.0)
        grid = x.reshape(len(x), ROWS, COLUMNS)[:, :, COLUMN_SOURCE]
        return grid[..., None].astype(np.float32)

    def save(self, path):
        replace_atomically(os.fspath(path), lambda tmp: pathlib.Path(tmp).write_text(
            json.dumps({"scale": self.scale.tolist()})), suffix=".json")

    @classmethod
    def load(cls, path):
        with open(path) as f:
            scale = json.load(f).get("scale")
        if scale is None or len(scale) != NUM_FEATURES:
            raise ValueError(f"{path} holds no {NUM_FEATURES}-feature image scale")
        return cls(scale)


def _check(features, name):
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or features.shape[1] != NUM_FEATURES:
        raise ValueError(f"{name} must be (user-days, {NUM_FEATURES}) Table-1 counts, got shape {features.shape}")
    if not np.all(np.isfinite(features)) or (features < 0).any():
        raise ValueError(f"{name} must be finite non-negative counts")
    return features


def check_images(images, size=IMAGE_SIZE):
    """``images`` as float32 (B, size, size, 1) in [0, 1], or a ValueError saying what is wrong."""
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[1:] != (size, size, 1):
        raise ValueError(f"behaviour images must be (B, {size}, {size}, 1), got shape {images.shape}: encode "
                         f"Table-1 features with BehaviourImageEncoder")
    if not np.all(np.isfinite(images)) or images.min(initial=0) < 0 or images.max(initial=0) > 1:
        raise ValueError("behaviour images must be finite and in [0, 1] (BehaviourImageEncoder scales them so)")
    return images
