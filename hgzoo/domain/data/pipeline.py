"""Supervised domain adaptation data: all labelled source samples plus K labelled target samples per class.

:func:`few_shot_split` picks the K labelled target samples per class (the rest
are the target test set); :func:`supervised_da_dataset` makes the endless
``tf.data`` stream of paired batches that
:class:`~hgzoo.domain.ScatterAlignmentNet` trains on: every batch holds
``per_class`` source and ``per_class`` target samples of each class, the
target ones distinct; when K is smaller than ``per_class`` the remaining
target rows are padding (zero images, label -1) that no loss term sees.

Example:

>>> import numpy as np
>>> from hgzoo.domain.data import few_shot_split, supervised_da_dataset
>>> y = np.repeat(np.arange(3), 4); x = np.random.rand(12, 8, 8, 1).astype("float32")
>>> (train_x, train_y), (test_x, test_y) = few_shot_split(x, y, k=1, seed=0)
>>> train_y.tolist(), len(test_y)
([0, 1, 2], 9)
>>> (source, target), labels = next(iter(supervised_da_dataset(x, y, train_x, train_y, per_class=2)))
>>> tuple(source.shape), tuple(labels.shape), sorted(labels.numpy()[:, 1].tolist())
((6, 8, 8, 1), (6, 2), [-1, -1, -1, 0, 1, 2])
"""

import numpy as np

from hgzoo.config import require


def _check_pair(images, labels, what):
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim < 2 or len(images) != len(labels):
        raise ValueError(f"{what}: {len(images)} images but {len(labels)} labels")
    if not np.issubdtype(labels.dtype, np.integer) or (labels.size and labels.min() < 0):
        raise ValueError(f"{what}: labels must be non-negative integers, got dtype {labels.dtype}")
    if not np.all(np.isfinite(images)):
        raise ValueError(f"{what}: images contain NaN or infinite values")
    return images.astype(np.float32), labels.astype(np.int32)


def check_domains(source_images, source_labels, target_images, target_labels, num_classes=None):
    """Validate a supervised-DA problem; returns ``num_classes``.

    ValueError when a domain's arrays disagree, when the two domains' images
    have different shapes (resize them to one size first), or when the
    labelled target set misses a class that the source has (each class needs
    at least one labelled target sample).
    """
    xs, ys = _check_pair(source_images, source_labels, "source")
    xt, yt = _check_pair(target_images, target_labels, "target")
    if xs.shape[1:] != xt.shape[1:]:
        raise ValueError(f"source images are {xs.shape[1:]} but target images {xt.shape[1:]}: resize both domains "
                         "to one size (e.g. hgzoo.domain.data.load_digit_domain(name, size=16))")
    num_classes = int(num_classes or max(ys.max(initial=-1), yt.max(initial=-1)) + 1)
    missing = sorted(set(range(num_classes)) - set(yt.tolist()))
    if missing:
        raise ValueError(f"the labelled target set has no sample of class(es) {missing}; supervised domain "
                         "adaptation needs at least one labelled target sample per class")
    if ys.max(initial=-1) >= num_classes or yt.max(initial=-1) >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes})")
    return num_classes


def few_shot_split(images, labels, k, seed=0):
    """``((labelled images, labels), (test images, labels))``: K random samples of every class, and the rest."""
    images, labels = _check_pair(images, labels, "target")
    if int(k) < 1:
        raise ValueError(f"k must be at least 1 labelled target sample per class, got {k}")
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if len(members) <= k:
            raise ValueError(f"class {c} has {len(members)} target samples: too few for k={k} plus a test set")
        chosen.extend(rng.choice(members, int(k), replace=False))
    chosen = np.sort(np.asarray(chosen))
    rest = np.setdiff1d(np.arange(len(labels)), chosen)
    return (images[chosen], labels[chosen]), (images[rest], labels[rest])


def supervised_da_dataset(source_images, source_labels, target_images, target_labels, per_class=4, seed=0,
                          num_classes=None):
    """Endless ``tf.data`` of ``((source batch, target batch), labels (B, 2))`` with B = ``per_class`` × classes.

    Each batch draws ``per_class`` source samples of every class (without
    replacement when the class has enough) and ``min(per_class, K)`` distinct
    labelled target samples of every class, padded to ``per_class`` rows with
    zero images labelled -1. Rows pair a source and a target sample of the same class.
    """
    tf = require("tensorflow", "core")
    num_classes = check_domains(source_images, source_labels, target_images, target_labels, num_classes)
    xs, ys = _check_pair(source_images, source_labels, "source")
    xt, yt = _check_pair(target_images, target_labels, "target")
    if int(per_class) < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}")
    per_class = int(per_class)
    source_members = [np.flatnonzero(ys == c) for c in range(num_classes)]
    target_members = [np.flatnonzero(yt == c) for c in range(num_classes)]
    empty = [c for c, m in enumerate(source_members) if not len(m)]
    if empty:
        raise ValueError(f"the source set has no sample of class(es) {empty}")
    padding = np.zeros((1, *xt.shape[1:]), np.float32)

    def batches():
        rng = np.random.default_rng(seed)
        while True:
            s_rows, t_rows, t_labels = [], [], []
            for c in range(num_classes):
                src, tgt = source_members[c], target_members[c]
                s_rows.append(rng.choice(src, per_class, replace=len(src) < per_class))
                n = min(per_class, len(tgt))
                t_rows.append(rng.choice(tgt, n, replace=False))
                t_labels.append(np.concatenate([np.full(n, c), np.full(per_class - n, -1)]))
            s_rows, t_labels = np.concatenate(s_rows), np.concatenate(t_labels)
            target = np.concatenate([np.concatenate([xt[r], np.repeat(padding, per_class - len(r), 0)])
                                     for r in t_rows])
            yield (xs[s_rows], target), np.stack([ys[s_rows], t_labels], axis=1).astype(np.int32)

    b = per_class * num_classes
    spec = tf.TensorSpec((b, *xs.shape[1:]), tf.float32)
    return tf.data.Dataset.from_generator(
        batches, output_signature=((spec, spec), tf.TensorSpec((b, 2), tf.int32))).prefetch(2)
