"""SalNet's episode layers: saliency masking, batch groups, support hallucination and its class sums.

An episode batch has B episodes of S = N·K support and Q query images. The
official SalNet code runs, per episode, the support set as one batch, each
group of ``query_group`` queries as another, the hallucinated support pairs as
one Mixture-network batch and the relation pairs of a query group as one
batch; with BatchNorm on batch statistics that grouping changes the scores.
The layers here build one flat batch per network with a ``membership``
matrix (rows × groups) that :class:`~hgzoo.fewshot.batch_norm.EpisodeBatchNorm`
normalises by.

Hallucination (``papers.md`` §5), with fg/bg the foreground/background
feature maps of the support images:

- ``"none"``: Mixture(fg_i + bg_i), summed over the shots of each class;
- ``"intra"``: Mixture(fg_i + bg_j) for all K×K pairs (i, j) within a
  class, summed;
- ``"inter"``: Mixture(fg_i + bg_t) for every support image i and all S
  backgrounds t, weighted by 2e^{-αm}/(1 + e^{-αm}) with m the mean squared
  difference of bg_i and bg_t, summed over the class of i.

Example:

>>> import numpy as np
>>> from hgzoo.fewshot.hallucination import EpisodeGroups
>>> groups = EpisodeGroups(query_group=2)(np.zeros((1, 3), "int32"), np.zeros((1, 5, 1, 1, 1)))
>>> np.asarray(groups).argmax(-1).tolist()  # 3 support images, then 5 queries in groups of 2
[0, 0, 0, 1, 1, 2, 2, 3]
"""

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export
from hgzoo.fewshot.episode_layers import class_count

MODES = ("inter", "intra", "none")


def _membership(group_ids, groups):
    """One-hot (rows, groups) float32 of integer group ids."""
    return ops.cast(ops.equal(ops.expand_dims(group_ids, -1), ops.arange(groups, dtype="int32")), "float32")


def _query_group_ids(b, q, query_group):
    """(B·Q,) ids b·G + q // g of the queries' groups, and G (groups per episode)."""
    g = q if query_group is None else ops.minimum(q, query_group)
    per_episode = (q + g - 1) // g
    ids = ops.expand_dims(ops.arange(b, dtype="int32") * per_episode, 1) + ops.expand_dims(
        ops.arange(q, dtype="int32") // g, 0)
    return ops.reshape(ids, (-1,)), per_episode


def _check_query_group(query_group):
    if query_group is not None and int(query_group) < 1:
        raise ValueError(f"query_group must be None (all queries of an episode together) or >= 1, "
                         f"got {query_group}")
    return None if query_group is None else int(query_group)


@hgzoo_export
class SaliencyMasking(keras.layers.Layer):
    """Raw images (n, h, w, C) in [0, 1] and saliency (n, h, w) -> foreground and background inputs.

    The images are standardised first, ``img_n = (x - mean) / std``, then
    ``img_n·sal`` and ``img_n·(1 - sal)``: the official code masks the
    *normalised* image.

    Example:

    >>> import numpy as np
    >>> fg, bg = SaliencyMasking(mean=0.5, std=0.5)(np.ones((1, 2, 2, 3), "float32"), np.full((1, 2, 2), 0.25))
    >>> float(fg[0, 0, 0, 0]), float(bg[0, 0, 0, 0])
    (0.25, 0.75)
    """

    def __init__(self, mean=0.0, std=1.0, **kwargs):
        super().__init__(**kwargs)
        if float(std) <= 0:
            raise ValueError(f"std must be positive, got {std}")
        self.mean, self.std = float(mean), float(std)

    def call(self, images, saliency):
        x = (ops.cast(images, "float32") - self.mean) / self.std
        s = ops.expand_dims(ops.cast(saliency, "float32"), -1)
        return ops.cast(x * s, self.compute_dtype), ops.cast(x * (1.0 - s), self.compute_dtype)

    def compute_output_shape(self, images_shape, saliency_shape):
        return images_shape, images_shape

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "std": self.std}


@hgzoo_export
class SaliencyMaps(keras.layers.Layer):
    """Support (B, S, H, W) and query (B, Q, H, W) maps -> one batch (B·(S+Q), h, w), resized to ``image_size``.

    The order is that of :class:`~hgzoo.fewshot.EpisodeImages` (all support
    images, then all queries). Maps are resized bilinearly, as the official
    loader resizes its saliency JPEGs to 84×84.

    Example:

    >>> import numpy as np
    >>> tuple(SaliencyMaps((8, 8))(np.zeros((1, 2, 4, 4)), np.zeros((1, 3, 4, 4))).shape)
    (5, 8, 8)
    """

    def __init__(self, image_size, **kwargs):
        super().__init__(**kwargs)
        self.image_size = tuple(int(s) for s in image_size)

    def call(self, support, query):
        def flat(x):
            shape = ops.shape(x)
            return ops.reshape(ops.cast(x, "float32"), (-1, shape[2], shape[3], 1))

        x = ops.concatenate([flat(support), flat(query)], axis=0)
        if tuple(x.shape[1:3]) != self.image_size:
            x = ops.image.resize(x, self.image_size, interpolation="bilinear")
        return ops.cast(x[..., 0], self.compute_dtype)

    def compute_output_shape(self, support_shape, query_shape):
        return (None, *self.image_size)

    def get_config(self):
        return {**super().get_config(), "image_size": list(self.image_size)}


@hgzoo_export
class EpisodeGroups(keras.layers.Layer):
    """Membership (B·S + B·Q, groups) of the encoders' batch: each episode's support set is a group, and
    each run of ``query_group`` of its queries (all of them for None).

    Example:

    >>> import numpy as np
    >>> tuple(EpisodeGroups()(np.zeros((2, 3), "int32"), np.zeros((2, 4, 1, 1, 1))).shape)
    (14, 4)
    """

    def __init__(self, query_group=None, **kwargs):
        super().__init__(**kwargs)
        self.query_group = _check_query_group(query_group)

    def call(self, support_labels, query_images):
        b, s = ops.shape(support_labels)[0], ops.shape(support_labels)[1]
        query_ids, per_episode = _query_group_ids(b, ops.shape(query_images)[1], self.query_group)
        support_ids = ops.repeat(ops.arange(b, dtype="int32"), s)
        ids = ops.concatenate([support_ids, b + query_ids], axis=0)
        return _membership(ids, b + b * per_episode)

    def compute_output_shape(self, support_labels_shape, query_images_shape):
        return (None, None)

    def get_config(self):
        return {**super().get_config(), "query_group": self.query_group}


@hgzoo_export
class RelationGroups(keras.layers.Layer):
    """Membership (B·Q·N, groups) of the relation pairs: the N pairs of every query of a query group
    share a group, as the official code scores a query group in one batch.

    Example:

    >>> import numpy as np
    >>> tuple(RelationGroups(query_group=2)(np.array([[0, 1, 2]]), np.zeros((1, 3, 1, 1, 1))).shape)
    (9, 2)
    """

    def __init__(self, query_group=None, n_way=None, **kwargs):
        super().__init__(**kwargs)
        self.query_group = _check_query_group(query_group)
        self.n_way = int(n_way) if n_way else None

    def call(self, support_labels, query_images):
        labels = ops.cast(support_labels, "int32")
        n = class_count(labels, self.n_way)
        ids, per_episode = _query_group_ids(ops.shape(labels)[0], ops.shape(query_images)[1], self.query_group)
        return _membership(ops.repeat(ids, n), ops.shape(labels)[0] * per_episode)

    def compute_output_shape(self, support_labels_shape, query_images_shape):
        return (None, None)

    def get_config(self):
        return {**super().get_config(), "query_group": self.query_group, "n_way": self.n_way}


@hgzoo_export
class SupportHallucination(keras.layers.Layer):
    """Foreground and background features (B·S + B·Q, h, w, c) -> the Mixture network's input batch.

    Returns ``(rows, membership, assignment)``:

    - ``rows``: ``fg + bg`` of the hallucinated support pairs of every
      episode (B·R rows: R = S for ``"none"``, N·K² for ``"intra"``, S² for
      ``"inter"``), then (except for ``"none"``, where they are the pairs
      already) the real support pairs fg_i + bg_i (B·S), then the queries
      (B·Q);
    - ``membership``: their BatchNorm groups: per episode the pairs, the
      real support set, and each query group;
    - ``assignment`` (B, R, N): the weight of each pair in each class's sum.

    Args:
        mode: ``"inter"``, ``"intra"`` or ``"none"`` (module docstring).
        n_way: fixed class count or None (read from the labels).
        alpha: α of the inter-class background similarity (1 as published).
        query_group: queries per BatchNorm group (None: all of an episode).

    Example:

    >>> import numpy as np
    >>> feats = np.random.rand(2 * 4 + 2 * 3, 5, 5, 8).astype("float32")
    >>> labels = np.array([[0, 1, 0, 1], [1, 0, 0, 1]])
    >>> rows, groups, weights = SupportHallucination("intra")(feats, feats, labels, np.zeros((2, 3, 1, 1, 1)))
    >>> tuple(rows.shape), tuple(groups.shape), tuple(weights.shape)
    ((30, 5, 5, 8), (30, 6), (2, 8, 2))
    """

    def __init__(self, mode, n_way=None, alpha=1.0, query_group=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"hallucination must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self.n_way = int(n_way) if n_way else None
        self.alpha = float(alpha)
        self.query_group = _check_query_group(query_group)

    def _pairs(self, fs, bs, labels, n):
        """(B, R, h, w, c) pair inputs and (B, R, N) class weights."""
        b, s = ops.shape(fs)[0], ops.shape(fs)[1]
        onehot = ops.cast(ops.equal(ops.expand_dims(labels, -1), ops.arange(n, dtype="int32")), "float32")
        if self.mode == "none":
            return fs + bs, onehot
        if self.mode == "intra":
            k = s // n
            order = ops.argsort(labels, axis=-1)  # support indices grouped by class: class c at c·K .. c·K+K-1
            by_class = ops.reshape(order, (b, n, k))
            fg_index = ops.reshape(ops.repeat(ops.expand_dims(by_class, 3), k, axis=3), (b, -1))  # (c, i, j) -> i
            bg_index = ops.reshape(ops.repeat(ops.expand_dims(by_class, 2), k, axis=2), (b, -1))  # (c, i, j) -> j
            rows = self._take(fs, fg_index) + self._take(bs, bg_index)
            classes = ops.repeat(ops.arange(n, dtype="int32"), k * k)
            weights = ops.cast(ops.equal(ops.expand_dims(classes, -1), ops.arange(n, dtype="int32")), "float32")
            return rows, ops.broadcast_to(weights, (b, n * k * k, n))
        # inter: every foreground i with every background t, weighted by the backgrounds' similarity.
        rows = ops.expand_dims(fs, 2) + ops.expand_dims(bs, 1)  # (B, i, t, h, w, c)
        b32 = ops.cast(bs, "float32")
        m = ops.mean(ops.square(ops.expand_dims(b32, 2) - ops.expand_dims(b32, 1)), axis=(3, 4, 5))  # (B, i, t)
        e = ops.exp(-self.alpha * m)
        similarity = 2.0 * e / (1.0 + e)
        weights = ops.expand_dims(similarity, -1) * ops.expand_dims(onehot, 2)  # (B, i, t, N)
        shape = ops.shape(rows)
        return ops.reshape(rows, (b, s * s, shape[3], shape[4], shape[5])), ops.reshape(weights, (b, s * s, n))

    @staticmethod
    def _take(x, index):
        """x (B, S, ...) at index (B, R) per episode."""
        b, s = ops.shape(x)[0], ops.shape(x)[1]
        flat = ops.reshape(x, (-1, *ops.shape(x)[2:]))
        offsets = ops.expand_dims(ops.arange(b, dtype="int32") * s, 1)
        return ops.reshape(ops.take(flat, ops.reshape(index + offsets, (-1,)), axis=0),
                           (b, -1, *ops.shape(x)[2:]))

    def call(self, foreground, background, support_labels, query_images):
        labels = ops.cast(support_labels, "int32")
        b, s = ops.shape(labels)[0], ops.shape(labels)[1]
        q = ops.shape(query_images)[1]
        h, w, c = ops.shape(foreground)[1], ops.shape(foreground)[2], ops.shape(foreground)[3]
        n = class_count(labels, self.n_way)
        fs = ops.reshape(foreground[:b * s], (b, s, h, w, c))
        bs = ops.reshape(background[:b * s], (b, s, h, w, c))
        queries = foreground[b * s:] + background[b * s:]
        pairs, weights = self._pairs(fs, bs, labels, n)
        r = ops.shape(weights)[1]
        parts = [ops.reshape(pairs, (-1, h, w, c))]
        ids = [ops.repeat(ops.arange(b, dtype="int32"), r)]
        first_query_group = b
        if self.mode != "none":
            parts.append(ops.reshape(fs + bs, (-1, h, w, c)))
            ids.append(b + ops.repeat(ops.arange(b, dtype="int32"), s))
            first_query_group = 2 * b
        query_ids, per_episode = _query_group_ids(b, q, self.query_group)
        parts.append(queries)
        ids.append(first_query_group + query_ids)
        rows = ops.concatenate(parts, axis=0)
        membership = _membership(ops.concatenate(ids, axis=0), first_query_group + b * per_episode)
        return rows, membership, weights

    def compute_output_shape(self, foreground_shape, background_shape, support_labels_shape, query_images_shape):
        return (None, *foreground_shape[1:]), (None, None), (support_labels_shape[0], None, self.n_way)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "n_way": self.n_way, "alpha": self.alpha,
                "query_group": self.query_group}


@hgzoo_export
class HallucinatedClasses(keras.layers.Layer):
    """Mixture outputs of :class:`SupportHallucination`'s rows -> class maps (B·N, h, w, c), query maps
    (B·Q, h, w, c) and the real support maps (B·S, h, w, c) (what TriR compares with a teacher).

    Each class map is the ``assignment``-weighted sum of the pair maps.

    Example:

    >>> import numpy as np
    >>> mixed = np.ones((2 * 2 + 2 * 1, 1, 1, 1), "float32")  # B·R pair rows, then B·Q queries
    >>> weights = np.eye(2, dtype="float32")[None].repeat(2, 0)
    >>> classes, queries, real = HallucinatedClasses("none")(mixed, weights, np.array([[0, 1], [1, 0]]),
    ...                                                       np.zeros((2, 1, 1, 1, 1)))
    >>> tuple(classes.shape), tuple(queries.shape), tuple(real.shape)
    ((4, 1, 1, 1), (2, 1, 1, 1), (4, 1, 1, 1))
    """

    def __init__(self, mode, **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"hallucination must be one of {MODES}, got {mode!r}")
        self.mode = mode

    def call(self, mixed, assignment, support_labels, query_images):
        b, s = ops.shape(support_labels)[0], ops.shape(support_labels)[1]
        r = ops.shape(assignment)[1]
        h, w, c = ops.shape(mixed)[1], ops.shape(mixed)[2], ops.shape(mixed)[3]
        # Summed in float32 (up to S² maps under mixed precision); second-order pooling follows in float32.
        pairs = ops.reshape(ops.cast(mixed[:b * r], "float32"), (b, r, h, w, c))
        classes = ops.einsum("brn,brhwc->bnhwc", ops.cast(assignment, "float32"), pairs)
        real_end = b * r if self.mode == "none" else b * r + b * s
        real = mixed[:b * s] if self.mode == "none" else mixed[b * r:real_end]
        return ops.reshape(classes, (-1, h, w, c)), mixed[real_end:], real

    def compute_output_shape(self, mixed_shape, assignment_shape, support_labels_shape, query_images_shape):
        return (None, *mixed_shape[1:]), (None, *mixed_shape[1:]), (None, *mixed_shape[1:])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
