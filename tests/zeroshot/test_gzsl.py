"""GZSL model selection: the WGAN-GP generator and critic, the routing, the combined predictor."""

import keras
import numpy as np
import pytest

from hgzoo.testing import run_layer_test, run_model_test
from hgzoo.zeroshot import (ExpertRouting, FeatureGenerator, FeatureNormalisation, GZSLModelSelection,
                            WassersteinCritic)


RNG = np.random.default_rng(0)
NO_SUBPROCESS = "test_zskl_harness loads a zeroshot model in a fresh process; these classes register the same way"


def test_feature_generator_harness():
    run_model_test(FeatureGenerator, {"feature_dim": 6, "attribute_dim": 3, "hidden": 8},
                   [RNG.random((2, 3), np.float32), RNG.random((2, 3), np.float32)], expected_output_shape=(2, 6),
                   expected_num_trainable_weights=4, float32_outputs=True, subprocess_checks=False,
                   reason=NO_SUBPROCESS)


def test_gzsl_model_selection_harness():
    # threshold 1: every sample goes to the seen expert, so the seen targets below have non-zero probability
    # (hard routing gives the other expert's classes exactly 0, whose log would overflow float16 loss scaling)
    run_model_test(GZSLModelSelection, {"feature_dim": 6, "attribute_dim": 3, "seen_classes": [0, 2, 3],
                                        "unseen_classes": [1], "hidden": 4, "threshold": 1.0},
                   [RNG.random((4, 6), np.float32)], expected_output_shape=(4, 4), target=np.array([0, 2, 3, 0]),
                   float32_outputs=True, subprocess_checks=False, mixed_precision_fit=False,
                   reason=NO_SUBPROCESS + "; the model is trained by parts (train_model_selection), and an "
                          "end-to-end float16 step through the hard routing was skipped by loss scaling in some runs")


LAYER_REASON = NO_SUBPROCESS + "; the models' harness covers mixed precision"


def test_critic_harness():
    run_layer_test(WassersteinCritic, {"hidden": 5},
                   [RNG.random((3, 6), np.float32), RNG.random((3, 2), np.float32)], expected_output_shape=(3, 1),
                   subprocess_checks=False, mixed_precision=False, reason=LAYER_REASON)


def test_normalisation_and_routing_harness():
    no_weights = LAYER_REASON + "; no trainable weights"
    run_layer_test(FeatureNormalisation, {}, [RNG.random((3, 6), np.float32)], expected_output_shape=(3, 6),
                   subprocess_checks=False, mixed_precision=False, train=False, reason=no_weights)
    run_layer_test(ExpertRouting, {"order": [2, 0, 1]},
                   [RNG.random((3, 1), np.float32), RNG.random((3, 2), np.float32), RNG.random((3, 1), np.float32)],
                   expected_output_shape=(3, 3), subprocess_checks=False, mixed_precision=False, train=False,
                   reason=no_weights)


@pytest.mark.jax
def test_critic_input_gradient_is_the_autodiff_gradient():
    critic = WassersteinCritic(hidden=7)
    x, a = RNG.random((4, 5), np.float32), RNG.random((4, 3), np.float32)
    critic(x, a)
    closed_form = keras.ops.convert_to_numpy(critic.input_gradient(x, a))
    if keras.backend.backend() == "jax":
        import jax

        autodiff = np.asarray(jax.grad(lambda v: critic(v, a).sum())(x))
    else:
        import tensorflow as tf

        v = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(v)
            total = tf.reduce_sum(critic(v, a))
        autodiff = tape.gradient(total, v).numpy()
    np.testing.assert_allclose(closed_form, autodiff, rtol=1e-5, atol=1e-7)


def test_routing_is_hard_model_selection():
    route = ExpertRouting(order=[0, 1, 2, 3], threshold=0.5)  # seen 0, 1; unseen 2, 3
    out = keras.ops.convert_to_numpy(route(np.array([[0.4], [0.6]]), np.array([[0.9, 0.1], [0.9, 0.1]]),
                                           np.array([[0.2, 0.8], [0.2, 0.8]])))
    np.testing.assert_allclose(out, [[0.9, 0.1, 0.0, 0.0], [0.0, 0.0, 0.2, 0.8]], atol=1e-7)


def test_overlapping_seen_and_unseen_classes_are_refused():
    with pytest.raises(ValueError, match="overlap"):
        GZSLModelSelection(4, 2, seen_classes=[0, 1], unseen_classes=[1, 2])
