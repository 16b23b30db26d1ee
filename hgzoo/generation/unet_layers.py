"""The ID-conditioned U-Net's layers: an embedding-shifted residual block and a hookable cross-attention block.

:class:`UNetCrossAttention` calls the same ``attend(q, k, v, identity_mask)``
hook as :class:`~hgzoo.generation.layers.DiTBlock`'s cross-attention, so the
plug-ins of :mod:`hgzoo.generation.plugins` reach into the U-Net unchanged.

Example:

>>> import numpy as np
>>> block = UNetResBlock(16, groups=4)
>>> tuple(block(np.ones((1, 8, 8, 8), "float32"), np.ones((1, 12), "float32")).shape)
(1, 8, 8, 16)
"""

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export
from hgzoo.generation.layers import joint_attention, merge_heads, split_heads


def _group_norm(channels, groups, name, policy):
    if channels % groups:
        raise ValueError(f"{channels} channels are not a multiple of {groups} normalisation groups")
    return keras.layers.GroupNormalization(groups, epsilon=1e-5, name=name, dtype=policy)


@hgzoo_export
class UNetResBlock(keras.layers.Layer):
    """DDPM's residual block: GroupNorm-SiLU-Conv3×3, + a per-channel shift from the embedding, GroupNorm-SiLU-Conv3×3.

    ``call(x, embedding)``: ``x`` (B, H, W, C_in), ``embedding`` (B, E) the
    timestep + scene vector; returns (B, H, W, ``channels``). A 1×1
    convolution carries the residual when the channel count changes.

    Example:

    >>> import numpy as np
    >>> tuple(UNetResBlock(8, groups=4)(np.ones((2, 4, 4, 4), "float32"), np.ones((2, 6), "float32")).shape)
    (2, 4, 4, 8)
    """

    def __init__(self, channels, groups=8, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.groups = int(channels), int(groups)
        policy = self.dtype_policy
        self.norm2 = _group_norm(self.channels, self.groups, "norm2", policy)
        self.conv1 = keras.layers.Conv2D(self.channels, 3, padding="same", name="conv1", dtype=policy)
        self.conv2 = keras.layers.Conv2D(self.channels, 3, padding="same", name="conv2", dtype=policy)
        self.shift = keras.layers.Dense(self.channels, name="shift", dtype=policy)

    def build(self, x_shape, embedding_shape=None):
        c_in = int(x_shape[-1])
        self.norm1 = _group_norm(c_in, self.groups, "norm1", self.dtype_policy)
        self.norm1.build(x_shape)
        self.conv1.build(x_shape)
        inner = (*x_shape[:-1], self.channels)
        self.norm2.build(inner)
        self.conv2.build(inner)
        self.shift.build((None, int(embedding_shape[-1])))
        self.skip = None
        if c_in != self.channels:
            self.skip = keras.layers.Conv2D(self.channels, 1, name="skip", dtype=self.dtype_policy)
            self.skip.build(x_shape)

    def call(self, x, embedding):
        h = self.conv1(ops.silu(self.norm1(x)))
        h = h + self.shift(ops.silu(embedding))[:, None, None, :]
        h = self.conv2(ops.silu(self.norm2(h)))
        return (x if self.skip is None else self.skip(x)) + h

    def compute_output_shape(self, x_shape, embedding_shape=None):
        return (*x_shape[:-1], self.channels)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "groups": self.groups}


@hgzoo_export
class UNetCrossAttention(keras.layers.Layer):
    """Image positions attend to the conditioning sequence: GroupNorm, q/k/v, the ``attend`` hook, out, residual.

    ``call(x, context, attend=None, identity_mask=None)``: ``x`` (B, H, W, C)
    feature map, ``context`` (B, M, D) the conditioning sequence. The H·W
    positions are the queries, the M tokens the keys and values; ``attend``
    is called as in :class:`~hgzoo.generation.layers.DiTBlock`:
    ``attend(q, k, v, identity_mask)`` with q (B, heads, H·W, d), k and v
    (B, heads, M, d) and ``identity_mask`` (B, M) float, 1 on the identity
    tokens (zeros when not given); it defaults to
    :func:`~hgzoo.generation.layers.joint_attention` (softmax in float32).

    Example:

    >>> import numpy as np
    >>> block = UNetCrossAttention(heads=2, groups=4)
    >>> tuple(block(np.ones((1, 4, 4, 8), "float32"), np.ones((1, 5, 6), "float32")).shape)
    (1, 4, 4, 8)
    """

    def __init__(self, heads=4, groups=8, **kwargs):
        super().__init__(**kwargs)
        self.heads, self.groups = int(heads), int(groups)

    def build(self, x_shape, context_shape=None):
        channels = int(x_shape[-1])
        if channels % self.heads:
            raise ValueError(f"{channels} channels are not a multiple of heads {self.heads}")
        policy = self.dtype_policy
        self.norm = _group_norm(channels, self.groups, "norm", policy)
        self.norm.build(x_shape)
        self.query = keras.layers.Dense(channels, name="query", dtype=policy)
        self.key_value = keras.layers.Dense(2 * channels, name="key_value", dtype=policy)
        self.out = keras.layers.Dense(channels, name="out", dtype=policy)
        self.query.build((None, channels))
        self.key_value.build((None, int(context_shape[-1])))
        self.out.build((None, channels))

    def call(self, x, context, attend=None, identity_mask=None):
        attend = attend or joint_attention
        height, width, channels = x.shape[1], x.shape[2], x.shape[3]
        n, m = height * width, context.shape[1]
        h = ops.reshape(self.norm(x), (-1, n, channels))
        q = split_heads(self.query(h), self.heads, n)
        k, v = (split_heads(t, self.heads, m) for t in ops.split(self.key_value(context), 2, axis=-1))
        if identity_mask is None:
            identity_mask = ops.zeros((ops.shape(context)[0], m), "float32")
        attended = self.out(merge_heads(attend(q, k, v, identity_mask), n))
        return x + ops.reshape(attended, (-1, height, width, channels))

    def compute_output_shape(self, x_shape, context_shape=None):
        return tuple(x_shape)

    def get_config(self):
        return {**super().get_config(), "heads": self.heads, "groups": self.groups}
