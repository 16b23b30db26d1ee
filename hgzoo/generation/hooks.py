"""The hook interface the BeyondFacial plug-ins use: three points in a guided diffusion sampler.

A guided sampler runs the denoiser once per *line*, each line a set of
conditions, and combines the lines' noise predictions. A :class:`PlugIn`
may act at three points:

1. **conditioning sequence** (:meth:`PlugIn.context`): the cross-attention
   context of every line that carries the identity, and its identity mask
   (B, M), 1 on the tokens that carry identity. This is where aggregated
   identity features are prepended (Identity Aggregation Prepending).
2. **attention** (:meth:`PlugIn.attention`): the function every
   cross-attention calls, ``attend(q, k, v, identity_mask)``; identity
   tokens enter the image tokens here (Identity Adaptive Fusion's adaptive
   attention fusion). See :class:`hgzoo.generation.layers.DiTBlock`.
3. **noise combination** (:meth:`PlugIn.plan`): the :class:`GuidancePlan`
   that says which lines run and how their noise predictions combine, with
   an optional spatial mask on the identity term (Dual-Line Inference; Identity
   Adaptive Fusion's noise decision masking). :func:`combine` applies it.

The lines (identity, layout, background present?):

============== ======== ====== ==========
line           identity layout background
============== ======== ====== ==========
unconditional  no       no     no
semantic       no       yes    yes
joint          yes      yes    yes
identity       yes      yes    no
layout         no       yes    no
============== ======== ====== ==========

Combinations (g = guidance scale, ε_x the prediction of line x):

* single line (plain classifier-free guidance): ε = ε_u + g (ε_joint − ε_u)
* split, no dual lines: ε = ε_u + g (ε_sem − ε_u) + g M ⊙ (ε_joint − ε_sem)
* dual lines: ε = ε_u + g (ε_sem − ε_u) + g_id M ⊙ (ε_id − ε_layout)

M is 1 unless a plug-in sets ``plan.mask``.

Example:

>>> import numpy as np
>>> plan = GuidancePlan(scale=2.0)
>>> plan.lines()
('unconditional', 'joint')
>>> eps = {"unconditional": np.zeros((1, 2, 2, 1)), "joint": np.ones((1, 2, 2, 1))}
>>> combine(plan, eps)[0, :, :, 0].tolist()
[[2.0, 2.0], [2.0, 2.0]]
"""

import dataclasses

import numpy as np

# line name -> (identity, layout, background) present
LINES = {
    "unconditional": (False, False, False),
    "semantic": (False, True, True),
    "joint": (True, True, True),
    "identity": (True, True, False),
    "layout": (False, True, False),
}


@dataclasses.dataclass
class GuidancePlan:
    """Which lines a sampler runs and how their noise predictions combine (see the module docstring).

    Attributes:
        scale: g, the classifier-free guidance scale of the semantic (or joint) term.
        dual: run the identity and semantic lines apart (Dual-Line Inference).
        identity_scale: g_id, the scale of the identity term when ``dual`` (None: ``scale``).
        mask: None, or a function of the identity term (B, H, W, C) -> a mask
            broadcastable to it; setting one splits the single line.

    Example:

    >>> GuidancePlan(scale=3.0, dual=True).lines()
    ('unconditional', 'semantic', 'identity', 'layout')
    """

    scale: float = 3.0
    dual: bool = False
    identity_scale: float = None
    mask: object = None

    def lines(self):
        """The lines this plan needs, in the order a sampler runs them."""
        if self.dual:
            return ("unconditional", "semantic", "identity", "layout")
        if self.mask is not None:
            return ("unconditional", "semantic", "joint")
        return ("unconditional", "joint")


def combine(plan, eps):
    """The guided noise prediction of ``plan`` from ``eps``, a dict line name -> (B, H, W, C) array."""
    eps = {k: np.asarray(v, np.float32) for k, v in eps.items()}
    u = eps["unconditional"]
    if plan.lines() == ("unconditional", "joint"):
        return u + plan.scale * (eps["joint"] - u)
    if plan.dual:
        identity_term = eps["identity"] - eps["layout"]
        g_id = plan.scale if plan.identity_scale is None else plan.identity_scale
    else:
        identity_term, g_id = eps["joint"] - eps["semantic"], plan.scale
    mask = 1.0 if plan.mask is None else np.asarray(plan.mask(identity_term), np.float32)
    return u + plan.scale * (eps["semantic"] - u) + g_id * mask * identity_term


class PlugIn:
    """A sampler plug-in: every hook is the identity; subclasses override the ones they use.

    Args:
        enabled: False turns every hook off (the plug-in is then the identity).

    Example:

    >>> plug = PlugIn()
    >>> plan = GuidancePlan()
    >>> plug.plan(plan) is plan
    True
    """

    def __init__(self, enabled=True):
        self.enabled = bool(enabled)

    def plan(self, plan):
        """Hook 3: the noise-combination plan (return it, changed or not)."""
        return plan

    def attention(self, attend):
        """Hook 2: the cross-attention function every block calls (return a replacement or ``attend``)."""
        return attend

    def context(self, context, identity_mask, denoiser, references):
        """Hook 1: the conditioning sequence (B, M, width) and identity mask (B, M) of a line carrying the
        identity; ``references`` (B, R, D) are the reference embeddings. Return ``(context, identity_mask)``."""
        return context, identity_mask

    def __repr__(self):
        state = "" if self.enabled else ", enabled=False"
        return f"{type(self).__name__}({state.lstrip(', ')})"


def apply_plugins(plugins, plan, attend):
    """``(plan, attend, context_hooks)`` after every enabled plug-in, in order."""
    active = [p for p in plugins if p.enabled]
    for p in active:
        plan = p.plan(plan)
        attend = p.attention(attend)
    return plan, attend, [p.context for p in active]
