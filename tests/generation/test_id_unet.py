"""IDUNet: harness checks, the "no condition" inputs, and the sampler and every plug-in set on its hook interface."""

import keras
import numpy as np
import pytest

from hgzoo.generation import PLUGIN_SETS, IDUNet, sample
from hgzoo.generation.layers import joint_attention
from hgzoo.testing import run_model_test

from .conftest import assert_each_condition_changes_the_noise, inputs

pytestmark = pytest.mark.jax

ON_TF = keras.backend.backend() == "tensorflow"
# The JAX pass (a 20 s budget; JAX compiles each op on first use) runs the fit steps, the sampler with all three
# plug-ins and the hook check; the harness and the condition checks run on TensorFlow (the conditioning layer is
# IDDiffusion's, checked on JAX by its tests).
TF_ONLY = pytest.mark.skipif(not ON_TF, reason="JAX pass: within CI's time budget (see above)")
# 16×16 images, two levels (16 and 8 on a side, both cross-attending), 8-d identities as conftest's inputs
TINY_UNET = {"image_size": (16, 16), "widths": (8, 16), "width": 16, "heads": 2, "groups": 4, "identity_dim": 8}


@pytest.fixture(scope="module")
def model():
    return IDUNet(**TINY_UNET, seed=0)


@TF_ONLY
def test_id_unet_harness():
    run_model_test(IDUNet, TINY_UNET, inputs(), expected_output_shape=(2, 16, 16, 3), float32_outputs=True,
                   train=False, reason="fit steps: test_a_few_fit_steps_stay_finite (both backends)")


@TF_ONLY
def test_a_mixed_precision_model_reloads_with_its_policy(tmp_path):
    path = str(tmp_path / "mixed.keras")
    IDUNet(**TINY_UNET, seed=0, dtype="mixed_bfloat16").save(path)
    loaded = keras.saving.load_model(path, compile=False)
    assert loaded.get_layer("stem").dtype_policy.name == "mixed_bfloat16"
    assert IDUNet(**TINY_UNET, seed=0).get_config()["dtype"]["config"]["name"] == "float32"


@TF_ONLY
def test_each_condition_changes_the_noise_prediction_and_has_a_null(model):
    base = inputs(1)
    eps = assert_each_condition_changes_the_noise(model, base)
    # the eager hook path is the model's own graph
    context, scene = model.conditioning(*base[2:])
    np.testing.assert_allclose(np.asarray(model.predict_noise(base[0], base[1], context, scene)), eps, atol=1e-5)


def test_sample_runs_every_plugin_set(model):
    references = np.random.default_rng(0).normal(size=(2, 3, 8)).astype("float32")
    # eager JAX dispatches op by op: its pass samples with all three plug-ins at once (every hook) only
    sets = PLUGIN_SETS if ON_TF else {"+DLI +IdAF +IdAP": PLUGIN_SETS["+DLI +IdAF +IdAP"]}
    for label, classes in sets.items():
        images = sample(model, references, [[0.5, 0.5, 0.5], [0.3, 0.3, 0.7]], [0, 3], steps=2,
                        plugins=[cls() for cls in classes])
        assert images.shape == (2, 16, 16, 3), label
        assert np.all(np.isfinite(images)) and images.min() >= 0.0 and images.max() <= 1.0, label


def test_every_cross_attention_calls_the_hook_with_the_identity_mask(model):
    calls = []

    def recording(q, k, v, identity_mask):
        calls.append((tuple(q.shape), np.asarray(identity_mask)))
        return joint_attention(q, k, v, identity_mask)

    context, scene = model.conditioning(np.ones((1, 8), "float32"), [[0.5, 0.5, 0.5]], [1])
    mask = np.zeros((1, context.shape[1]), "float32")
    start, stop = model.identity_slots
    mask[:, start:stop] = 1.0
    eps = model.predict_noise(np.zeros((1, 16, 16, 3)), [500.0], context, scene, attend=recording,
                              identity_mask=mask)
    # down and up at 16×16 and 8×8, and the middle (8×8): five blocks
    assert sorted(shape[2] for shape, _ in calls) == [64, 64, 64, 256, 256]
    for _, seen in calls:
        np.testing.assert_array_equal(seen, mask)
    plain = model.predict_noise(np.zeros((1, 16, 16, 3)), [500.0], context, scene)
    np.testing.assert_allclose(np.asarray(eps), np.asarray(plain), atol=1e-5)


def test_a_few_fit_steps_stay_finite(model):  # last: it trains the shared model
    # TensorFlow's XLA compile costs more than two steps; JAX's un-jitted steps cost more than its compile
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False if ON_TF else "auto")
    x = inputs(8, seed=2)
    history = model.fit(x, np.random.default_rng(3).normal(size=(8, 16, 16, 3)).astype("float32"), batch_size=4,
                        epochs=1, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert model.get_config()["widths"] == [8, 16]
