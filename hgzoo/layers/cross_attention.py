"""CrossAttention: the CrossTransformer's query-aligned prototypes."""

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export

_FLOAT32_MIN = -3.4028234663852886e38


def _flatten_tokens(x):
    """(B, ..., D) -> (B, T, D)."""
    shape = ops.shape(x)
    return ops.reshape(x, (shape[0], -1, shape[-1]))


@hgzoo_export
class CrossAttention(keras.layers.Layer):
    """Multi-head attention of query tokens over a set of support tokens.

    CrossTransformer use: the query is a feature map (B, Hq, Wq, D); the
    support is the feature maps of one class (B, S, Hs, Ws, D). Every spatial
    position of the query attends over all S·Hs·Ws support positions (keys from
    a key head, values from a value head) and receives a query-aligned
    prototype: the output has the query's spatial shape and
    ``num_heads · value_dim`` channels (or ``output_dim`` with an output
    projection). Any two token sets work: inputs are (B, ..., D) and every
    axis between batch and channels is flattened into tokens.

    ``support_mask`` (B, ...) marks real support positions (True) so padded
    support sets give the same result as unpadded ones. Scores and the softmax
    run in float32 and masked scores get the float32 minimum, so mixed
    precision neither overflows nor produces NaN (a fully masked row yields
    zeros). :meth:`project_values` applies the value head to any tokens, e.g.
    the query itself, for the CrossTransformer's query-prototype distance.

    Example:

    >>> import numpy as np
    >>> from hgzoo.layers import CrossAttention
    >>> layer = CrossAttention(num_heads=2, key_dim=8)
    >>> q = np.random.rand(3, 5, 5, 16).astype("float32")
    >>> s = np.random.rand(3, 4, 5, 5, 16).astype("float32")
    >>> tuple(layer(q, s).shape)
    (3, 5, 5, 16)
    """

    def __init__(self, num_heads, key_dim, value_dim=None, output_dim=None, dropout=0.0,
                 use_bias=False, **kwargs):
        super().__init__(**kwargs)
        if int(num_heads) < 1 or int(key_dim) < 1:
            raise ValueError(f"CrossAttention needs num_heads >= 1 and key_dim >= 1, got {num_heads}, {key_dim}")
        self.num_heads = int(num_heads)
        self.key_dim = int(key_dim)
        self.value_dim = int(value_dim) if value_dim else self.key_dim
        self.output_dim = int(output_dim) if output_dim else None
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        dense = dict(use_bias=self.use_bias, dtype=self.dtype_policy)
        self.query_dense = keras.layers.Dense(self.num_heads * self.key_dim, name="query", **dense)
        self.key_dense = keras.layers.Dense(self.num_heads * self.key_dim, name="key", **dense)
        self.value_dense = keras.layers.Dense(self.num_heads * self.value_dim, name="value", **dense)
        self.output_dense = (keras.layers.Dense(self.output_dim, name="output", **dense)
                             if self.output_dim else None)
        self.dropout_layer = keras.layers.Dropout(self.dropout)

    def build(self, query_shape, support_shape=None, support_mask_shape=None):
        if support_shape is None:
            raise ValueError("CrossAttention needs two inputs: query and support")
        if query_shape[-1] is None or support_shape[-1] is None:
            raise ValueError("CrossAttention needs a known channel dimension on both inputs")
        self.query_dense.build((None, query_shape[-1]))
        self.key_dense.build((None, support_shape[-1]))
        self.value_dense.build((None, support_shape[-1]))
        if self.output_dense is not None:
            self.output_dense.build((None, self.num_heads * self.value_dim))

    def _heads(self, x, dim):
        b, t = ops.shape(x)[0], ops.shape(x)[1]
        return ops.transpose(ops.reshape(x, (b, t, self.num_heads, dim)), (0, 2, 1, 3))

    def project_values(self, tokens):
        """The value head applied to (B, ..., D) tokens: (B, ..., heads·value_dim)."""
        return self.value_dense(tokens)

    def call(self, query, support, support_mask=None, training=None):
        q_shape = ops.shape(query)
        q = self._heads(self.query_dense(_flatten_tokens(query)), self.key_dim)
        s = _flatten_tokens(support)
        k = self._heads(self.key_dense(s), self.key_dim)
        v = self._heads(self.value_dense(s), self.value_dim)
        scores = ops.matmul(ops.cast(q, "float32"), ops.swapaxes(ops.cast(k, "float32"), -1, -2))
        scores = scores / (self.key_dim ** 0.5)
        if support_mask is not None:
            mask = ops.reshape(ops.cast(support_mask, "bool"), (ops.shape(scores)[0], 1, 1, -1))
            scores = ops.where(mask, scores, _FLOAT32_MIN)
            weights = ops.softmax(scores, axis=-1)
            weights = ops.where(mask, weights, 0.0)  # fully masked rows: zeros, not uniform
        else:
            weights = ops.softmax(scores, axis=-1)
        weights = self.dropout_layer(weights, training=training)
        out = ops.matmul(ops.cast(weights, v.dtype), v)  # (B, heads, Tq, value_dim)
        out = ops.reshape(ops.transpose(out, (0, 2, 1, 3)), (q_shape[0], -1, self.num_heads * self.value_dim))
        if self.output_dense is not None:
            out = self.output_dense(out)
        out_dim = self.output_dim or self.num_heads * self.value_dim
        return ops.reshape(out, tuple(q_shape[:-1]) + (out_dim,))

    def compute_output_shape(self, query_shape, support_shape=None, support_mask_shape=None):
        return tuple(query_shape[:-1]) + (self.output_dim or self.num_heads * self.value_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(num_heads=self.num_heads, key_dim=self.key_dim, value_dim=self.value_dim,
                      output_dim=self.output_dim, dropout=self.dropout, use_bias=self.use_bias)
        return config
