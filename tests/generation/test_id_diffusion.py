"""IDDiffusion: harness checks and the "no condition" inputs."""

import keras
import numpy as np
import pytest

from hgzoo.generation import IDDiffusion
from hgzoo.testing import run_model_test

from .conftest import TINY, inputs

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
    eps = model.predict_on_batch(base)
    for i, null in ((2, np.zeros((1, 8), "float32")), (3, np.zeros((1, 3), "float32")),
                    (4, np.array([4], "int32"))):
        changed = list(base)
        changed[i] = null
        assert not np.allclose(model.predict_on_batch(changed), eps, atol=1e-6), i
    # every all-zero identity is the same "no identity", whatever else the sample holds
    zero = list(base)
    zero[2] = np.zeros((1, 8), "float32")
    context, _ = model.conditioning(zero[2], zero[3], zero[4])
    null, _ = model.conditioning(zero[2], np.array([[0.9, 0.1, 0.2]], "float32"), zero[4])
    start, stop = model.identity_slots
    np.testing.assert_allclose(np.asarray(context)[:, start:stop], np.asarray(null)[:, start:stop])
