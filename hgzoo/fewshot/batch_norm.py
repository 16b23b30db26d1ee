"""EpisodeBatchNorm: BatchNorm whose batch statistics are taken per group of a batch.

The official few-shot scripts (SoSN, SalNet) never call ``.eval()``: every
score they report is computed with BatchNorm on *batch* statistics, and which
images share a batch changes the scores. hgzoo runs a whole episode batch
through one layer call, so this layer takes a ``membership`` matrix
(batch, groups) saying which images would have shared a batch in the
official code (the support set, each group of queries, the relation pairs of
a query group, per episode) and normalises each group by its own statistics.

``statistics`` chooses what inference uses:

- ``"batch"``: each group's own mean and (biased) variance, at inference as in
  training: the official scripts' behaviour, needed to reproduce their scores;
  a query's score then depends on the other images of its group;
- ``"moving"``: the moving averages, as Keras' BatchNormalization: scores of
  one image do not depend on the others.

Training always normalises by the groups' batch statistics and updates the
moving averages with their mean over groups.

Example:

>>> import numpy as np
>>> from hgzoo.fewshot.batch_norm import EpisodeBatchNorm
>>> x = np.random.rand(4, 3, 3, 2).astype("float32")
>>> groups = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], "float32")
>>> y = np.asarray(EpisodeBatchNorm(epsilon=0.0)(x, groups))
>>> bool(abs(y[:2].mean()) < 1e-5 and abs(y[2:].mean()) < 1e-5)
True
"""

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export

STATISTICS = ("batch", "moving")


@hgzoo_export
class EpisodeBatchNorm(keras.layers.Layer):
    """BatchNorm over the last axis of (n, ..., c) with per-group batch statistics.

    Args:
        statistics: ``"batch"`` or ``"moving"``: what inference normalises
            with (module docstring). Training always uses batch statistics.
        momentum: of the moving averages, as Keras' (0.0 keeps the last
            batch's statistics, PyTorch's ``momentum=1``).
        epsilon: added to the variance (PyTorch's default 1e-5).

    Call: ``layer(x, membership, training=None)``, ``membership`` (n, groups)
    one-hot rows (each group non-empty); None puts the whole batch in one group.
    Statistics are computed in float32 (also under mixed precision).

    Example:

    >>> import numpy as np
    >>> layer = EpisodeBatchNorm(statistics="moving")
    >>> tuple(layer(np.ones((2, 4, 4, 3), "float32")).shape)
    (2, 4, 4, 3)
    """

    def __init__(self, statistics="batch", momentum=0.9, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        if statistics not in STATISTICS:
            raise ValueError(f"statistics must be one of {STATISTICS}, got {statistics!r}")
        self.statistics = statistics
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)

    def build(self, x_shape, membership_shape=None):
        channels = int(x_shape[-1])
        self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta")
        self.moving_mean = self.add_weight(shape=(channels,), initializer="zeros", name="moving_mean",
                                           trainable=False)
        self.moving_variance = self.add_weight(shape=(channels,), initializer="ones", name="moving_variance",
                                               trainable=False)

    def _group_moments(self, x, membership):
        """Per-group mean and biased variance (groups, c), and their rows broadcast back (n, c)."""
        axes = tuple(range(1, len(x.shape) - 1))
        if membership is None:
            membership = ops.ones((ops.shape(x)[0], 1), "float32")
        membership = ops.cast(membership, "float32")
        per_item = ops.cast(ops.prod(ops.shape(x)[1:-1]), "float32")
        counts = ops.maximum(ops.sum(membership, axis=0), 1.0) * per_item  # (groups,)
        mean = ops.einsum("ng,nc->gc", membership, ops.sum(x, axis=axes)) / counts[:, None]
        mean_rows = ops.matmul(membership, mean)
        centred = x - ops.reshape(mean_rows, (ops.shape(x)[0],) + (1,) * len(axes) + (-1,))
        variance = ops.einsum("ng,nc->gc", membership, ops.sum(ops.square(centred), axis=axes)) / counts[:, None]
        return mean, variance, centred, ops.matmul(membership, variance)

    def call(self, x, membership=None, training=None):
        dtype = x.dtype
        x = ops.cast(x, "float32")
        shape = (-1,) + (1,) * (len(x.shape) - 2) + (ops.shape(x)[-1],)
        gamma, beta = ops.cast(self.gamma, "float32"), ops.cast(self.beta, "float32")
        if training or self.statistics == "batch":
            mean, variance, centred, variance_rows = self._group_moments(x, membership)
            if training:
                for average, value in ((self.moving_mean, mean), (self.moving_variance, variance)):
                    new = self.momentum * ops.cast(average, "float32") + (1 - self.momentum) * ops.mean(value, axis=0)
                    average.assign(ops.cast(new, average.dtype))
            y = centred * ops.reshape(ops.rsqrt(variance_rows + self.epsilon), (ops.shape(x)[0],) + shape[1:])
        else:
            y = (x - ops.cast(self.moving_mean, "float32")) * ops.rsqrt(
                ops.cast(self.moving_variance, "float32") + self.epsilon)
        return ops.cast(y * ops.reshape(gamma, shape) + ops.reshape(beta, shape), dtype)

    def compute_output_shape(self, x_shape, membership_shape=None):
        return x_shape

    def get_config(self):
        return {**super().get_config(), "statistics": self.statistics, "momentum": self.momentum,
                "epsilon": self.epsilon}


def group_norm(statistics, membership, momentum=0.9, epsilon=1e-5, dtype=None):
    """A ``norm(x, name)`` for :func:`hgzoo.fewshot.backbones.conv4` and the relation network: one
    :class:`EpisodeBatchNorm` per call, grouped by ``membership``."""

    def norm(x, name):
        return EpisodeBatchNorm(statistics, momentum, epsilon, name=name, dtype=dtype)(x, membership)

    return norm
