"""The plug-ins on keras-hub's Stable Diffusion 3: a tiny random backbone, one denoising step through the hooks.

TensorFlow pass only: the same test passes on JAX but takes a minute there (eager keras-hub layers), past
the JAX pass's budget.
"""

import numpy as np
import pytest

from hgzoo.generation import DualLineInference, IdentityAdaptiveFusion, IdentityAggregationPrepending, sample
from hgzoo.generation.layers import joint_attention

keras_hub = pytest.importorskip("keras_hub", reason="keras-hub is not installed (hgzoo generation install-parts)")


@pytest.fixture(scope="module")
def sd3():
    from keras_hub.models import CLIPTextEncoder, StableDiffusion3Backbone
    from keras_hub.src.models.vae.vae_backbone import VAEBackbone

    from hgzoo.generation.sd3 import SD3Denoiser

    # SD3 assumes an 8× VAE (four levels) with 16 latent channels (32 sample channels: mean and log-variance)
    vae = VAEBackbone([32] * 4, [1] * 4, [32] * 4, [1] * 4, sample_channels=32, output_channels=3)
    clips = [CLIPTextEncoder(20, w, w, 2, 2, 2 * w, "gelu", -2, max_sequence_length=8, name=n)
             for w, n in ((16, "clip_l"), (32, "clip_g"))]
    backbone = StableDiffusion3Backbone(mmdit_patch_size=2, mmdit_hidden_dim=32, mmdit_num_layers=2,
                                        mmdit_num_heads=2, mmdit_position_size=16, mmdit_qk_norm=None,
                                        mmdit_dual_attention_indices=None, vae=vae, clip_l=clips[0],
                                        clip_g=clips[1], image_shape=(32, 32, 3))
    rng = np.random.default_rng(0)
    prompt = (rng.normal(size=(1, 6, 4096)).astype("float32"), rng.normal(size=(1, 48)).astype("float32"))
    empty = (np.zeros((1, 6, 4096), "float32"), np.zeros((1, 48), "float32"))
    return SD3Denoiser(backbone, prompt, empty, identity_dim=8, identity_tokens=2)


def generate(sd3, plugins):
    refs = np.random.default_rng(1).normal(size=(1, 3, 8)).astype("float32")
    return sample(sd3, refs, [[0.3, 0.5, 0.5]], [0], steps=1, plugins=plugins)


def test_one_denoising_step_through_every_hook(sd3):
    baseline = generate(sd3, [])
    assert baseline.shape == (1, 32, 32, 3) and np.isfinite(baseline).all()
    plugins = [DualLineInference(), IdentityAdaptiveFusion(), IdentityAggregationPrepending()]
    np.testing.assert_array_equal(generate(sd3, [type(p)(enabled=False) for p in plugins]), baseline)
    assert np.abs(generate(sd3, plugins) - baseline).max() > 1e-6


def test_the_attention_hook_reaches_every_joint_block_and_is_removed_after(sd3):
    calls = []

    def attend(q, k, v, mask):
        calls.append((tuple(q.shape), tuple(np.asarray(mask).sum(axis=1))))
        return joint_attention(q, k, v, mask)

    context, pooled = sd3.conditioning(np.ones((1, 8), "float32"), np.zeros((1, 3)), np.zeros(1, "int32"))
    mask = np.zeros((1, context.shape[1]), "float32")
    mask[:, :2] = 1.0
    x = np.zeros((1, *sd3.sample_shape), "float32")
    hooked = np.asarray(sd3.predict_noise(x, np.array([500.0]), context, pooled, attend, mask))
    # 2 joint blocks; queries and keys: 8 context tokens (2 identity, 6 prompt) and (4 / 2)² image tokens
    assert calls == [((1, 2, 8 + 4, 16), (2.0,))] * 2
    plain = np.asarray(sd3.predict_noise(x, np.array([500.0]), context, pooled))
    np.testing.assert_allclose(hooked, plain, atol=1e-5)
    assert all("_compute_attention" not in vars(b) for b in sd3.diffuser.joint_blocks)
