"""The ID-conditioned DiT's layers: patch tokens, timestep embedding, condition tokens, hookable blocks.

The conditioning sequence a block's cross-attention reads is, in order,
``[prepend slots | identity tokens | layout token | background token]``
(:class:`ConditionTokens`); the cross-attention takes an ``attend`` function
and a per-sample ``identity_mask`` over that sequence, which is where the
plug-ins of :mod:`hgzoo.generation.plugins` reach into the network.

Example:

>>> import numpy as np
>>> from hgzoo.generation.layers import joint_attention
>>> q, k = np.ones((1, 1, 2, 4), "float32"), np.ones((1, 1, 3, 4), "float32")
>>> v = np.arange(12, dtype="float32").reshape(1, 1, 3, 4)
>>> np.round(np.asarray(joint_attention(q, k, v, np.zeros((1, 3), "float32")))[0, 0, 0], 4).tolist()
[4.0, 5.0, 6.0, 7.0]
"""

import math

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export

NEG_INF = -1e9


def split_heads(x, heads, length):
    """(B, N, D) -> (B, heads, N, D / heads); N static."""
    x = ops.reshape(x, (-1, length, heads, x.shape[-1] // heads))
    return ops.transpose(x, (0, 2, 1, 3))


def merge_heads(x, length):
    """(B, heads, N, d) -> (B, N, heads·d)."""
    x = ops.transpose(x, (0, 2, 1, 3))
    return ops.reshape(x, (-1, length, x.shape[2] * x.shape[3]))


def attention_logits(q, k):
    """Scaled dot products in float32 (softmax under mixed precision)."""
    q, k = ops.cast(q, "float32"), ops.cast(k, "float32")
    return ops.einsum("bhnd,bhmd->bhnm", q, k) / math.sqrt(q.shape[-1])


def joint_attention(q, k, v, identity_mask):
    """The plain cross-attention: one softmax over the whole conditioning sequence.

    ``identity_mask`` (B, M), 1 on identity tokens, is unused here; it is the
    argument an attention hook reads (the default ``attend`` of every block).
    """
    del identity_mask
    weights = ops.softmax(attention_logits(q, k), axis=-1)
    return ops.cast(ops.einsum("bhnm,bhmd->bhnd", weights, ops.cast(v, "float32")), v.dtype)


def sinusoid(t, dim):
    """(B,) float timesteps -> (B, dim) sin/cos features (the DDPM/DiT timestep encoding)."""
    half = dim // 2
    freqs = ops.exp(-math.log(10000.0) * ops.arange(half, dtype="float32") / half)
    angles = ops.cast(ops.reshape(t, (-1, 1)), "float32") * freqs[None, :]
    return ops.concatenate([ops.cos(angles), ops.sin(angles)], axis=-1)


@hgzoo_export
class TimestepEmbedding(keras.layers.Layer):
    """(B,) diffusion timesteps -> (B, width): sinusoid, Dense-SiLU-Dense (as DiT).

    Example:

    >>> import numpy as np
    >>> tuple(TimestepEmbedding(8)(np.array([0.0, 999.0], "float32")).shape)
    (2, 8)
    """

    def __init__(self, width, **kwargs):
        super().__init__(**kwargs)
        self.width = int(width)
        self.hidden = keras.layers.Dense(self.width, activation="silu", name="hidden", dtype=self.dtype_policy)
        self.out = keras.layers.Dense(self.width, name="out", dtype=self.dtype_policy)

    def build(self, shape):
        self.hidden.build((None, self.width))
        self.out.build((None, self.width))

    def call(self, t):
        return self.out(self.hidden(ops.cast(sinusoid(t, self.width), self.compute_dtype)))

    def compute_output_shape(self, shape):
        return (shape[0], self.width)

    def get_config(self):
        return {**super().get_config(), "width": self.width}


@hgzoo_export
class PatchTokens(keras.layers.Layer):
    """(B, H, W, C) image -> (B, H·W / p², width) tokens: a p×p stride-p conv plus learned positions.

    Example:

    >>> import numpy as np
    >>> tuple(PatchTokens(4, 8, (16, 16))(np.zeros((1, 16, 16, 3), "float32")).shape)
    (1, 16, 8)
    """

    def __init__(self, patch_size, width, image_size, **kwargs):
        super().__init__(**kwargs)
        self.patch_size, self.width = int(patch_size), int(width)
        self.image_size = tuple(int(s) for s in image_size)
        self.length = (self.image_size[0] // self.patch_size) * (self.image_size[1] // self.patch_size)
        self.conv = keras.layers.Conv2D(self.width, self.patch_size, strides=self.patch_size, name="conv",
                                        dtype=self.dtype_policy)

    def build(self, shape):
        self.conv.build(shape)
        self.positions = self.add_weight(shape=(self.length, self.width), name="positions",
                                         initializer=keras.initializers.RandomNormal(stddev=0.02))

    def call(self, images):
        tokens = ops.reshape(self.conv(images), (-1, self.length, self.width))
        return tokens + ops.cast(self.positions, tokens.dtype)[None]

    def compute_output_shape(self, shape):
        return (shape[0], self.length, self.width)

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size, "width": self.width,
                "image_size": list(self.image_size)}


def layout_features(layout):
    """(B, 3) layout -> (B, 27): the values and sin/cos at 4 octaves, so positions are resolved finely."""
    layout = ops.cast(layout, "float32")
    scaled = ops.concatenate([layout * (2.0 ** k) * math.pi for k in range(4)], axis=-1)
    return ops.concatenate([layout, ops.sin(scaled), ops.cos(scaled)], axis=-1)


@hgzoo_export
class ConditionTokens(keras.layers.Layer):
    """Identity embedding + layout + background class -> the conditioning sequence and a scene vector.

    Returns ``context`` (B, P + I + 2, width), laid out as
    ``[P prepend slots | I identity tokens | layout token | background token]``,
    and ``scene`` (B, width), the layout and background tokens summed (added
    to the timestep embedding that modulates every block).

    * The prepend slots are learned tokens, randomly initialised: the
      conditioning sequence's fixed head, the slots that Identity
      Aggregation Prepending fills with aggregated identity tokens.
    * The identity (B, identity_dim) is L2-normalised, then a Dense layer
      gives I tokens. An all-zero identity means *no identity*: a learned
      null token takes its place.
    * The layout (B, 3) is (face scale, centre x, centre y) as fractions of
      the frame; a scale ≤ 0 means *no layout* (learned null token).
    * The background (B,) int class; ``num_backgrounds`` means *no
      background* (the embedding's extra row).

    Classifier-free guidance needs these "no condition" inputs: in training
    each of the three conditions is dropped independently with probability
    ``dropout`` (a ``keras.random.SeedGenerator``, as Keras' Dropout).

    Example:

    >>> import numpy as np
    >>> layer = ConditionTokens(8, identity_dim=4, identity_tokens=2, prepend_tokens=1, num_backgrounds=3)
    >>> context, scene = layer(np.ones((2, 4), "float32"), np.full((2, 3), 0.5, "float32"), np.array([0, 3]))
    >>> tuple(context.shape), tuple(scene.shape)
    ((2, 5, 8), (2, 8))
    """

    def __init__(self, width, identity_dim=128, identity_tokens=2, prepend_tokens=2, num_backgrounds=4,
                 dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.width, self.identity_dim = int(width), int(identity_dim)
        self.identity_tokens, self.prepend_tokens = int(identity_tokens), int(prepend_tokens)
        self.num_backgrounds, self.dropout, self.seed = int(num_backgrounds), float(dropout), seed
        self.length = self.prepend_tokens + self.identity_tokens + 2
        policy = self.dtype_policy
        self.identity_proj = keras.layers.Dense(self.identity_tokens * self.width, name="identity_proj",
                                                dtype=policy)
        self.layout_hidden = keras.layers.Dense(self.width, activation="silu", name="layout_hidden", dtype=policy)
        self.layout_proj = keras.layers.Dense(self.width, name="layout_proj", dtype=policy)
        self.background_embedding = keras.layers.Embedding(self.num_backgrounds + 1, self.width,
                                                           name="background_embedding", dtype=policy)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, identity_shape, layout_shape=None, background_shape=None):
        self.identity_proj.build((None, self.identity_dim))
        self.layout_hidden.build((None, 27))
        self.layout_proj.build((None, self.width))
        self.background_embedding.build((None,))
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.prepend = self.add_weight(shape=(max(self.prepend_tokens, 1), self.width), name="prepend",
                                       initializer=init)
        self.null_identity = self.add_weight(shape=(self.identity_tokens, self.width), name="null_identity",
                                             initializer=init)
        self.null_layout = self.add_weight(shape=(self.width,), name="null_layout", initializer=init)

    def _keep(self, present, training):
        if not training or self.dropout <= 0:
            return present
        draw = keras.random.uniform(ops.shape(present), seed=self.seed_generator)
        return ops.logical_and(present, draw >= self.dropout)

    def identity_sequence(self, identity):
        """(B, identity_dim) -> (B, I, width): the identity tokens (no null handling)."""
        identity = ops.cast(identity, "float32")
        norm = ops.sqrt(ops.sum(ops.square(identity), axis=-1, keepdims=True))
        unit = ops.cast(identity / ops.maximum(norm, 1e-6), self.compute_dtype)
        return ops.reshape(self.identity_proj(unit), (-1, self.identity_tokens, self.width))

    def call(self, identity, layout, background, training=None):
        dtype = self.compute_dtype
        background = ops.cast(background, "int32")
        has_identity = self._keep(ops.any(ops.not_equal(identity, 0), axis=-1), training)
        has_layout = self._keep(ops.cast(layout, "float32")[:, 0] > 0, training)
        has_background = self._keep(ops.logical_and(background >= 0, background < self.num_backgrounds), training)
        tokens = ops.where(has_identity[:, None, None], self.identity_sequence(identity),
                           ops.cast(self.null_identity, dtype)[None])
        layout_token = self.layout_proj(self.layout_hidden(ops.cast(layout_features(layout), dtype)))
        layout_token = ops.where(has_layout[:, None], layout_token, ops.cast(self.null_layout, dtype)[None])
        background_token = self.background_embedding(ops.where(has_background, background, self.num_backgrounds))
        prepend = ops.zeros_like(tokens[:, :1, :1]) + ops.cast(self.prepend, dtype)[None]
        parts = ([prepend[:, :self.prepend_tokens]] if self.prepend_tokens else []) + \
            [tokens, layout_token[:, None], background_token[:, None]]
        return ops.concatenate(parts, axis=1), layout_token + background_token

    def compute_output_shape(self, identity_shape, layout_shape=None, background_shape=None):
        return (identity_shape[0], self.length, self.width), (identity_shape[0], self.width)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "identity_dim": self.identity_dim,
                "identity_tokens": self.identity_tokens, "prepend_tokens": self.prepend_tokens,
                "num_backgrounds": self.num_backgrounds, "dropout": self.dropout, "seed": self.seed}


@hgzoo_export
class DiTBlock(keras.layers.Layer):
    """adaLN self-attention, cross-attention to the conditioning sequence, adaLN MLP (a PixArt-α-style DiT block).

    ``call(x, context, condition, attend=None, identity_mask=None)``: ``x``
    (B, N, width) image tokens, ``context`` (B, M, width) the conditioning
    sequence, ``condition`` (B, width) the timestep + scene vector that
    modulates the two adaLN norms (shift, scale, gate). The cross-attention is
    the **attention hook point**: ``attend(q, k, v, identity_mask)`` with
    q (B, heads, N, d), k and v (B, heads, M, d) and ``identity_mask``
    (B, M) float, 1 on the tokens that carry identity; it defaults to
    :func:`joint_attention`.

    Example:

    >>> import numpy as np
    >>> block = DiTBlock(8, heads=2)
    >>> tuple(block(np.ones((1, 4, 8), "float32"), np.ones((1, 3, 8), "float32"),
    ...             np.ones((1, 8), "float32")).shape)
    (1, 4, 8)
    """

    def __init__(self, width, heads=4, mlp_ratio=4, **kwargs):
        super().__init__(**kwargs)
        self.width, self.heads, self.mlp_ratio = int(width), int(heads), int(mlp_ratio)
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not a multiple of heads {self.heads}")
        policy = self.dtype_policy

        def dense(units, name, activation=None):
            return keras.layers.Dense(units, activation=activation, name=name, dtype=policy)

        def norm(name, affine):
            return keras.layers.LayerNormalization(epsilon=1e-6, center=affine, scale=affine, name=name,
                                                   dtype=policy)

        self.modulation = dense(6 * self.width, "modulation")
        self.norm1, self.norm2, self.norm3 = norm("norm1", False), norm("norm2", True), norm("norm3", False)
        self.qkv, self.self_out = dense(3 * self.width, "qkv"), dense(self.width, "self_out")
        self.cross_q, self.cross_kv = dense(self.width, "cross_q"), dense(2 * self.width, "cross_kv")
        self.cross_out = dense(self.width, "cross_out")
        self.mlp_in = dense(self.mlp_ratio * self.width, "mlp_in", activation="gelu")
        self.mlp_out = dense(self.width, "mlp_out")

    def build(self, x_shape, context_shape=None, condition_shape=None):
        w = self.width
        for layer, units in ((self.modulation, w), (self.qkv, w), (self.self_out, w), (self.cross_q, w),
                             (self.cross_kv, w), (self.cross_out, w), (self.mlp_in, w),
                             (self.mlp_out, self.mlp_ratio * w)):
            layer.build((None, units))
        for layer in (self.norm1, self.norm2, self.norm3):
            layer.build((None, None, w))

    def call(self, x, context, condition, attend=None, identity_mask=None):
        attend = attend or joint_attention
        n, m = x.shape[1], context.shape[1]
        mod = self.modulation(ops.silu(condition))[:, None, :]
        shift1, scale1, gate1, shift2, scale2, gate2 = ops.split(mod, 6, axis=-1)
        h = self.norm1(x) * (1 + scale1) + shift1
        q, k, v = (split_heads(t, self.heads, n) for t in ops.split(self.qkv(h), 3, axis=-1))
        x = x + gate1 * self.self_out(merge_heads(joint_attention(q, k, v, None), n))
        q = split_heads(self.cross_q(self.norm2(x)), self.heads, n)
        k, v = (split_heads(t, self.heads, m) for t in ops.split(self.cross_kv(context), 2, axis=-1))
        if identity_mask is None:
            identity_mask = ops.zeros((ops.shape(context)[0], m), "float32")
        x = x + self.cross_out(merge_heads(attend(q, k, v, identity_mask), n))
        h = self.norm3(x) * (1 + scale2) + shift2
        return x + gate2 * self.mlp_out(self.mlp_in(h))

    def compute_output_shape(self, x_shape, context_shape=None, condition_shape=None):
        return tuple(x_shape)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "heads": self.heads, "mlp_ratio": self.mlp_ratio}


@hgzoo_export
class PatchOutput(keras.layers.Layer):
    """(B, N, width) tokens + (B, width) condition -> (B, H, W, C) float32: adaLN, Dense(p²·C), unpatchify.

    Example:

    >>> import numpy as np
    >>> out = PatchOutput(4, 3, (8, 8), 16)(np.ones((1, 4, 16), "float32"), np.ones((1, 16), "float32"))
    >>> import keras
    >>> tuple(out.shape), keras.backend.standardize_dtype(out.dtype)
    ((1, 8, 8, 3), 'float32')
    """

    def __init__(self, patch_size, channels, image_size, width, **kwargs):
        super().__init__(**kwargs)
        self.patch_size, self.channels, self.width = int(patch_size), int(channels), int(width)
        self.image_size = tuple(int(s) for s in image_size)
        self.norm = keras.layers.LayerNormalization(epsilon=1e-6, center=False, scale=False, name="norm",
                                                    dtype=self.dtype_policy)
        self.modulation = keras.layers.Dense(2 * self.width, name="modulation", dtype=self.dtype_policy)
        self.proj = keras.layers.Dense(self.patch_size ** 2 * self.channels, name="proj", dtype=self.dtype_policy)

    def build(self, x_shape, condition_shape=None):
        self.modulation.build((None, self.width))
        self.norm.build((None, None, self.width))
        self.proj.build((None, self.width))

    def call(self, x, condition):
        shift, scale = ops.split(self.modulation(ops.silu(condition))[:, None, :], 2, axis=-1)
        patches = self.proj(self.norm(x) * (1 + scale) + shift)
        p, (height, width) = self.patch_size, self.image_size
        grid = ops.reshape(patches, (-1, height // p, width // p, p, p, self.channels))
        grid = ops.transpose(grid, (0, 1, 3, 2, 4, 5))
        return ops.cast(ops.reshape(grid, (-1, height, width, self.channels)), "float32")

    def compute_output_shape(self, x_shape, condition_shape=None):
        return (x_shape[0], *self.image_size, self.channels)

    def compute_output_spec(self, x, condition):
        return keras.KerasTensor((x.shape[0], *self.image_size, self.channels), dtype="float32")

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size, "channels": self.channels,
                "image_size": list(self.image_size), "width": self.width}
