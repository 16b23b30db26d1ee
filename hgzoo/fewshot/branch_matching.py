"""Layers that combine several second-order branches (level × scale) of one few-shot model.

- :class:`BranchMatching`: per (class, query) pair, a learned soft-max over the
  branches' relation scores weights the branches (MlSo's feature matching).
- :class:`BranchDiscriminator`: a self-supervised head that predicts which
  branch (level and scale) a representation came from; its cross-entropy is
  added with ``add_loss`` while training and the representations pass through
  unchanged, so it sits on the model's path and runs inside ``fit``.

Example:

>>> import numpy as np
>>> scores = np.array([[0.9], [0.1], [0.5], [0.5]], "float32")  # 2 branches × 2 pairs
>>> tuple(BranchMatching(2)(scores).shape)
(2, 1)
"""

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export

MATCHINGS = ("learned", "mean")


@hgzoo_export
class BranchMatching(keras.layers.Layer):
    """Branch relation scores (R·P, 1), branch-major, -> one score per pair (P, 1).

    ``"learned"``: weights w_r = softmax_r(τ·s_r + β_r) per pair from the
    scores s_r themselves, with a learned temperature τ (starts at 1, kept
    positive by softplus) and a learned prior β_r per branch (starts at 0);
    the pair's score is Σ_r w_r·s_r, so it stays in [0, 1] and the branch that
    matches a pair best dominates as τ grows. ``"mean"``: the plain average
    (the ablation without feature matching).

    Example:

    >>> import numpy as np
    >>> layer = BranchMatching(2, "mean")
    >>> layer(np.array([[1.0], [0.0]], "float32")).numpy().tolist()
    [[0.5]]
    """

    def __init__(self, branches, matching="learned", **kwargs):
        super().__init__(**kwargs)
        if matching not in MATCHINGS:
            raise ValueError(f"matching must be one of {MATCHINGS}, got {matching!r}")
        if int(branches) < 1:
            raise ValueError(f"branches must be at least 1, got {branches}")
        self.branches = int(branches)
        self.matching = matching

    def build(self, input_shape):
        if self.matching == "learned":
            # softplus(0.5413) = 1: the soft-max starts at temperature 1
            self.raw_temperature = self.add_weight(name="raw_temperature", shape=(), dtype="float32",
                                                   initializer=keras.initializers.Constant(0.5413))
            self.prior = self.add_weight(name="prior", shape=(self.branches,), initializer="zeros",
                                         dtype="float32")

    def call(self, scores):
        s = ops.reshape(ops.cast(scores, "float32"), (self.branches, -1))
        if self.matching == "mean":
            out = ops.mean(s, axis=0)
        else:
            temperature = ops.softplus(ops.cast(self.raw_temperature, "float32"))
            logits = temperature * s + ops.expand_dims(ops.cast(self.prior, "float32"), -1)
            out = ops.sum(ops.softmax(logits, axis=0) * s, axis=0)
        return ops.cast(ops.expand_dims(out, -1), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (None if input_shape[0] is None else input_shape[0] // self.branches, 1)

    def get_config(self):
        return {**super().get_config(), "branches": self.branches, "matching": self.matching}


@keras.saving.register_keras_serializable("hgzoo")
class BranchDiscriminator(keras.layers.Layer):
    """Self-supervised level/scale classifier over second-order matrices; passes its inputs through.

    An internal part of :class:`~hgzoo.fewshot.MlSo` (its harness, saving and
    fit run there): it takes one list argument, which the layer harness does
    not model.

    Called on a list of (batch, d, d) matrices, two per branch (class maps,
    query maps) in branch-major order (branch r = level_index·scales +
    scale_index). Each matrix's upper triangle (it is symmetric) goes through
    Dense(hidden) + ReLU, then two soft-max heads predict its level and its
    scale. While training, ``weight``·(CE_level + CE_scale) is added with
    ``add_loss``; the inputs come back unchanged.

    Example:

    >>> import numpy as np
    >>> layer = BranchDiscriminator(levels=2, scales=1, hidden=4)
    >>> out = layer([np.eye(3, dtype="float32")[None]] * 4, training=True)
    >>> len(out), len(layer.losses)
    (4, 1)
    """

    def __init__(self, levels, scales, hidden=64, weight=0.1, **kwargs):
        super().__init__(**kwargs)
        self.levels, self.scales = int(levels), int(scales)
        self.hidden = int(hidden)
        self.weight = float(weight)

    def build(self, input_shapes):
        d = input_shapes[0][-1]
        self.hidden_layer = keras.layers.Dense(self.hidden, activation="relu", name="hidden",
                                               dtype=self.dtype_policy)
        self.hidden_layer.build((None, d * (d + 1) // 2))
        self.level_head = keras.layers.Dense(self.levels, name="level", dtype=self.dtype_policy)
        self.level_head.build((None, self.hidden))
        self.scale_head = keras.layers.Dense(self.scales, name="scale", dtype=self.dtype_policy)
        self.scale_head.build((None, self.hidden))

    def logits(self, matrices):
        """(level logits, scale logits, level ids, scale ids) of all ``matrices``, concatenated."""
        d = matrices[0].shape[-1]
        rows, cols = zip(*[(i, j) for i in range(d) for j in range(i, d)])
        index = ops.convert_to_tensor([r * d + c for r, c in zip(rows, cols)], "int32")
        flat, level_ids, scale_ids = [], [], []
        for i, m in enumerate(matrices):
            branch = i // 2
            x = ops.take(ops.reshape(ops.cast(m, self.compute_dtype), (-1, d * d)), index, axis=1)
            flat.append(x)
            ones = ops.ones((ops.shape(x)[0],), "int32")
            level_ids.append(ones * (branch // self.scales))
            scale_ids.append(ones * (branch % self.scales))
        h = self.hidden_layer(ops.concatenate(flat, axis=0))
        return (self.level_head(h), self.scale_head(h), ops.concatenate(level_ids, 0),
                ops.concatenate(scale_ids, 0))

    def call(self, matrices, training=None):
        if training and self.weight > 0:
            level, scale, level_ids, scale_ids = self.logits(matrices)
            ce = keras.losses.sparse_categorical_crossentropy
            loss = (ops.mean(ce(level_ids, ops.cast(level, "float32"), from_logits=True))
                    + ops.mean(ce(scale_ids, ops.cast(scale, "float32"), from_logits=True)))
            self.add_loss(self.weight * loss)
        return list(matrices)

    def compute_output_shape(self, input_shapes):
        return list(input_shapes)

    def get_config(self):
        return {**super().get_config(), "levels": self.levels, "scales": self.scales, "hidden": self.hidden,
                "weight": self.weight}
