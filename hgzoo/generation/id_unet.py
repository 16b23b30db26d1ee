"""IDUNet: a small convolutional U-Net denoiser with IDDiffusion's inputs, output and hook interface."""

import types

import keras
from keras import ops

from hgzoo.generation.id_diffusion import DenoiserInterface
from hgzoo.generation.layers import ConditionTokens, TimestepEmbedding
from hgzoo.generation.schedule import NoiseSchedule
from hgzoo.generation.unet_layers import UNetCrossAttention, UNetResBlock
from hgzoo.models.base import ZooModel
from hgzoo.models.search_space import Choice, Float
from hgzoo.registry import register_model


@register_model(task="generation", name="id_unet")
class IDUNet(DenoiserInterface, ZooModel):
    """ε-prediction U-Net: ``[noisy, timestep, identity, layout, background]`` -> predicted noise (B, H, W, C).

    The same model as :class:`~hgzoo.generation.IDDiffusion` for everything
    outside the denoiser: the same five inputs, the float32 ε output, the
    conditioning (:class:`~hgzoo.generation.layers.ConditionTokens`: the
    sequence ``[prepend slots | identity tokens | layout | background]`` and
    the scene vector), the noise schedule, ``compile()`` defaults, the serving
    signature and the hook interface (``conditioning``, ``identity_tokens``,
    ``predict_noise``, ``identity_slots``, ``prepend_slots``,
    ``sample_shape``, ``decode``, ``num_backgrounds``), so
    :func:`hgzoo.generation.sample` and every plug-in run on it unchanged.
    Both share those methods through
    :class:`~hgzoo.generation.id_diffusion.DenoiserInterface`; the network is
    its own.

    The denoiser: a 3×3 conv stem; per resolution level one
    :class:`~hgzoo.generation.unet_layers.UNetResBlock` (the embedding
    time(t) + scene shifts its channels) and a stride-2 conv down; a middle
    of residual block, cross-attention, residual block; on the way up, the
    level's skip concatenated, a residual block and a nearest-upsample +
    3×3 conv; GroupNorm-SiLU-Conv3×3 to the image channels, cast to float32.
    At every level whose feature map is at most ``attention_resolution`` on a
    side (and in the middle) a
    :class:`~hgzoo.generation.unet_layers.UNetCrossAttention` lets the
    positions attend to the conditioning sequence through the ``attend`` hook
    (where Identity Adaptive Fusion reaches in). The identity enters only
    there, as in IDDiffusion; the layout and background also shift every
    residual block through the scene vector.

    Design choices (BeyondFacial's base models are large pretrained
    text-to-image pipelines, unreachable offline; these are ours):

    * A conv U-Net beside the DiT because, trained from scratch on a CPU
      budget of hours, convolutions' locality learns image structure far
      sooner than patch tokens (IDDiffusion's 23-minute samples were patch
      noise); Stable Diffusion 1/2, the base of most ID-preserving plug-ins,
      is such a U-Net with cross-attention at its low resolutions.
    * Cross-attention at ≤ 16×16 and in the middle only: it costs H·W·M
      per map, and the identity is a global property of the face.
    * One residual block per level and a per-channel shift (DDPM's block,
      not FiLM's scale) keep it at 2.1 M parameters at 64×64 with the
      default widths (32, 64, 96, 96) (widths (32, 64, 96, 128): 2.8 M).
    * The same ``ConditionTokens`` and ``TimestepEmbedding`` as IDDiffusion
      (width ``width``), so the conditioning and the plug-ins' token
      arithmetic are shared, not re-derived.
    * Default initialisations (no zero-initialised output), as IDDiffusion,
      so an untrained model already responds to every condition.
    * The price: full-resolution convolutions cost more per step than
      patch tokens (an eager 64×64 batch of 32 took about 3× as long as
      IDDiffusion(width=96, depth=3)'s on a shared 2-vCPU machine; one measurement).

    Args:
        image_size: (H, W), multiples of 2^(levels − 1).
        channels: image channels.
        widths: feature channels per resolution level (the first also the
            stem's); each a multiple of ``groups``.
        width: the conditioning tokens' and embedding's width.
        heads: cross-attention heads (every cross-attending level's width a
            multiple of it).
        groups: GroupNormalization groups.
        attention_resolution: cross-attend at levels whose side is at most
            this.
        identity_dim, identity_tokens, prepend_tokens, num_backgrounds,
        condition_dropout, timesteps, seed: as :class:`IDDiffusion`.

    Example:

    >>> import numpy as np
    >>> model = IDUNet(image_size=(16, 16), widths=(8, 16), width=16, heads=2, groups=4)
    >>> eps = model.predict_on_batch([np.zeros((2, 16, 16, 3), "float32"), np.array([10.0, 500.0], "float32"),
    ...                               np.ones((2, 128), "float32"), np.array([[0.5, 0.5, 0.5]] * 2, "float32"),
    ...                               np.array([0, 1], "int32")])
    >>> eps.shape, str(eps.dtype)
    ((2, 16, 16, 3), 'float32')
    """

    search_space = {
        "widths": Choice([[32, 64, 96, 96], [32, 64, 96, 128], [48, 96, 144, 144]]),
        "condition_dropout": Float(0.0, 0.2),
    }

    def __init__(self, image_size=(64, 64), channels=3, widths=(32, 64, 96, 96), width=128, heads=4, groups=8,
                 attention_resolution=16, identity_dim=128, identity_tokens=2, prepend_tokens=2, num_backgrounds=4,
                 condition_dropout=0.1, timesteps=1000, seed=None, name="id_unet", dtype=None, **kwargs):
        image_size = tuple(int(s) for s in image_size)
        widths = tuple(int(w) for w in widths)
        if not widths:
            raise ValueError("widths must name at least one level")
        factor = 2 ** (len(widths) - 1)
        if any(s % factor for s in image_size):
            raise ValueError(f"image_size {image_size} must be multiples of {factor} for {len(widths)} levels")
        noisy = keras.Input((*image_size, int(channels)), name="noisy")
        timestep = keras.Input((), name="timestep")
        identity = keras.Input((int(identity_dim),), name="identity")
        layout = keras.Input((3,), name="layout")
        background = keras.Input((), dtype="int32", name="background")
        parts = unet_parts(image_size, int(channels), widths, int(width), int(heads), int(groups),
                           int(attention_resolution), dtype)
        parts.conditions = ConditionTokens(width, identity_dim, identity_tokens, prepend_tokens, num_backgrounds,
                                           dropout=condition_dropout, seed=seed, name="conditions", dtype=dtype)
        context, scene = parts.conditions(identity, layout, background)
        eps = denoise(parts, noisy, timestep, context, scene)
        super().__init__(inputs=[noisy, timestep, identity, layout, background], outputs=eps, name=name, dtype=dtype,
                         **kwargs)
        self._parts = parts
        self._arguments = {"image_size": list(image_size), "channels": int(channels), "widths": list(widths),
                           "width": int(width), "heads": int(heads), "groups": int(groups),
                           "attention_resolution": int(attention_resolution), "identity_dim": int(identity_dim),
                           "identity_tokens": int(identity_tokens), "prepend_tokens": int(prepend_tokens),
                           "num_backgrounds": int(num_backgrounds), "condition_dropout": float(condition_dropout),
                           "timesteps": int(timesteps), "seed": seed}
        self.schedule = NoiseSchedule(int(timesteps))
        self.compile()

    def _denoise(self, *args):
        return denoise(self._parts, *args)


def unet_parts(image_size, channels, widths, width, heads, groups, attention_resolution, dtype):
    """The U-Net's layers (all but the conditioning), named by level."""
    def conv(filters, name, strides=1):
        return keras.layers.Conv2D(filters, 3, strides=strides, padding="same", name=name, dtype=dtype)

    def attention(level_side, name):
        return UNetCrossAttention(heads, groups, name=name, dtype=dtype) if level_side <= attention_resolution \
            else None

    side = min(image_size)
    sides = [side // 2 ** i for i in range(len(widths))]
    last = len(widths) - 1
    return types.SimpleNamespace(
        time=TimestepEmbedding(width, name="timestep_embedding", dtype=dtype),
        stem=conv(widths[0], "stem"),
        down=[UNetResBlock(w, groups, name=f"down{i + 1}", dtype=dtype) for i, w in enumerate(widths)],
        down_attention=[attention(s, f"down{i + 1}_attention") for i, s in enumerate(sides)],
        downsample=[conv(w, f"downsample{i + 1}", strides=2) for i, w in enumerate(widths[:-1])],
        middle=[UNetResBlock(widths[-1], groups, name="middle1", dtype=dtype),
                UNetResBlock(widths[-1], groups, name="middle2", dtype=dtype)],
        middle_attention=UNetCrossAttention(heads, groups, name="middle_attention", dtype=dtype),
        up=[UNetResBlock(w, groups, name=f"up{i + 1}", dtype=dtype) for i, w in enumerate(widths)],
        up_attention=[attention(s, f"up{i + 1}_attention") for i, s in enumerate(sides)],
        upsample=[keras.layers.UpSampling2D(2, interpolation="nearest", name=f"upsample{i + 1}", dtype=dtype)
                  for i in range(last)],
        upsample_conv=[conv(widths[i], f"upsample{i + 1}_conv") for i in range(last)],
        output_norm=keras.layers.GroupNormalization(groups, epsilon=1e-5, name="output_norm", dtype=dtype),
        output=conv(channels, "noise"))


def denoise(parts, noisy, timestep, context, scene, attend=None, identity_mask=None):
    """The U-Net's forward pass over given conditions: the one graph both the model and the hooks run."""
    embedding = parts.time(timestep) + scene
    x = parts.stem(ops.cast(noisy, parts.stem.compute_dtype))
    skips = []
    for i, block in enumerate(parts.down):
        x = block(x, embedding)
        if parts.down_attention[i] is not None:
            x = parts.down_attention[i](x, context, attend=attend, identity_mask=identity_mask)
        skips.append(x)
        if i < len(parts.downsample):
            x = parts.downsample[i](x)
    x = parts.middle[0](x, embedding)
    x = parts.middle_attention(x, context, attend=attend, identity_mask=identity_mask)
    x = parts.middle[1](x, embedding)
    for i in reversed(range(len(parts.up))):
        x = parts.up[i](ops.concatenate([x, skips[i]], axis=-1), embedding)
        if parts.up_attention[i] is not None:
            x = parts.up_attention[i](x, context, attend=attend, identity_mask=identity_mask)
        if i > 0:
            x = parts.upsample_conv[i - 1](parts.upsample[i - 1](x))
    x = parts.output(ops.silu(parts.output_norm(x)))
    return ops.cast(x, "float32")
