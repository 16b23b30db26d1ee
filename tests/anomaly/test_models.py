"""IGT and the autoencoder: harness, transformations, the normality score, τ/κ decisions, AUROC."""

import keras
import numpy as np
import pytest

from hgzoo.anomaly import (
    IGT,
    NUM_TRANSFORMS,
    BehaviourAutoencoder,
    auroc,
    calibrate_tau,
    instance_decisions,
    user_decisions,
    user_scores,
)
from hgzoo.anomaly.transforms import transform_numpy, transform_ops, transformation_dataset
from hgzoo.testing import run_model_test

pytestmark = pytest.mark.jax

SMALL = {"filters": 4, "hidden": 8}
# The JAX pass (a 30 s budget) checks in-process and skips the mixed-precision fit step; the TensorFlow pass
# runs both.
ON_TF = keras.backend.backend() == "tensorflow"
SUBPROCESS = {"subprocess_checks": ON_TF, "mixed_precision_fit": ON_TF,
              "reason": "subprocess reload and mixed-precision fit are checked on the TensorFlow pass only"}


def images(n=4, seed=0):
    return np.random.default_rng(seed).random((n, 12, 12, 1)).astype("float32")


def test_igt_harness():
    run_model_test(IGT, SMALL, [images(2)], expected_output_shape=(2, NUM_TRANSFORMS), target=np.array([0, 5]),
                   float32_outputs=True, **SUBPROCESS)


def test_autoencoder_harness():
    x = images(2)
    run_model_test(BehaviourAutoencoder, {"hidden": (8,), "code": 4}, [x], expected_output_shape=(2, 12, 12, 1),
                   target=x, float32_outputs=True, **SUBPROCESS)


def test_transformations_are_distinct_and_backend_equal():
    x = images(3)
    outputs = [transform_numpy(x, k) for k in range(NUM_TRANSFORMS)]
    assert len({o.tobytes() for o in outputs}) == NUM_TRANSFORMS
    for k in range(NUM_TRANSFORMS):
        np.testing.assert_array_equal(np.asarray(transform_ops(x, k)), outputs[k])
    np.testing.assert_array_equal(transform_numpy(x, 6), np.rot90(x, 1, axes=(1, 2)))  # k=6: one rotation only
    np.testing.assert_array_equal(transform_numpy(x, 3), x[:, :, ::-1])  # k=3: the flip only
    np.testing.assert_array_equal(transform_numpy(x, 1), np.roll(x, 4, axis=1))  # k=1: shift down by a third
    tx, ty = transformation_dataset(x)
    assert tx.shape == (3 * NUM_TRANSFORMS, 12, 12, 1) and np.bincount(ty).tolist() == [3] * NUM_TRANSFORMS
    with pytest.raises(ValueError, match="transformation index"):
        transform_numpy(x, NUM_TRANSFORMS)


def test_normality_sums_the_probability_of_each_applied_transformation():
    model = IGT(**SMALL)
    x = images(3)
    expected = np.zeros(3)
    for k in range(NUM_TRANSFORMS):
        logits = model.predict(transform_numpy(x, k), verbose=0).astype(np.float64)
        p = np.exp(logits - logits.max(-1, keepdims=True))
        expected += (p / p.sum(-1, keepdims=True))[:, k]
    np.testing.assert_allclose(model.normality(x), expected, atol=1e-5)
    np.testing.assert_allclose(model.anomaly_score(x), NUM_TRANSFORMS - expected, atol=1e-4)
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        model.normality(x * 255)
    with pytest.raises(ValueError, match="12, 12, 1"):
        model.normality(np.zeros((2, 12, 10, 1)))


def test_decisions_with_tau_and_kappa():
    tau = calibrate_tau(np.arange(1, 101), false_alarm_rate=0.1)
    assert np.mean(np.arange(1, 101) > tau) == pytest.approx(0.1)
    users = np.array(["a", "a", "a", "b", "b", "c"])
    scores = np.array([95.0, 99.0, 5.0, 99.5, 1.0, 0.0])
    flags = instance_decisions(scores, tau)
    assert flags.tolist() == [True, True, False, True, False, False]
    names, flagged = user_decisions(users, flags, kappa=2)
    assert names.tolist() == ["a", "b", "c"] and flagged.tolist() == [True, False, False]
    assert user_decisions(users, flags, kappa=1)[1].tolist() == [True, True, False]
    assert user_scores(users, scores, kappa=2)[1].tolist() == [95.0, 1.0, 0.0]
    assert user_scores(users, scores, kappa=1)[1].tolist() == [99.0, 99.5, 0.0]
    assert auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75  # 3 of 4 (positive, negative) pairs in order
    assert auroc([0, 1], [1.0, 1.0]) == 0.5
    with pytest.raises(ValueError, match="positive and one negative"):
        auroc([1, 1], [0.1, 0.2])
