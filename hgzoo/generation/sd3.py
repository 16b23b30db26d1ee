"""keras-hub's Stable Diffusion 3 behind the hook interface, so the BeyondFacial plug-ins run on it.

Needs ``keras-hub``, installed with ``--no-deps`` by ``hgzoo generation
install-parts`` (its declared ``tensorflow-text`` pulls the full TensorFlow
beside ``tensorflow-cpu``, and SD3's backbone does not import it). A user with real
SD3 weights builds the backbone from a preset and passes an identity
projection trained for it (an IP-Adapter-style map from the face embedding
to context tokens); here only tiny random configurations run (presets
download at run time).

Example:

>>> import numpy as np
>>> from hgzoo.generation.sd3 import FlowMatchSchedule
>>> schedule = FlowMatchSchedule(shift=3.0)
>>> np.round(schedule.sampling_timesteps(3), 1).tolist()
[1000.0, 750.4, 3.0]
"""

import importlib.util

import keras
import numpy as np
from keras import ops

from hgzoo.errors import MissingExtraError
from hgzoo.generation.optional_parts import INSTALL_HINT


class FlowMatchSchedule:
    """SD3's rectified-flow schedule (keras-hub's FlowMatchEulerDiscreteScheduler) in the sampler's interface.

    σ runs from 1 to the shifted σ_min over the steps, then 0; the model
    timestep is 1000·σ; the model predicts the velocity v = ε − x₀ and a step
    is Euler's x ← x + (σ_next − σ) v.

    Example:

    >>> import numpy as np
    >>> s = FlowMatchSchedule(shift=1.0)
    >>> s.step(np.ones((1, 2)), np.ones((1, 2)), 1000.0, 500.0).tolist()
    [[0.5, 0.5]]
    """

    def __init__(self, num_train_timesteps=1000, shift=3.0):
        self.num_train_timesteps, self.shift = int(num_train_timesteps), float(shift)

    def _sigma(self, t):
        s = np.asarray(t, np.float64) / self.num_train_timesteps
        return self.shift * s / (1.0 + (self.shift - 1.0) * s)

    def sampling_timesteps(self, steps):
        """Model timesteps (1000·σ), decreasing."""
        t = np.linspace(self.num_train_timesteps, 1.0, int(steps))
        return self._sigma(t) * self.num_train_timesteps

    def step(self, x, velocity, t, t_prev):
        """Euler from timestep ``t`` to ``t_prev`` (−1: σ = 0, the clean latent)."""
        sigma = float(t) / self.num_train_timesteps
        sigma_next = 0.0 if t_prev < 0 else float(t_prev) / self.num_train_timesteps
        return (np.asarray(x, np.float32) + (sigma_next - sigma) * np.asarray(velocity, np.float32)).astype(
            np.float32)


class SD3Denoiser:
    """A keras-hub ``StableDiffusion3Backbone`` as a denoiser of :func:`hgzoo.generation.sample`.

    The hook points on SD3's MMDiT:

    * conditioning sequence: MMDiT's ``context`` is
      ``[identity tokens | prompt tokens]``; Identity Aggregation Prepending
      has no prepend slots to fill here, so it prepends (the sequence grows);
    * attention: every joint block's attention (image and context tokens
      attend jointly) calls the hook's ``attend`` with the identity mask over
      its keys (context identity tokens 1, prompt and image tokens 0); the
      image-only second attention of dual-attention blocks is left alone;
    * noise combination: the lines' velocity predictions, combined as ε is
      for hgzoo's model (the combination is linear, so it applies to v).

    The scene of a text-to-image model is its prompt: a line with the scene
    (the sampler asks for a background ≥ 0) gets ``prompt``, a line without
    gets ``empty_prompt``; the layout is not a separate input (write it into
    the prompt). An identity present in a line adds ``identity_tokens``
    tokens, ``identity_projection(embedding)``; absent, none.

    Args:
        backbone: ``keras_hub.models.StableDiffusion3Backbone``.
        prompt: ``(context (1, L, C), pooled (1, P))``, the prompt's
            embeddings (e.g. from ``backbone.encode_text_step``).
        empty_prompt: the same for the empty prompt.
        identity_projection: a Keras layer, embedding (B, D) ->
            (B, identity_tokens · C); default a fresh Dense (random: for
            plumbing only).
        identity_dim: D (128, dlib).
        identity_tokens: tokens per identity (4).

    Example:

    >>> SD3Denoiser.__name__
    'SD3Denoiser'
    """

    def __init__(self, backbone, prompt, empty_prompt, identity_projection=None, identity_dim=128,
                 identity_tokens=4):
        if importlib.util.find_spec("keras_hub") is None:
            raise MissingExtraError(f"SD3Denoiser needs keras-hub: {INSTALL_HINT}")
        self.backbone, self.diffuser = backbone, backbone.diffuser
        self.prompt = tuple(np.asarray(a, np.float32) for a in prompt)
        self.empty_prompt = tuple(np.asarray(a, np.float32) for a in empty_prompt)
        self.context_dim = self.prompt[0].shape[-1]
        self.identity_count = int(identity_tokens)
        self.identity_projection = identity_projection or keras.layers.Dense(
            self.identity_count * self.context_dim, name="identity_projection")
        self.identity_projection.build((None, int(identity_dim)))
        self.schedule = FlowMatchSchedule(backbone.num_train_timesteps, backbone.shift)
        self.sample_shape = tuple(backbone.latent_shape[-3:])
        self.identity_slots = (0, self.identity_count)
        self.prepend_slots = (0, 0)
        self.num_backgrounds = None

    def identity_tokens(self, identity):
        """(B, D) -> (B, identity_tokens, C)."""
        identity = np.asarray(identity, np.float32)
        unit = identity / np.maximum(np.linalg.norm(identity, axis=-1, keepdims=True), 1e-6)
        return ops.reshape(self.identity_projection(unit), (-1, self.identity_count, self.context_dim))

    def conditioning(self, identity, layout, background):
        """``(context, pooled)`` of one line (every sample of a line has the identity or none has)."""
        n = len(identity)
        with_identity = bool(np.any(identity))
        context, pooled = self.prompt if np.all(np.asarray(background) >= 0) else self.empty_prompt
        context = ops.convert_to_tensor(np.repeat(context, n, axis=0))
        if with_identity:
            context = ops.concatenate([ops.cast(self.identity_tokens(identity), context.dtype), context], axis=1)
        return context, ops.convert_to_tensor(np.repeat(pooled, n, axis=0))

    def predict_noise(self, noisy, timestep, context, scene, attend=None, identity_mask=None):
        """MMDiT's velocity, with ``attend`` in every joint block's attention."""
        blocks = self.diffuser.joint_blocks
        if attend is not None:
            for block in blocks:
                # an instance attribute shadows the method for this call only (removed below)
                object.__setattr__(block, "_compute_attention",
                                   _hooked_attention(block, attend, identity_mask, context.shape[1]))
        try:
            return self.diffuser({"latent": ops.convert_to_tensor(np.asarray(noisy, np.float32)),
                                  "context": context, "pooled_projection": scene,
                                  "timestep": ops.convert_to_tensor(np.asarray(timestep, np.float32)[:, None])},
                                 training=False)
        finally:
            for block in blocks:
                block.__dict__.pop("_compute_attention", None)

    def decode(self, latents):
        """Latents -> images in [0, 1] through SD3's VAE."""
        images = ops.convert_to_numpy(self.backbone.decode_step(ops.convert_to_tensor(latents)))
        return np.clip((images + 1.0) / 2.0, 0.0, 1.0)


def _hooked_attention(block, attend, identity_mask, context_length):
    """An MMDiT block's ``_compute_attention`` (q, k, v as (B, T, heads, d)) that calls ``attend``."""
    plain = type(block)._compute_attention

    def compute(query, key, value):
        length = key.shape[1]
        if length is None or length < context_length:  # a dual-attention block's image-only attention
            return plain(block, query, key, value)
        mask = ops.concatenate([ops.cast(identity_mask, "float32"),
                                ops.zeros((ops.shape(key)[0], length - context_length), "float32")], axis=1)
        q, k, v = (ops.transpose(t, (0, 2, 1, 3)) for t in (query, key, value))
        out = ops.cast(attend(q, k, v, mask), query.dtype)
        out = ops.transpose(out, (0, 2, 1, 3))
        return ops.reshape(out, (-1, out.shape[1], block.num_heads * block.head_dim))

    return compute
