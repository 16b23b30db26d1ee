"""AuxiliaryCrossEntropy: the loss it adds, only in training, the pass-through, several heads, harness."""

import numpy as np
import pytest

from hgzoo.layers import AuxiliaryCrossEntropy
from hgzoo.testing import run_layer_test

pytestmark = pytest.mark.jax  # backend-agnostic: CI runs this file under JAX too


def cross_entropy(logits, targets):
    shifted = logits - logits.max(-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    return -np.take_along_axis(log_p, targets[..., None], -1).mean()


def test_adds_weighted_cross_entropy_only_in_training():
    rng = np.random.default_rng(0)
    logits, targets = rng.normal(size=(4, 5)).astype(np.float32), rng.integers(0, 5, 4)
    layer = AuxiliaryCrossEntropy(0.3)
    layer(logits, targets, logits, training=False)
    assert not layer.losses
    layer(logits, targets, logits, training=True)
    np.testing.assert_allclose(float(layer.losses[0]), 0.3 * cross_entropy(logits, targets), rtol=1e-5)


def test_several_heads_average_their_losses_and_lists_pass_through():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 3, 3)).astype(np.float32), rng.normal(size=(5, 3, 3)).astype(np.float32)
    index = lambda x: np.broadcast_to(np.arange(3), x.shape[:2])  # noqa: E731
    layer = AuxiliaryCrossEntropy(2.0)
    out = layer([a, b], [index(a), index(b)], [a, b], training=True)
    expected = 2.0 * (cross_entropy(a, index(a)) + cross_entropy(b, index(b))) / 2
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-5)
    assert [np.asarray(o).shape for o in out] == [(2, 3, 3), (5, 3, 3)]


def test_harness():
    rng = np.random.default_rng(2)
    logits, targets = rng.normal(size=(3, 4)).astype(np.float32), rng.integers(0, 4, 3).astype(np.int32)
    features = rng.normal(size=(3, 6)).astype(np.float32)
    run_layer_test(AuxiliaryCrossEntropy, {"weight": 0.5}, [logits, targets, features], expected_output_shape=(3, 6),
                   expected_num_trainable_weights=0, expected_num_non_trainable_weights=0, dynamic_axes=(),
                   train=False, reason="no weights of its own; the models that use it train it (ARN, SpatialMatching)")
