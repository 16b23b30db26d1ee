"""The official ZSKL pre-processing of features and class attributes (``zskl_gaussian_ort.m``).

Features: minus the mean of the *trainval* features, then each sample ℓ2-normalised.
Attributes: minus the mean over *all* classes, then each class ℓ2-normalised.
Rows are samples / classes here (the ``.mat`` files store them as columns).

Example:

>>> import numpy as np
>>> x = normalise_features(np.array([[1.0, 0.0], [3.0, 0.0], [2.0, 2.0]]), fit_rows=[0, 1])
>>> np.round(x, 3).tolist()
[[-1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
>>> np.linalg.norm(normalise_attributes(np.array([[1.0, 2.0], [3.0, 5.0]])), axis=1).round(6).tolist()
[1.0, 1.0]
"""

import numpy as np


def _unit_rows(x):
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)  # an all-zero row stays zero instead of becoming NaN


def normalise_features(features, fit_rows=None):
    """``features`` (N, D) minus the mean of ``features[fit_rows]`` (all rows when None), rows ℓ2-normalised.

    The official code centres on the trainval samples (labels are not used, only which samples).
    """
    x = np.asarray(features, np.float64)
    mean = x[np.asarray(fit_rows)].mean(axis=0) if fit_rows is not None else x.mean(axis=0)
    return _unit_rows(x - mean)


def normalise_attributes(attributes):
    """``attributes`` (C, A) minus the mean class, each class ℓ2-normalised."""
    a = np.asarray(attributes, np.float64)
    return _unit_rows(a - a.mean(axis=0))
