"""SecondOrderPool against numpy, any spatial size, harness."""

import numpy as np
import pytest

from hgzoo.layers import SecondOrderPool
from hgzoo.testing import run_layer_test

pytestmark = pytest.mark.jax  # backend-agnostic: CI runs this file under JAX too


def np_pool(x, kind, trace_normalize, eps=1e-6):
    b, c = x.shape[0], x.shape[-1]
    f = x.reshape(b, -1, c).astype(np.float64)
    if kind == "covariance":
        f = f - f.mean(axis=1, keepdims=True)
    m = np.swapaxes(f, 1, 2) @ f / f.shape[1]
    if trace_normalize:
        m = m / (np.trace(m, axis1=1, axis2=2)[:, None, None] + eps)
    return m


@pytest.mark.parametrize("kind", ["autocorrelation", "covariance"])
@pytest.mark.parametrize("trace_normalize", [False, True])
@pytest.mark.parametrize("shape", [(2, 19, 19, 8), (1, 3, 7, 4), (3, 10, 4)])
def test_matches_numpy(kind, trace_normalize, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    y = SecondOrderPool(kind, trace_normalize)(x)
    np.testing.assert_allclose(np.asarray(y), np_pool(x, kind, trace_normalize), rtol=1e-4, atol=1e-5)


def test_mixed_precision_runs_in_float32_inside():
    x = (np.random.default_rng(1).standard_normal((2, 30, 30, 16)) * 300).astype(np.float16)
    layer = SecondOrderPool(trace_normalize=True, dtype="mixed_float16")
    y = np.asarray(layer(x), np.float64)
    # Sums of 300² over 900 positions overflow float16 (max 65504); float32 inside keeps them.
    np.testing.assert_allclose(y, np_pool(x.astype(np.float32), "autocorrelation", True), atol=2e-3)


def test_bad_kind_and_rank():
    with pytest.raises(ValueError, match="kind"):
        SecondOrderPool("bogus")
    with pytest.raises(ValueError, match="B, H, W, C"):
        SecondOrderPool()(np.zeros((2, 3), np.float32))


def test_harness():
    x = np.random.default_rng(2).standard_normal((2, 6, 5, 4)).astype(np.float32)
    other = np.random.default_rng(3).standard_normal((3, 9, 2, 4)).astype(np.float32)
    run_layer_test(SecondOrderPool, {"kind": "covariance", "trace_normalize": True}, [x],
                   expected_output_shape=(2, 4, 4), expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0, other_input_data=[other])
