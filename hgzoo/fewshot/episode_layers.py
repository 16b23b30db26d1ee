"""Weightless layers that move episode tensors between the shapes models need.

A few-shot model sees an episode batch (B episodes, S = N·K support and Q
query images each). These layers flatten it into one image batch for the
backbone, gather support features by class, form (class, query) pairs and
fold the pair scores back into (B, Q, N). N is taken from the labels at call
time, so N and K may change between calls without rebuilding. JAX traces
with static shapes, so there N must be fixed (``n_way``) for training and
jit-compiled calls; eager inference still reads N from the labels.

Example:

>>> import numpy as np
>>> from hgzoo.fewshot.episode_layers import EpisodeImages
>>> layer = EpisodeImages(image_size=(28, 28), channels=1, mean=0.5, std=0.5)
>>> tuple(layer(np.ones((2, 3, 105, 105, 1), "float32"), np.ones((2, 4, 105, 105, 1), "float32")).shape)
(14, 28, 28, 1)
"""

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export
from hgzoo.errors import InvalidEpisodeError

INTERPOLATIONS = ("lanczos3", "bilinear", "bicubic", "area", "nearest")


def _check_rank(shape, rank, what):
    if len(shape) != rank:
        raise InvalidEpisodeError(f"{what} must have rank {rank}, got shape {tuple(shape)}")


def class_count(labels, n_way):
    """N of an episode batch: the fixed ``n_way``, or max(label) + 1 (which needs concrete labels under JAX jit).

    >>> int(class_count([[0, 1, 2, 0]], None)), class_count([[0, 1, 2, 0]], 5)
    (3, 5)
    """
    if n_way:
        return n_way
    n = ops.max(labels) + 1
    if keras.backend.backend() == "jax":
        import jax

        if isinstance(n, jax.core.Tracer):
            raise InvalidEpisodeError(
                "on JAX the number of classes must be fixed for training and jit-compiled calls: build the "
                "model with n_way=N (eager inference, e.g. predict_on_batch, reads N from the labels)")
        return int(n)
    return n


@hgzoo_export
class EpisodeImages(keras.layers.Layer):
    """Support (B, S, H, W, C) and query (B, Q, H, W, C) -> one normalised batch (B·(S+Q), h, w, C).

    The batch holds the B·S support images of all episodes first, then the
    B·Q queries (the order every layer after it reads).

    Images in [0, 1] of any size are resized to ``image_size`` (skipped when
    they already have it), optionally inverted (1 - x), then standardised
    with ``mean`` and ``std``.

    Args:
        image_size: (h, w) the backbone works at.
        channels: the channel count the model takes; other counts are an error.
        mean, std: standardisation after resizing (and inversion).
        invert: use 1 - x (e.g. dark strokes on white -> bright strokes).
        interpolation: one of ``"lanczos3"`` (default, as the SoSN pipeline's
            PIL Lanczos), ``"bilinear"``, ``"bicubic"``, ``"area"``, ``"nearest"``.

    Example:

    >>> import numpy as np
    >>> out = EpisodeImages((8, 8), 3)(np.zeros((1, 2, 8, 8, 3), "float32"), np.zeros((1, 1, 8, 8, 3), "float32"))
    >>> tuple(out.shape)
    (3, 8, 8, 3)
    """

    def __init__(self, image_size, channels, mean=0.0, std=1.0, invert=False, interpolation="lanczos3", **kwargs):
        super().__init__(**kwargs)
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
        if float(std) <= 0:
            raise ValueError(f"std must be positive, got {std}")
        self.image_size = tuple(int(s) for s in image_size)
        self.channels = int(channels)
        self.mean, self.std = float(mean), float(std)
        self.invert = bool(invert)
        self.interpolation = interpolation

    def build(self, support_shape, query_shape):
        for shape, what in ((support_shape, "support_images"), (query_shape, "query_images")):
            _check_rank(shape, 5, f"{what} (B, count, H, W, C)")
            if shape[-1] is not None and shape[-1] != self.channels:
                raise InvalidEpisodeError(
                    f"{what} has {shape[-1]} channels; this model takes {self.channels}-channel images "
                    f"({'grayscale' if self.channels == 1 else 'RGB'})")
        for a, b in zip(support_shape[2:4], query_shape[2:4]):
            if a is not None and b is not None and a != b:
                raise InvalidEpisodeError(f"support images are {tuple(support_shape[2:4])} but query images "
                                          f"{tuple(query_shape[2:4])}; use one size")

    def call(self, support, query):
        def flat(x):
            shape = ops.shape(x)
            return ops.reshape(x, (-1, shape[2], shape[3], shape[4]))

        x = ops.cast(ops.concatenate([flat(support), flat(query)], axis=0), "float32")
        if tuple(x.shape[1:3]) != self.image_size:
            x = ops.image.resize(x, self.image_size, interpolation=self.interpolation, antialias=True)
        if self.invert:
            x = 1.0 - x
        return ops.cast((x - self.mean) / self.std, self.compute_dtype)

    def compute_output_shape(self, support_shape, query_shape):
        dims = (support_shape[0], support_shape[1], query_shape[0], query_shape[1])
        batch = None if None in dims else dims[0] * dims[1] + dims[2] * dims[3]
        return (batch, *self.image_size, self.channels)

    def get_config(self):
        config = super().get_config()
        config.update(image_size=list(self.image_size), channels=self.channels, mean=self.mean, std=self.std,
                      invert=self.invert, interpolation=self.interpolation)
        return config


@hgzoo_export
class ClassFeatureSum(keras.layers.Layer):
    """Backbone features (B·(S+Q), h, w, c) + labels (B, S) -> class sums (B·N, h, w, c) and queries (B·Q, h, w, c).

    The support features of each class are summed over its shots (SoSN sums
    before second-order pooling; after trace normalisation that equals
    averaging).

    Args:
        n_way: a fixed class count, or None to take max(label) + 1 per call.

    Example:

    >>> import numpy as np
    >>> feats = np.ones((1 * (4 + 3), 5, 5, 8), "float32")
    >>> classes, queries = ClassFeatureSum()(feats, np.array([[0, 1, 0, 1]]))
    >>> tuple(classes.shape), tuple(queries.shape), float(classes[0, 0, 0, 0])
    ((2, 5, 5, 8), (3, 5, 5, 8), 2.0)
    """

    def __init__(self, n_way=None, **kwargs):
        super().__init__(**kwargs)
        self.n_way = int(n_way) if n_way else None

    def build(self, features_shape, labels_shape):
        _check_rank(features_shape, 4, "backbone features (batch, h, w, c)")
        _check_rank(labels_shape, 2, "support_labels (B, N*K)")

    def call(self, features, labels):
        labels = ops.cast(labels, "int32")
        b, s = ops.shape(labels)[0], ops.shape(labels)[1]
        h, w, c = ops.shape(features)[1], ops.shape(features)[2], ops.shape(features)[3]
        # EpisodeImages' order: the B·S support images of all episodes, then the B·Q queries.
        support = ops.reshape(features[: b * s], (b, s, h, w, c))
        n = class_count(labels, self.n_way)
        onehot = ops.cast(ops.equal(ops.expand_dims(labels, -1), ops.arange(n, dtype="int32")), features.dtype)
        classes = ops.einsum("bsn,bshwc->bnhwc", onehot, support)
        return ops.reshape(classes, (-1, h, w, c)), features[b * s:]

    def compute_output_shape(self, features_shape, labels_shape):
        return (None, *features_shape[1:]), (None, *features_shape[1:])

    def get_config(self):
        return {**super().get_config(), "n_way": self.n_way}


@hgzoo_export
class RelationPairs(keras.layers.Layer):
    """Class maps (B·N, d, d) and query maps (B·Q, d, d) -> every pair stacked (B·Q·N, d, d, 2).

    Channel 0 is the class, channel 1 the query (SoSN's order). ``labels``
    (B, S) give B.

    Example:

    >>> import numpy as np
    >>> pairs = RelationPairs()(np.zeros((2, 4, 4)), np.ones((3, 4, 4)), np.zeros((1, 2), "int32"))
    >>> tuple(pairs.shape)
    (6, 4, 4, 2)
    """

    def call(self, classes, queries, labels):
        b = ops.shape(labels)[0]
        d1, d2 = ops.shape(classes)[1], ops.shape(classes)[2]
        classes = ops.reshape(classes, (b, 1, -1, d1, d2))
        queries = ops.reshape(queries, (b, -1, 1, d1, d2))
        target = (b, ops.shape(queries)[1], ops.shape(classes)[2], d1, d2)
        pairs = ops.stack([ops.broadcast_to(classes, target), ops.broadcast_to(queries, target)], axis=-1)
        return ops.reshape(pairs, (-1, d1, d2, 2))

    def compute_output_shape(self, classes_shape, queries_shape, labels_shape):
        return (None, classes_shape[1], classes_shape[2], 2)


@hgzoo_export
class EpisodeScores(keras.layers.Layer):
    """Pair scores (B·Q·N, 1) -> (B, Q, N), with B and Q read from ``query_images`` (B, Q, ...).

    Example:

    >>> import numpy as np
    >>> tuple(EpisodeScores()(np.zeros((12, 1)), np.zeros((2, 3, 1, 1, 1))).shape)
    (2, 3, 2)
    """

    def call(self, scores, query_images):
        shape = ops.shape(query_images)
        return ops.reshape(scores, (shape[0], shape[1], -1))

    def compute_output_shape(self, scores_shape, query_images_shape):
        return (query_images_shape[0], query_images_shape[1], None)
