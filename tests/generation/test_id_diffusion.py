"""IDDiffusion: harness checks and the "no condition" inputs."""

import keras
import numpy as np
import pytest

from hgzoo.generation import IDDiffusion
from hgzoo.testing import run_model_test

from .conftest import TINY, assert_each_condition_changes_the_noise, inputs

pytestmark = pytest.mark.jax

ON_TF = keras.backend.backend() == "tensorflow"
# The JAX pass (a 25 s budget) runs the plain checks; the TensorFlow pass adds mixed precision and a fresh process.
CHECKS = {"subprocess_checks": ON_TF, "mixed_precision": ON_TF,
          "reason": None if ON_TF else "JAX pass: in-process checks only, within CI's time budget"}


def test_id_diffusion_harness():
    run_model_test(IDDiffusion, TINY, inputs(), expected_output_shape=(2, 16, 16, 3), float32_outputs=True, **CHECKS)


def test_each_condition_changes_the_noise_prediction_and_has_a_null():
    model = IDDiffusion(**TINY)
    base = inputs(1)
    assert_each_condition_changes_the_noise(model, base)
    # every all-zero identity is the same "no identity", whatever else the sample holds
    zero = list(base)
    zero[2] = np.zeros((1, 8), "float32")
    context, _ = model.conditioning(zero[2], zero[3], zero[4])
    null, _ = model.conditioning(zero[2], np.array([[0.9, 0.1, 0.2]], "float32"), zero[4])
    start, stop = model.identity_slots
    np.testing.assert_allclose(np.asarray(context)[:, start:stop], np.asarray(null)[:, start:stop])


class OracleDenoiser(IDDiffusion):
    """The exact ε for a one-image data distribution, behind the real model's hook interface."""

    def __init__(self, clean, **kwargs):
        super().__init__(**kwargs)
        self.clean = clean

    def predict_noise(self, noisy, timestep, context, scene, attend=None, identity_mask=None):
        a = self.schedule.alpha_bar[np.asarray(timestep, np.int64)].reshape(-1, 1, 1, 1)
        return (np.asarray(noisy) - np.sqrt(a) * self.clean) / np.sqrt(1.0 - a)


@pytest.mark.parametrize("steps", [1, 7, 25])
def test_ddim_with_the_exact_noise_returns_the_one_training_image(steps):
    """DDIM (any step count, any guidance: every line agrees) recovers x0 from the exact ε."""
    from hgzoo.generation import PLUGIN_SETS, sample

    clean = np.random.default_rng(0).uniform(-1, 1, (1, *TINY["image_size"], 3)).astype("float32")
    oracle = OracleDenoiser(clean, **TINY)
    for classes in PLUGIN_SETS.values():
        references = np.ones((2, TINY["identity_dim"]), "float32")
        images = sample(oracle, references, [[0.5, 0.5, 0.5]] * 2, [0, 1], steps=steps, guidance=3.0,
                        plugins=[cls() for cls in classes])
        np.testing.assert_allclose(images, np.broadcast_to((clean + 1) / 2, images.shape), atol=1e-4)
