"""Per-class scatter statistics of a batch and the So-HoT scatter alignment loss, in ``keras.ops``.

Koniusz et al. (So-HoT, CVPR 2017; Open MIC, ECCV 2018; ``papers.md`` §11) align
the within-class scatter matrices of a source and a target network stream
class by class, align their means, and keep different classes apart. No code
was released; the choices made here are listed in
:func:`scatter_alignment_loss`.

Labels are integers in ``[0, num_classes)``; ``-1`` marks a padding sample
that takes part in nothing (the supervised-DA pipeline pads target batches
with it when K is smaller than the per-class batch share).

Example:

>>> import numpy as np
>>> from hgzoo.domain.scatter import class_statistics, scatter_alignment_loss
>>> x = np.array([[0., 0.], [2., 0.], [5., 5.], [9., 9.]], "float32"); y = np.array([0, 0, 1, -1])
>>> counts, means, scatters = class_statistics(x, y, num_classes=2)
>>> np.asarray(counts).tolist(), np.asarray(means).tolist()
([2.0, 1.0], [[1.0, 0.0], [5.0, 5.0]])
>>> np.asarray(scatters)[0].tolist()  # unbiased within-class scatter of class 0
[[2.0, 0.0], [0.0, 0.0]]
>>> float(scatter_alignment_loss(x, y, x, y, 2, separation_weight=0.0))  # identical streams
0.0
"""

import keras
import numpy as np
from keras import ops

from hgzoo.domain.divergences import _FUNCTIONS, check_divergence

DEFAULT_RIDGE = 0.1  # relative: a tenth of the mean eigenvalue


def class_statistics(features, labels, num_classes):
    """Per-class counts ``(C,)``, means ``(C, d)`` and unbiased scatter matrices ``(C, d, d)``, in float32.

    A class with fewer than two samples gets a zero scatter (and a zero mean
    when it has none); callers mask such classes out with ``counts``.
    """
    x = ops.cast(features, "float32")
    labels = ops.cast(labels, "int32")
    member = ops.one_hot(ops.maximum(labels, 0), num_classes, dtype="float32")
    member = member * ops.cast(labels >= 0, "float32")[:, None]  # (B, C); padding rows are all zero
    counts = ops.sum(member, axis=0)
    means = ops.matmul(ops.transpose(member), x) / ops.maximum(counts, 1.0)[:, None]
    centred = (x[None, :, :] - means[:, None, :]) * ops.transpose(member)[:, :, None]  # (C, B, d)
    scatters = ops.einsum("cbi,cbj->cij", centred, centred) / ops.maximum(counts - 1.0, 1.0)[:, None, None]
    return counts, means, scatters


def relative_ridge(scatters, eps, floor=1e-6):
    """``Σ + (eps · tr(Σ)/d + floor) · I``: a ridge proportional to the mean eigenvalue.

    Why relative: a batch scatter of n < d samples is singular, and with a
    fixed ridge the log-determinant and Riemannian divergences are smallest
    when both streams shrink their features to zero (both scatters become
    the ridge), which training then does. With a ridge proportional to the
    scale, ``D(cA, cB) = D(A, B)`` for JBLD, AIRM and log-Euclidean, so
    shrinking gains nothing; ``floor`` keeps an all-zero scatter invertible.
    """
    x = ops.cast(scatters, "float32")
    d = x.shape[-1]
    scale = ops.trace(x, axis1=-2, axis2=-1) / float(d)
    return x + (eps * scale + floor)[..., None, None] * ops.eye(d, dtype="float32")


def _masked_mean(values, mask):
    return ops.sum(values * mask) / ops.maximum(ops.sum(mask), 1.0)


def check_streams(source_features, target_features):
    """ValueError when the two streams' feature widths differ (they must share one feature space)."""
    ds, dt = source_features.shape[-1], target_features.shape[-1]
    if ds is not None and dt is not None and int(ds) != int(dt):
        raise ValueError(f"source features are {ds} wide but target features {dt}: scatter alignment compares "
                         "matrices of one feature space; give both streams the same feature width")


def scatter_alignment_terms(source_features, source_labels, target_features, target_labels, num_classes,
                            divergence="log_euclidean", margin=1.0, eps=DEFAULT_RIDGE):
    """The three unweighted terms of :func:`scatter_alignment_loss`: ``{"scatter", "mean", "separation"}``."""
    check_divergence(divergence)
    check_streams(source_features, target_features)
    ns, mu_s, sc_s = class_statistics(source_features, source_labels, num_classes)
    nt, mu_t, sc_t = class_statistics(target_features, target_labels, num_classes)
    both = ops.cast((ns >= 1) & (nt >= 1), "float32")
    both_scatter = ops.cast((ns >= 2) & (nt >= 2), "float32")
    # Per feature dimension, so one weight suits every feature width.
    divergences = _FUNCTIONS[divergence](relative_ridge(sc_s, eps), relative_ridge(sc_t, eps)) / float(sc_s.shape[-1])
    scatter = _masked_mean(divergences, both_scatter)
    distances = ops.sum(ops.square(mu_s[:, None, :] - mu_t[None, :, :]), axis=-1)  # (C source, C target)
    mean = _masked_mean(ops.diagonal(distances), both)
    present = ops.cast(ns >= 1, "float32")[:, None] * ops.cast(nt >= 1, "float32")[None, :]
    other = present * (1.0 - ops.eye(num_classes, dtype="float32"))
    separation = _masked_mean(ops.relu(margin - distances), other)
    return {"scatter": scatter, "mean": mean, "separation": separation}


def scatter_alignment_loss(source_features, source_labels, target_features, target_labels, num_classes,
                           divergence="log_euclidean", scatter_weight=0.1, mean_weight=1.0, separation_weight=0.1,
                           margin=1.0, eps=DEFAULT_RIDGE):
    """So-HoT's alignment loss between a source and a target batch of features (``(B, d)`` each).

    ``scatter_weight · scatter + mean_weight · mean + separation_weight · separation``, where

    - ``scatter``: the mean, over classes with at least two samples in *both*
      streams, of ``D(R(Σˢ_c), R(Σᵗ_c)) / d`` with ``D`` the chosen SPD
      divergence, ``Σ_c`` the unbiased within-class scatter of the batch,
      ``R`` the :func:`relative_ridge` with ``eps`` and ``d`` the feature
      width (so one weight suits every width).
      Classes with fewer samples add nothing (no NaN): with one labelled
      target sample per class (K=1) the term is zero and the loss reduces to
      the mean and separation terms;
    - ``mean`` (first order): the mean over classes present in both streams
      of ``‖μˢ_c − μᵗ_c‖²``;
    - ``separation`` (between classes): the mean over pairs ``c ≠ c'``
      present in the two streams of ``max(0, margin − ‖μˢ_c − μᵗ_c'‖²)``.
      The papers keep between-class scatters apart without a published
      formula; a hinge on cross-domain class means is the choice here because
      it is defined for every K, including K=1 where a target scatter is not.

    Returns a float32 scalar. Feature widths must agree (ValueError otherwise).
    """
    terms = scatter_alignment_terms(source_features, source_labels, target_features, target_labels, num_classes,
                                    divergence, margin, eps)
    return (scatter_weight * terms["scatter"] + mean_weight * terms["mean"]
            + separation_weight * terms["separation"])


def check_labels(labels, num_classes, what="labels"):
    """ValueError unless concrete ``labels`` are integers in ``[-1, num_classes)`` (-1: padding)."""
    y = np.asarray(keras.ops.convert_to_numpy(labels))
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < -1 or y.max() >= num_classes):
        raise ValueError(f"{what} must be integers in [0, {num_classes}) (or -1 for padding), "
                         f"got values in [{y.min()}, {y.max()}] of dtype {y.dtype}")
    return y
