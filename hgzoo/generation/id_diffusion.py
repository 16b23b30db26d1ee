"""IDDiffusion: a small DiT denoiser conditioned on a 128-d identity embedding, a face layout and a background."""

import types

import keras
import numpy as np
from keras import ops

from hgzoo.generation.layers import ConditionTokens, DiTBlock, PatchOutput, PatchTokens, TimestepEmbedding
from hgzoo.generation.schedule import NoiseSchedule
from hgzoo.models.base import ZooModel
from hgzoo.registry import register_model

LAYOUT = ("scale", "centre_x", "centre_y")


class DenoiserInterface:
    """What the sampler and the plug-ins use of a denoiser built from ``ConditionTokens`` (``self._parts
    .conditions``) and constructor arguments kept in ``self._arguments``: compile defaults, config,
    serving signature and the hook interface. Each model supplies ``_denoise(noisy, timestep, context, scene,
    attend, identity_mask)``, its network's forward pass, which ``predict_noise`` runs eagerly.

    Example:

    >>> from hgzoo.generation import IDDiffusion, IDUNet
    >>> issubclass(IDDiffusion, DenoiserInterface) and issubclass(IDUNet, DenoiserInterface)
    True
    """

    def compile(self, optimizer="auto", loss="auto", **kwargs):
        """Keras ``compile`` with ``"auto"``: AdamW(1e-4, weight decay 0) and the ε-MSE."""
        super().compile(optimizer=keras.optimizers.AdamW(1e-4, weight_decay=0.0) if optimizer == "auto"
                        else optimizer, loss="mean_squared_error" if loss == "auto" else loss, **kwargs)

    def get_config(self):
        return {**super().get_config(), **self._arguments}

    def serving_signature(self, input_dtype="float32"):
        """The sampler's denoiser step for TF Serving: inputs ``noisy``, ``timestep``, ``identity``, ``layout``
        (float32) and ``background`` (int32), output ``noise`` (float32); the DDIM loop and the plug-ins run
        in the client (they combine several such calls)."""
        if input_dtype != "float32":
            raise ValueError(f"{type(self).__name__} serves float32 noisy images, got input_dtype={input_dtype!r}")
        a = self._arguments

        def serve(noisy, timestep, identity, layout, background):
            return {"noise": self([noisy, timestep, identity, layout, background], training=False)}

        return {"noisy": ((None, *a["image_size"], a["channels"]), "float32"), "timestep": ((None,), "float32"),
                "identity": ((None, a["identity_dim"]), "float32"), "layout": ((None, 3), "float32"),
                "background": ((None,), "int32")}, serve

    @property
    def sample_shape(self):
        """(H, W, C) of the images the sampler draws."""
        return (*self._arguments["image_size"], self._arguments["channels"])

    @staticmethod
    def decode(x):
        """Sampled images in [-1, 1] -> [0, 1]."""
        return np.clip((np.asarray(x, np.float32) + 1.0) / 2.0, 0.0, 1.0)

    @property
    def num_backgrounds(self):
        """Background classes (an input of ``num_backgrounds`` means no background)."""
        return self._arguments["num_backgrounds"]

    @property
    def identity_slots(self):
        """(start, stop) of the identity tokens in the conditioning sequence."""
        p = self._arguments["prepend_tokens"]
        return p, p + self._arguments["identity_tokens"]

    @property
    def prepend_slots(self):
        """(start, stop) of the prepend slots in the conditioning sequence."""
        return 0, self._arguments["prepend_tokens"]

    def conditioning(self, identity, layout, background):
        """``(context, scene)``: the conditioning sequence (B, M, width) and scene vector (B, width), inference mode."""
        return self._parts.conditions(ops.convert_to_tensor(np.asarray(identity, np.float32)),
                                      ops.convert_to_tensor(np.asarray(layout, np.float32)),
                                      ops.convert_to_tensor(np.asarray(background, np.int32)), training=False)

    def identity_tokens(self, identity):
        """(B, identity_dim) embeddings -> (B, identity_tokens, width): the tokens an identity becomes."""
        return self._parts.conditions.identity_sequence(ops.convert_to_tensor(np.asarray(identity, np.float32)))

    def predict_noise(self, noisy, timestep, context, scene, attend=None, identity_mask=None):
        """ε for a given conditioning sequence, with an optional attention hook ``attend(q, k, v,
        identity_mask)`` that every cross-attention of the model calls (see :class:`DiTBlock`)."""
        noisy = ops.convert_to_tensor(np.asarray(noisy, np.float32))
        timestep = ops.convert_to_tensor(np.asarray(timestep, np.float32))
        return self._denoise(noisy, timestep, context, scene, attend, identity_mask)


@register_model(task="generation", name="id_diffusion")
class IDDiffusion(DenoiserInterface, ZooModel):
    """ε-prediction DiT: ``[noisy, timestep, identity, layout, background]`` -> predicted noise (B, H, W, C).

    hgzoo's own ID-conditioned diffusion model, the base the BeyondFacial
    plug-ins (:mod:`hgzoo.generation.plugins`) run on. A DiT (patch tokens,
    ``depth`` blocks of adaLN self-attention, cross-attention to the
    conditioning sequence and an adaLN MLP) predicts the DDPM noise ε.

    Inputs:
        noisy: (B, H, W, C) float, x_t (images live in [-1, 1]).
        timestep: (B,) float, t in [0, timesteps).
        identity: (B, identity_dim) float, a face embedding (dlib's 128-d
            descriptor); all zeros = no identity.
        layout: (B, 3) float, (face scale, centre x, centre y) as fractions
            of the frame; scale ≤ 0 = no layout.
        background: (B,) int, the background class; ``num_backgrounds`` =
            no background.

    Conditioning (:class:`~hgzoo.generation.layers.ConditionTokens`): the
    cross-attention reads ``[prepend slots | identity tokens | layout |
    background]``; the layout and background tokens are also added to the
    timestep embedding that modulates every block. The identity enters only
    through cross-attention, so the attention hook sees all of it.

    Training: DDPM's ε-MSE (``compile()`` defaults: AdamW(1e-4), MSE), on
    the pairs :meth:`NoiseSchedule.noised` draws on the host; each condition is
    dropped with probability ``condition_dropout`` in training for
    classifier-free guidance. Sampling: :func:`hgzoo.generation.sample`
    (DDIM). Under mixed precision the attention softmax and the output are
    float32.

    Design choices (BeyondFacial's base models are large pretrained
    text-to-image pipelines, unreachable offline): a DiT rather than a U-Net
    because its conditioning is one token sequence, the form SD3 and the
    plug-ins' hook points share; no VAE (64×64 pixels are small enough);
    default initialisations rather than DiT's adaLN-zero, so that an untrained
    model already responds to its conditions.

    Args:
        image_size: (H, W), multiples of ``patch_size``.
        channels: image channels.
        patch_size: pixels per token side.
        width: token width.
        depth: DiT blocks.
        heads: attention heads.
        identity_dim: identity embedding size (128 for dlib).
        identity_tokens: tokens the identity becomes.
        prepend_tokens: learned slots at the head of the conditioning
            sequence (where Identity Aggregation Prepending writes).
        num_backgrounds: background classes.
        condition_dropout: probability of dropping each condition in training.
        timesteps: T of the noise schedule.
        seed: the condition-dropout seed.

    Example:

    >>> import numpy as np
    >>> model = IDDiffusion(image_size=(16, 16), width=16, depth=1, heads=2)
    >>> eps = model.predict_on_batch([np.zeros((2, 16, 16, 3), "float32"), np.array([10.0, 500.0], "float32"),
    ...                               np.ones((2, 128), "float32"), np.array([[0.5, 0.5, 0.5]] * 2, "float32"),
    ...                               np.array([0, 1], "int32")])
    >>> eps.shape, str(eps.dtype)
    ((2, 16, 16, 3), 'float32')
    """

    def __init__(self, image_size=(64, 64), channels=3, patch_size=4, width=128, depth=4, heads=4, identity_dim=128,
                 identity_tokens=2, prepend_tokens=2, num_backgrounds=4, condition_dropout=0.1, timesteps=1000,
                 seed=None, name="id_diffusion", dtype=None, **kwargs):
        image_size = tuple(int(s) for s in image_size)
        if any(s % int(patch_size) for s in image_size):
            raise ValueError(f"image_size {image_size} must be multiples of patch_size {patch_size}")
        noisy = keras.Input((*image_size, int(channels)), name="noisy")
        timestep = keras.Input((), name="timestep")
        identity = keras.Input((int(identity_dim),), name="identity")
        layout = keras.Input((3,), name="layout")
        background = keras.Input((), dtype="int32", name="background")
        parts = types.SimpleNamespace(
            conditions=ConditionTokens(width, identity_dim, identity_tokens, prepend_tokens, num_backgrounds,
                                       dropout=condition_dropout, seed=seed, name="conditions", dtype=dtype),
            tokens=PatchTokens(patch_size, width, image_size, name="patch_tokens", dtype=dtype),
            time=TimestepEmbedding(width, name="timestep_embedding", dtype=dtype),
            blocks=[DiTBlock(width, heads, name=f"block{i + 1}", dtype=dtype) for i in range(int(depth))],
            output=PatchOutput(patch_size, channels, image_size, width, name="noise", dtype=dtype))
        context, scene = parts.conditions(identity, layout, background)
        eps = denoise(parts, noisy, timestep, context, scene)
        super().__init__(inputs=[noisy, timestep, identity, layout, background], outputs=eps, name=name,
                         dtype=dtype, **kwargs)
        self._parts = parts
        self._arguments = {"image_size": list(image_size), "channels": int(channels), "patch_size": int(patch_size),
                           "width": int(width), "depth": int(depth), "heads": int(heads),
                           "identity_dim": int(identity_dim), "identity_tokens": int(identity_tokens),
                           "prepend_tokens": int(prepend_tokens), "num_backgrounds": int(num_backgrounds),
                           "condition_dropout": float(condition_dropout), "timesteps": int(timesteps), "seed": seed}
        self.schedule = NoiseSchedule(int(timesteps))
        self.compile()

    def _denoise(self, *args):
        return denoise(self._parts, *args)


def denoise(parts, noisy, timestep, context, scene, attend=None, identity_mask=None):
    """The DiT's forward pass over given conditions: the one graph both the model and the hooks run."""
    x = parts.tokens(noisy)
    condition = parts.time(timestep) + scene
    for block in parts.blocks:
        x = block(x, context, condition, attend=attend, identity_mask=identity_mask)
    return parts.output(x, condition)
