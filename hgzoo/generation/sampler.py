"""DDIM sampling with classifier-free guidance and the BeyondFacial plug-ins.

Example:

>>> import numpy as np
>>> from hgzoo.generation import IDDiffusion, sample
>>> model = IDDiffusion(image_size=(16, 16), width=16, depth=1, heads=2)
>>> images = sample(model, np.ones((1, 128), "float32"), [[0.5, 0.5, 0.5]], [1], steps=2)
>>> images.shape, float(images.min()) >= 0.0
((1, 16, 16, 3), True)
"""

import numpy as np
from keras import ops

from hgzoo.errors import InvalidConfigError
from hgzoo.generation.hooks import LINES, GuidancePlan, apply_plugins, combine
from hgzoo.generation.layers import joint_attention


def check_layout(layout, what="layout"):
    """(B, 3) float array of (scale, centre x, centre y); ValueError unless the face box lies inside the frame."""
    layout = np.asarray(layout, np.float32)
    if layout.ndim != 2 or layout.shape[1] != 3:
        raise InvalidConfigError(f"{what} must be (B, 3) rows of (scale, centre_x, centre_y), got shape "
                                 f"{layout.shape}")
    for row in layout:
        scale, cx, cy = (float(v) for v in row)
        if not 0 < scale <= 1 or min(cx, cy) - scale / 2 < -1e-6 or max(cx, cy) + scale / 2 > 1 + 1e-6:
            raise InvalidConfigError(
                f"{what} {row.tolist()}: the face box (side {scale} of the frame, centred at ({cx}, {cy})) must lie "
                "inside the frame: 0 < scale <= 1 and scale/2 <= centre <= 1 - scale/2")
    return layout


def reference_embeddings(references):
    """(B, D) or (B, R, D) -> (B, R, D) float32."""
    refs = np.asarray(references, np.float32)
    if refs.ndim == 2:
        refs = refs[:, None]
    if refs.ndim != 3 or not np.all(np.any(refs != 0, axis=-1)):
        raise InvalidConfigError(f"references must be (B, D) or (B, R, D) non-zero embeddings, got shape {refs.shape}")
    return refs


def sample(denoiser, references, layout, background, steps=25, guidance=3.0, plugins=(), seed=0):
    """Images (B, H, W, C) in [0, 1] by DDIM (η = 0; the denoiser's own schedule) with classifier-free guidance
    and ``plugins``.

    Args:
        denoiser: an :class:`~hgzoo.generation.IDDiffusion` (or an object
            with its hook interface: ``conditioning``, ``identity_tokens``,
            ``predict_noise``, ``identity_slots``, ``prepend_slots``,
            ``schedule``, ``sample_shape``, ``decode``, such as
            :class:`~hgzoo.generation.sd3.SD3Denoiser`).
        references: (B, D) identity embeddings, or (B, R, D) several
            references per image; the identity input is their normalised mean.
        layout: (B, 3) (face scale, centre x, centre y) as fractions of the
            frame; the face box must lie in the frame.
        background: (B,) background classes.
        steps: DDIM steps.
        guidance: the classifier-free guidance scale g.
        plugins: :mod:`hgzoo.generation.plugins` instances, applied in order.
        seed: of the initial noise (the same seed gives the same start for
            every plug-in set).
    """
    refs = reference_embeddings(references)
    layout = check_layout(layout)
    background = np.asarray(background, np.int32).reshape(-1)
    if not len(refs) == len(layout) == len(background):
        raise InvalidConfigError(f"references, layout and background disagree on the batch: {len(refs)}, "
                                 f"{len(layout)}, {len(background)}")
    classes = getattr(denoiser, "num_backgrounds", None)
    if classes is not None and (background.min() < 0 or background.max() >= classes):
        raise InvalidConfigError(f"background classes must be in [0, {classes}), got {background.tolist()}")
    unit = refs / np.linalg.norm(refs, axis=-1, keepdims=True)
    identity = unit.mean(axis=1)
    plan, attend, context_hooks = apply_plugins(plugins, GuidancePlan(scale=float(guidance)), joint_attention)
    lines = {name: _line_conditions(denoiser, name, identity, layout, background, refs, context_hooks)
             for name in plan.lines()}
    schedule, n = denoiser.schedule, len(refs)
    x = np.random.default_rng(seed).standard_normal((n, *denoiser.sample_shape)).astype(np.float32)
    timesteps = schedule.sampling_timesteps(steps)
    for t, t_prev in zip(timesteps, [*timesteps[1:], -1]):
        eps = {name: ops.convert_to_numpy(denoiser.predict_noise(x, np.full(n, t, np.float32), context, scene,
                                                                 attend, mask))
               for name, (context, scene, mask) in lines.items()}
        x = schedule.step(x, combine(plan, eps), t, t_prev)
    return denoiser.decode(x)


def _line_conditions(denoiser, name, identity, layout, background, refs, context_hooks):
    """(context, scene, identity_mask) of one line, after the plug-ins' conditioning hooks."""
    with_identity, with_layout, with_background = LINES[name]
    n = len(identity)
    context, scene = denoiser.conditioning(identity if with_identity else np.zeros_like(identity),
                                           layout if with_layout else np.zeros_like(layout),
                                           background if with_background else np.full(n, -1, np.int32))
    mask = np.zeros((n, context.shape[1]), np.float32)
    if with_identity:
        start, stop = denoiser.identity_slots
        mask[:, start:stop] = 1.0
    mask = ops.convert_to_tensor(mask)
    if with_identity:
        for hook in context_hooks:
            context, mask = hook(context, mask, denoiser, refs)
    return context, scene, mask
