"""Layers of spatially-aware matching: feature-map regions, region-pair relations, soft-max matching.

A feature map is cut into a grid of regions at several scales (``grids=(1, 2)``:
the whole map, then a 2×2 grid of overlapping regions); each region gets a
descriptor; every support-region × query-region pair gets a relation logit; a
learned soft-max over the pairs lets the best-matching pairs dominate.

Example:

>>> import numpy as np
>>> from hgzoo.fewshot.region_layers import FeatureRegions
>>> tuple(FeatureRegions((1, 2))(np.ones((3, 5, 5, 4), "float32")).shape)
(3, 5, 4, 4)
"""

import math

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export
from hgzoo.layers import SecondOrderPool

DESCRIPTORS = ("second_order", "average")


def region_bounds(size, cells):
    """[start, end) of each of ``cells`` bins over ``size`` positions, as adaptive pooling cuts them
    (neighbouring bins overlap by a position when ``size`` does not divide evenly: 5 -> [0, 3), [2, 5))."""
    return [(math.floor(i * size / cells), math.ceil((i + 1) * size / cells)) for i in range(cells)]


def region_count(grids):
    return sum(int(g) ** 2 for g in grids)


@hgzoo_export
class FeatureRegions(keras.layers.Layer):
    """Feature maps (batch, h, w, c) -> region descriptors (batch, R, ...), R = Σ g² over ``grids``.

    Region r is numbered scale by scale, row-major inside a scale, so its index
    names both its scale and its place (what the discriminator predicts).

    - ``"second_order"``: the region's trace-normalised autocorrelation
      (SoSN's :class:`~hgzoo.layers.SecondOrderPool`), (batch, R, c, c);
    - ``"average"``: the region's mean feature, L2-normalised (so a class map
      summed over K shots matches one of a single shot), (batch, R, c).

    Args:
        grids: the grid sizes, e.g. ``(1, 2)``; each must fit the map (g <= h, w).
        descriptor: ``"second_order"`` or ``"average"``.

    Example:

    >>> import numpy as np
    >>> layer = FeatureRegions((1, 2), descriptor="average")
    >>> tuple(layer(np.ones((2, 5, 5, 8), "float32")).shape)
    (2, 5, 8)
    """

    def __init__(self, grids=(1, 2), descriptor="second_order", **kwargs):
        super().__init__(**kwargs)
        if descriptor not in DESCRIPTORS:
            raise ValueError(f"descriptor must be one of {DESCRIPTORS}, got {descriptor!r}")
        if not grids or any(int(g) < 1 for g in grids):
            raise ValueError(f"grids must be grid sizes >= 1, got {grids}")
        self.grids = tuple(int(g) for g in grids)
        self.descriptor = descriptor
        self.pool = SecondOrderPool("autocorrelation", trace_normalize=True, dtype=self.dtype_policy)

    def build(self, input_shape):
        if len(input_shape) != 4 or None in input_shape[1:]:
            raise ValueError(f"FeatureRegions needs (batch, h, w, c) maps of known size, got {input_shape}")
        h, w = input_shape[1], input_shape[2]
        if max(self.grids) > min(h, w):
            raise ValueError(f"a {max(self.grids)}×{max(self.grids)} grid does not fit a {h}×{w} feature map: "
                             f"use smaller grids or larger images")
        self.cuts = [(rows, cols) for g in self.grids for rows in region_bounds(h, g) for cols in region_bounds(w, g)]

    def call(self, x):
        regions = [x[:, r0:r1, c0:c1, :] for (r0, r1), (c0, c1) in self.cuts]
        if self.descriptor == "average":
            means = ops.stack([ops.mean(ops.cast(r, "float32"), axis=(1, 2)) for r in regions], axis=1)
            norms = ops.sqrt(ops.sum(ops.square(means), axis=-1, keepdims=True) + 1e-12)
            return ops.cast(means / norms, self.compute_dtype)
        return ops.stack([self.pool(r) for r in regions], axis=1)

    def compute_output_shape(self, input_shape):
        c = input_shape[-1]
        tail = (c, c) if self.descriptor == "second_order" else (c,)
        return (input_shape[0], region_count(self.grids), *tail)

    def get_config(self):
        return {**super().get_config(), "grids": list(self.grids), "descriptor": self.descriptor}


@hgzoo_export
class RegionPairs(keras.layers.Layer):
    """Every support-region × query-region pair: ReLU(class_i + query_j), (B·Q·N, R, R, d).

    The inputs are the two halves of the relation MLP's first layer,
    ``W [a; b] = W_a a + W_b b``, applied to each region once instead of to
    every pair. ``classes``: (B·N, R, d), or (B·Q·N, R, d) with
    ``per_query_classes`` (query-aligned prototypes); ``queries``: (B·Q, R, d);
    ``labels`` (B, S) give B. Pairs come in (episode, query, class) order and
    axis 1 indexes the support region, axis 2 the query region.

    Example:

    >>> import numpy as np
    >>> out = RegionPairs()(np.zeros((2, 5, 3)), np.ones((4, 5, 3)), np.zeros((1, 2), "int32"))
    >>> tuple(out.shape)
    (8, 5, 5, 3)
    """

    def __init__(self, per_query_classes=False, **kwargs):
        super().__init__(**kwargs)
        self.per_query_classes = bool(per_query_classes)

    def call(self, classes, queries, labels):
        b = ops.shape(labels)[0]
        r, d = ops.shape(queries)[1], ops.shape(queries)[2]
        queries = ops.reshape(queries, (b, -1, 1, 1, r, d))
        q = ops.shape(queries)[1] if self.per_query_classes else 1
        classes = ops.reshape(classes, (b, q, -1, r, 1, d))
        return ops.reshape(ops.relu(classes + queries), (-1, r, r, d))

    def compute_output_shape(self, classes_shape, queries_shape, labels_shape):
        return (None, queries_shape[1], queries_shape[1], queries_shape[2])

    def get_config(self):
        return {**super().get_config(), "per_query_classes": self.per_query_classes}


@hgzoo_export
class SoftMatch(keras.layers.Layer):
    """Pair logits (pairs, R, R, 1) -> one logit per (query, class) (pairs, 1).

    With ``weighting`` the pairs are weighted by a learned soft-max,
    ``w = softmax((l + b) / τ)`` over the R×R region pairs, and ``Σ w·l`` is
    returned: the best-matching pairs dominate. ``b`` (R×R, starts at 0) is a
    learned prior over which scale/place pairings to trust; τ is learned in
    log space (starts at ``temperature``). τ → 0 gives the max over pairs, τ
    → ∞ the mean. Without ``weighting``: the plain mean (the ablation).

    Example:

    >>> import numpy as np
    >>> logits = np.zeros((2, 5, 5, 1), "float32"); logits[0, 1, 2] = 4.0
    >>> out = SoftMatch(temperature=0.1)(logits)
    >>> round(float(out[0, 0]), 2), float(out[1, 0])
    (4.0, 0.0)
    """

    def __init__(self, weighting=True, temperature=1.0, **kwargs):
        super().__init__(**kwargs)
        if float(temperature) <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.weighting = bool(weighting)
        self.temperature = float(temperature)

    def build(self, input_shape):
        if not self.weighting:
            return
        r1, r2 = input_shape[1], input_shape[2]
        self.log_temperature = self.add_weight(shape=(), initializer=keras.initializers.Constant(
            math.log(self.temperature)), name="log_temperature")
        self.pair_bias = self.add_weight(shape=(r1, r2), initializer="zeros", name="pair_bias")

    def call(self, logits):
        logits = ops.cast(ops.reshape(logits, (ops.shape(logits)[0], -1)), "float32")
        if not self.weighting:
            return ops.mean(logits, axis=-1, keepdims=True)
        bias = ops.reshape(ops.cast(self.pair_bias, "float32"), (1, -1))
        weights = ops.softmax((logits + bias) / ops.exp(ops.cast(self.log_temperature, "float32")), axis=-1)
        return ops.sum(weights * logits, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)

    def get_config(self):
        return {**super().get_config(), "weighting": self.weighting, "temperature": self.temperature}
