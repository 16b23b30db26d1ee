"""The BeyondFacial plug-ins on the tiny IDDiffusion: each acts where it should and is the identity when disabled."""

import keras
import numpy as np
import pytest

from hgzoo.errors import InvalidConfigError
from hgzoo.generation import (
    DualLineInference,
    GuidancePlan,
    IDDiffusion,
    IdentityAdaptiveFusion,
    IdentityAggregationPrepending,
    combine,
    sample,
)
from hgzoo.generation.hooks import apply_plugins
from hgzoo.generation.layers import joint_attention
from hgzoo.generation.sampler import _line_conditions

pytestmark = pytest.mark.jax

ALL = (DualLineInference, IdentityAdaptiveFusion, IdentityAggregationPrepending)


@pytest.fixture(scope="module")
def model():
    return IDDiffusion(image_size=(16, 16), width=16, depth=1, heads=2, identity_dim=8, seed=0)


def references(n=2, r=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, r, 8)).astype("float32")


def apply(plugins, scale):
    return apply_plugins(plugins, GuidancePlan(scale=scale), joint_attention)


ON_TF = keras.backend.backend() == "tensorflow"


def generate(model, plugins, **kwargs):
    # eager sampling is slow on JAX: its pass (a 25 s budget) takes one step
    return sample(model, references(), [[0.3, 0.25, 0.25], [0.5, 0.5, 0.5]], [0, 1], steps=2 if ON_TF else 1,
                  plugins=plugins, **kwargs)


def test_disabled_plugins_are_the_identity_and_enabled_ones_change_the_sample(model):
    baseline = generate(model, [])
    np.testing.assert_array_equal(generate(model, [cls(enabled=False) for cls in ALL]), baseline)
    # the JAX pass checks the three together only
    singles = [[cls()] for cls in ALL] if ON_TF else []
    for plugins in singles + [[cls() for cls in ALL]]:
        assert np.abs(generate(model, plugins) - baseline).max() > 1e-4, plugins


def test_prepending_writes_the_aggregate_into_the_prepend_slots_of_identity_lines_only(model):
    refs = references()
    args = (np.ones((2, 8), "float32"), np.array([[0.3, 0.5, 0.5]] * 2, "float32"), np.array([0, 1]), refs)
    hooks = [IdentityAggregationPrepending().context]
    for line in ("joint", "identity"):
        plain, _, plain_mask = _line_conditions(model, line, *args, [])
        hooked, _, mask = _line_conditions(model, line, *args, hooks)
        plain, hooked = np.asarray(plain), np.asarray(hooked)
        start, stop = model.prepend_slots
        np.testing.assert_array_equal(hooked[:, stop:], plain[:, stop:])
        assert not np.allclose(hooked[:, start:stop], plain[:, start:stop])
        expected = np.asarray(model.identity_tokens(IdentityAggregationPrepending().aggregate(refs)))
        np.testing.assert_allclose(hooked[:, start:stop], expected[:, :stop - start], atol=1e-5)
        assert np.asarray(mask)[:, start:stop].min() == 1 and np.asarray(plain_mask)[:, start:stop].max() == 0
    for line in ("unconditional", "semantic", "layout"):
        np.testing.assert_array_equal(np.asarray(_line_conditions(model, line, *args, hooks)[0]),
                                      np.asarray(_line_conditions(model, line, *args, [])[0]))


def test_prepending_lengthens_the_sequence_of_a_denoiser_without_prepend_slots():
    model = IDDiffusion(image_size=(16, 16), width=16, depth=1, heads=2, identity_dim=8, prepend_tokens=0)
    out = generate(model, [IdentityAggregationPrepending(), IdentityAdaptiveFusion()])
    assert out.shape == (2, 16, 16, 3) and np.isfinite(out).all()


def test_adaptive_attention_fusion_adds_identity_attention_without_diluting_the_scene():
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(2, 2, 5, 4)).astype("float32") for _ in range(3))
    k, v = k[:, :, :3], v[:, :, :3]
    mask = np.array([[1, 0, 0], [0, 0, 0]], "float32")  # sample 0: token 0 is identity; sample 1: none
    fused = np.asarray(IdentityAdaptiveFusion(strength=0.5).fused_attention(q, k, v, mask))
    joint = np.asarray(joint_attention(q, k, v, mask))
    np.testing.assert_allclose(fused[1], joint[1], atol=1e-6)
    logits = np.einsum("hnd,hmd->hnm", q[0], k[0]) / 2.0
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    scene = np.exp(logits[..., 1:] - logits[..., 1:].max(-1, keepdims=True))
    scene /= scene.sum(-1, keepdims=True)
    expected = scene @ v[0, :, 1:] + 0.5 * p[..., :1] * v[0, :, :1]
    np.testing.assert_allclose(fused[0], expected, atol=1e-5)


def test_noise_decision_masking_keeps_the_semantic_noise_where_the_identity_term_is_small():
    rng = np.random.default_rng(1)
    eps = {k: rng.normal(size=(1, 8, 8, 3)).astype("float32") for k in ("unconditional", "semantic", "joint")}
    eps["joint"] = eps["semantic"].copy()
    eps["joint"][0, :3, :3] += 5.0  # the identity changes the top-left corner only
    plan, _, _ = apply([IdentityAdaptiveFusion()], 2.0)
    out = combine(plan, eps)
    semantic_only = eps["unconditional"] + 2.0 * (eps["semantic"] - eps["unconditional"])
    np.testing.assert_allclose(out[0, 5:, 5:], semantic_only[0, 5:, 5:], atol=1e-5)
    assert np.abs(out[0, :3, :3] - semantic_only[0, :3, :3]).min() > 1.0


def test_dual_lines_separate_the_identity_term():
    rng = np.random.default_rng(2)
    eps = {k: rng.normal(size=(1, 4, 4, 3)).astype("float32")
           for k in ("unconditional", "semantic", "identity", "layout")}
    plan, _, _ = apply([DualLineInference(identity_scale=0.0)], 3.0)
    u, s = eps["unconditional"], eps["semantic"]
    np.testing.assert_allclose(combine(plan, eps), u + 3.0 * (s - u), atol=1e-5)
    plan, _, _ = apply([DualLineInference(identity_scale=2.0)], 3.0)
    np.testing.assert_allclose(combine(plan, eps), u + 3.0 * (s - u) + 2.0 * (eps["identity"] - eps["layout"]),
                               atol=1e-5)


@pytest.mark.parametrize("layout, background, refs, match", [
    ([[0.5, 0.1, 0.5], [0.5, 0.5, 0.5]], [0, 1], references(), "inside the frame"),
    ([[0.0, 0.5, 0.5], [0.5, 0.5, 0.5]], [0, 1], references(), "inside the frame"),
    ([[0.3, 0.5, 0.5]] * 2, [0, 4], references(), "background"),
    ([[0.3, 0.5, 0.5]] * 2, [0, 1], np.zeros((2, 8), "float32"), "non-zero"),
    ([[0.3, 0.5, 0.5]], [0], references(), "batch"),
])
def test_bad_requests_are_clear_errors(model, layout, background, refs, match):
    with pytest.raises(InvalidConfigError, match=match):
        sample(model, refs, layout, background, steps=1)
