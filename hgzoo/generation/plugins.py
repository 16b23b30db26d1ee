"""BeyondFacial's three plug-ins (arXiv 2511.11989, ``papers.md`` §16) over :mod:`hgzoo.generation.hooks`.

The paper released no code and the reference notes hold its abstract only:
Dual-Line Inference separates identity from semantics; Identity Adaptive
Fusion merges them at the noise-prediction stage with adaptive attention
fusion and noise decision masking; Identity Aggregation Prepending
aggregates identity information and replaces random initialisations. All
three are tuning-free and plug-and-play. Each class below says which parts
are the paper's and which were chosen here. They compose: pass any subset to
:func:`hgzoo.generation.sample`.

Example:

>>> from hgzoo.generation.hooks import GuidancePlan, apply_plugins
>>> plan, _, _ = apply_plugins([DualLineInference(identity_scale=5.0)], GuidancePlan(scale=3.0), None)
>>> plan.lines(), plan.identity_scale
(('unconditional', 'semantic', 'identity', 'layout'), 5.0)
"""

import dataclasses

import numpy as np
from keras import ops

from hgzoo.generation.hooks import PlugIn
from hgzoo.generation.layers import NEG_INF, attention_logits


class DualLineInference(PlugIn):
    """Dual-Line Inference (DLI): the identity and the scene semantics run as separate lines.

    Paper: a dual-line pipeline "with identity-semantic separation" replaces
    the single path in which identity embeddings conflict with the semantic
    conditioning.

    Chosen here: a *semantic line* conditioned on the scene (layout and
    background, no identity) and an *identity line* conditioned on the identity
    and the layout (where the face goes) but not the background; the
    identity line's contribution is measured against a *layout line* (layout
    only), so that it carries the identity alone:
    ε = ε_u + g (ε_sem − ε_u) + g_id (ε_id − ε_layout). No conditioning
    sequence mixes identity with the background, which is the separation
    the paper names. Four denoiser calls per step instead of two.

    Args:
        identity_scale: g_id (None: the sampler's guidance scale).
        enabled: False makes it the identity.

    Example:

    >>> from hgzoo.generation.hooks import GuidancePlan
    >>> DualLineInference().plan(GuidancePlan(scale=2.0)).lines()
    ('unconditional', 'semantic', 'identity', 'layout')
    """

    def __init__(self, identity_scale=None, enabled=True):
        super().__init__(enabled)
        self.identity_scale = identity_scale

    def plan(self, plan):
        return dataclasses.replace(plan, dual=True, identity_scale=self.identity_scale)


class IdentityAdaptiveFusion(PlugIn):
    """Identity Adaptive Fusion (IdAF): adaptive attention fusion plus noise decision masking.

    Paper: identity and semantics are fused at the noise-prediction stage
    rather than in the conditioning, through "adaptive attention fusion" and
    "noise decision masking", with no manual mask.

    Chosen here:

    * **Adaptive attention fusion** (attention hook). Plain cross-attention
      takes one softmax over the whole sequence, so identity tokens draw
      attention mass away from the scene tokens: out = (1 − w)·A_scene + w·A_id,
      w the mass a query gives the identity tokens. IdAF attends to the scene
      tokens and the identity tokens with separate softmaxes and adds the
      identity part with that same adaptive weight: out = A_scene +
      ``strength``·w·A_id. The scene is no longer diluted, and the identity
      still reaches only the image tokens that attend to it. A line with no
      identity token is unchanged.
    * **Noise decision masking** (noise-combination hook). The identity
      term of the guided noise (ε_id − ε_layout with Dual-Line Inference,
      ε_joint − ε_sem without) is kept only where it is large: its
      channel-mean magnitude, smoothed over 3×3 pixels, above
      ``mask_threshold`` × its image mean. Where the identity changes
      little, the noise is the semantic lines' alone.

    Args:
        strength: scale of the identity attention (1.0).
        mask_threshold: the decision threshold relative to the mean (1.0).
        attention_fusion, noise_masking: switch either half off.
        enabled: False makes it the identity.

    Example:

    >>> import numpy as np
    >>> term = np.zeros((1, 4, 4, 3), "float32"); term[0, :2, :2] = 1.0
    >>> IdentityAdaptiveFusion().decision_mask(term)[0, :, :, 0].astype(int).tolist()
    [[1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    """

    def __init__(self, strength=1.0, mask_threshold=1.0, attention_fusion=True, noise_masking=True, enabled=True):
        super().__init__(enabled)
        self.strength, self.mask_threshold = float(strength), float(mask_threshold)
        self.attention_fusion, self.noise_masking = bool(attention_fusion), bool(noise_masking)

    def plan(self, plan):
        return dataclasses.replace(plan, mask=self.decision_mask) if self.noise_masking else plan

    def attention(self, attend):
        return self.fused_attention if self.attention_fusion else attend

    def fused_attention(self, q, k, v, identity_mask):
        """out = A_scene + strength·w·A_id (see the class docstring); joint attention on lines with no identity."""
        logits = attention_logits(q, k)
        is_id = ops.cast(identity_mask, "float32")[:, None, None, :]
        joint = ops.softmax(logits, axis=-1)
        w = ops.sum(joint * is_id, axis=-1, keepdims=True)
        scene = ops.softmax(logits + NEG_INF * is_id, axis=-1)
        ident = ops.softmax(logits + NEG_INF * (1.0 - is_id), axis=-1)
        fused = scene + self.strength * w * ident
        has_id = ops.max(is_id, axis=-1, keepdims=True) > 0
        weights = ops.where(has_id, fused, joint)
        return ops.cast(ops.einsum("bhnm,bhmd->bhnd", weights, ops.cast(v, "float32")), v.dtype)

    def decision_mask(self, identity_term):
        """(B, H, W, C) identity term -> (B, H, W, 1) 0/1 mask."""
        magnitude = np.abs(np.asarray(identity_term, np.float32)).mean(axis=-1)
        padded = np.pad(magnitude, ((0, 0), (1, 1), (1, 1)), mode="edge")
        h, w = magnitude.shape[1:]
        smooth = sum(padded[:, i:i + h, j:j + w] for i in range(3) for j in range(3)) / 9.0
        mean = smooth.mean(axis=(1, 2), keepdims=True)
        return (smooth > self.mask_threshold * mean).astype(np.float32)[..., None]


class IdentityAggregationPrepending(PlugIn):
    """Identity Aggregation Prepending (IdAP): aggregated identity tokens at the head of the conditioning sequence.

    Paper: IdAP "aggregates identity information and replaces random
    initializations", stabilising the target identity.

    Chosen here: the reference embeddings (B, R, D) are L2-normalised and
    aggregated by a softmax over their cosine agreement with the references'
    mean (temperature ``temperature``: a reference that disagrees with the
    others, e.g. a poor detection, weighs less). The denoiser turns the
    aggregate into identity tokens with its own identity projection, and they
    are written into the prepend slots, the learned, randomly initialised
    tokens at the head of the sequence (for a denoiser with no such slots they
    are prepended, lengthening the sequence). The slots join the identity
    mask, so Identity Adaptive Fusion treats them as identity. It acts only on
    lines that carry the identity.

    Args:
        temperature: of the agreement softmax (0.1).
        enabled: False makes it the identity.

    Example:

    >>> import numpy as np
    >>> refs = np.array([[[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]]])
    >>> [round(float(v), 2) for v in IdentityAggregationPrepending().aggregate(refs)[0]]  # the outlier barely counts
    [1.0, 0.07]
    """

    def __init__(self, temperature=0.1, enabled=True):
        super().__init__(enabled)
        self.temperature = float(temperature)

    def aggregate(self, references):
        """(B, R, D) reference embeddings -> (B, D) unit aggregate."""
        refs = np.asarray(references, np.float64)
        unit = refs / np.maximum(np.linalg.norm(refs, axis=-1, keepdims=True), 1e-12)
        mean = unit.mean(axis=1, keepdims=True)
        mean /= np.maximum(np.linalg.norm(mean, axis=-1, keepdims=True), 1e-12)
        agreement = (unit * mean).sum(-1) / self.temperature
        weights = np.exp(agreement - agreement.max(axis=1, keepdims=True))
        weights /= weights.sum(axis=1, keepdims=True)
        aggregate = (weights[..., None] * unit).sum(axis=1)
        return (aggregate / np.maximum(np.linalg.norm(aggregate, axis=-1, keepdims=True), 1e-12)).astype(np.float32)

    def context(self, context, identity_mask, denoiser, references):
        tokens = denoiser.identity_tokens(self.aggregate(references))
        start, stop = denoiser.prepend_slots
        slots = stop - start or tokens.shape[1]
        repeats = -(-slots // tokens.shape[1])
        tokens = ops.cast(ops.concatenate([tokens] * repeats, axis=1)[:, :slots], context.dtype)
        context = ops.concatenate([context[:, :start], tokens, context[:, stop:]], axis=1)
        ones = ops.ones((ops.shape(identity_mask)[0], slots), identity_mask.dtype)
        identity_mask = ops.concatenate([identity_mask[:, :start], ones, identity_mask[:, stop:]], axis=1)
        return context, identity_mask


# The plug-in sets BeyondFacial's ablation compares (benchmarks use these, so their rows agree).
PLUGIN_SETS = {
    "baseline (CFG)": (),
    "+DLI": (DualLineInference,),
    "+IdAF": (IdentityAdaptiveFusion,),
    "+IdAP": (IdentityAggregationPrepending,),
    "+DLI +IdAF +IdAP": (DualLineInference, IdentityAdaptiveFusion, IdentityAggregationPrepending),
}
