"""CrossAttention against a numpy reference, masking, mixed precision, harness."""

import numpy as np
import pytest

from hgzoo.layers import CrossAttention
from hgzoo.testing import run_layer_test

pytestmark = pytest.mark.jax  # backend-agnostic: CI runs this file under JAX too


def np_reference(layer, q, s, mask=None):
    def dense(d, x):
        y = x @ np.asarray(d.kernel)
        return y + np.asarray(d.bias) if d.use_bias else y

    b, h = q.shape[0], layer.num_heads
    qt, st = q.reshape(b, -1, q.shape[-1]), s.reshape(b, -1, s.shape[-1])
    Q = dense(layer.query_dense, qt).reshape(b, -1, h, layer.key_dim).transpose(0, 2, 1, 3)
    K = dense(layer.key_dense, st).reshape(b, -1, h, layer.key_dim).transpose(0, 2, 1, 3)
    V = dense(layer.value_dense, st).reshape(b, -1, h, layer.value_dim).transpose(0, 2, 1, 3)
    scores = Q @ K.transpose(0, 1, 3, 2) / np.sqrt(layer.key_dim)
    if mask is not None:
        scores = np.where(mask.reshape(b, 1, 1, -1), scores, -np.inf)
    w = np.exp(scores - scores.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    out = (w @ V).transpose(0, 2, 1, 3).reshape(b, -1, h * layer.value_dim)
    return out.reshape(q.shape[:-1] + (h * layer.value_dim,))


def test_matches_numpy_on_feature_maps():
    rng = np.random.default_rng(0)
    q = rng.standard_normal((2, 3, 4, 8)).astype(np.float32)
    s = rng.standard_normal((2, 5, 3, 3, 8)).astype(np.float32)
    layer = CrossAttention(num_heads=2, key_dim=4, value_dim=3, use_bias=True)
    y = np.asarray(layer(q, s))
    assert y.shape == (2, 3, 4, 6)
    np.testing.assert_allclose(y, np_reference(layer, q, s), rtol=1e-4, atol=1e-5)


def test_padding_mask_equals_unpadded():
    rng = np.random.default_rng(1)
    q = rng.standard_normal((1, 6, 8)).astype(np.float32)
    s = rng.standard_normal((1, 4, 8)).astype(np.float32)
    padded = np.concatenate([s, 100 * rng.standard_normal((1, 3, 8)).astype(np.float32)], axis=1)
    mask = np.array([[True] * 4 + [False] * 3])
    layer = CrossAttention(num_heads=2, key_dim=4)
    np.testing.assert_allclose(np.asarray(layer(q, padded, support_mask=mask)), np.asarray(layer(q, s)),
                               rtol=1e-5, atol=1e-6)


def test_fully_masked_row_is_zero_not_nan_in_float16():
    rng = np.random.default_rng(2)
    q = rng.standard_normal((2, 3, 8)).astype(np.float32)
    s = rng.standard_normal((2, 4, 8)).astype(np.float32)
    mask = np.array([[True] * 4, [False] * 4])
    y = np.asarray(CrossAttention(1, 4, dtype="mixed_float16")(q, s, support_mask=mask), np.float32)
    assert np.isfinite(y).all() and np.all(y[1] == 0)


def test_needs_two_inputs():
    with pytest.raises(ValueError, match="num_heads"):
        CrossAttention(0, 4)


def test_harness():
    rng = np.random.default_rng(3)
    q = rng.standard_normal((2, 4, 4, 8)).astype(np.float32)
    s = rng.standard_normal((2, 3, 4, 4, 8)).astype(np.float32)
    q2 = rng.standard_normal((2, 2, 5, 8)).astype(np.float32)
    s2 = rng.standard_normal((2, 3, 2, 2, 8)).astype(np.float32)
    run_layer_test(CrossAttention, {"num_heads": 2, "key_dim": 4, "output_dim": 8}, [q, s],
                   expected_output_shape=(2, 4, 4, 8), expected_num_trainable_weights=4,
                   expected_num_non_trainable_weights=0, dynamic_axes=(1, 2, 3), other_input_data=[q2, s2])
