"""The GBU protocol's metrics (Xian et al.): per-class mean accuracy, and u / s / H for GZSL.

Per-class mean accuracy averages, over the classes present in ``y_true``,
the fraction of each class's samples predicted correctly, so large classes
do not dominate. In GZSL every test sample is classified over *all* classes
(seen and unseen): u is the per-class accuracy on the unseen-class test
samples, s on the seen-class test samples, H = 2us/(u+s) (0 when both are 0).

Example:

>>> import numpy as np
>>> per_class_accuracy([0, 0, 0, 1], [0, 0, 1, 1])  # class 0: 2/3, class 1: 1/1
0.8333333333333333
>>> harmonic_mean(0.5, 1.0)
0.6666666666666666
"""

import numpy as np


def per_class_accuracy(y_true, y_pred):
    """Mean over the classes in ``y_true`` of each class's accuracy."""
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {y_true.size} and {y_pred.size}")
    if y_true.size == 0:
        raise ValueError("per_class_accuracy of no samples")
    return float(np.mean([np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)]))


def harmonic_mean(u, s):
    """H = 2us / (u + s), 0 when u + s = 0."""
    return 0.0 if u + s == 0 else 2.0 * u * s / (u + s)


def gzsl_metrics(unseen_true, unseen_pred, seen_true, seen_pred):
    """``{"u", "s", "H"}`` from predictions over all classes of the unseen- and seen-class test samples."""
    u, s = per_class_accuracy(unseen_true, unseen_pred), per_class_accuracy(seen_true, seen_pred)
    return {"u": u, "s": s, "H": harmonic_mean(u, s)}
