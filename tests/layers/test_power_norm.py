"""PowerNorm against numpy references, gradients at the edge cases, harness."""

import keras
import numpy as np
import pytest

from hgzoo.layers import PowerNorm
from hgzoo.testing import run_layer_test

pytestmark = pytest.mark.jax  # backend-agnostic: CI runs this file under JAX too


def np_g(function, x, s):
    if function == "gamma":
        return np.sign(x) * np.abs(x) ** s
    if function == "maxexp":
        return np.sign(x) * (1 - (1 - np.clip(np.abs(x), 0, 1)) ** s)
    if function == "asinhe":
        return np.arcsinh(s * x)
    return np.tanh(0.5 * s * x)  # = 2 / (1 + exp(-s x)) - 1, without overflow


def np_spectral(function, m, s):
    lam, u = np.linalg.eigh(m.astype(np.float64))
    lam = np.clip(lam, 0, 1) if function == "maxexp" else (np.maximum(lam, 0) if function == "gamma" else lam)
    return (u * np_g(function, lam, s)[..., None, :]) @ np.swapaxes(u, -1, -2)


def random_psd(rng, batch, d, rank=None, scale_to_unit_trace=True):
    x = rng.standard_normal((batch, d, rank or d + 3))
    m = x @ np.swapaxes(x, -1, -2)
    if scale_to_unit_trace:
        m /= np.trace(m, axis1=-2, axis2=-1)[:, None, None]
    return m.astype(np.float32)


CASES = [("gamma", 0.5), ("gamma", 1.0), ("maxexp", 1.0), ("maxexp", 8.0), ("asinhe", 3.0), ("sigme", 100.0)]


@pytest.mark.parametrize("function,s", CASES)
def test_elementwise_matches_numpy(function, s):
    x = np.random.default_rng(0).uniform(-2, 2, (4, 7)).astype(np.float32)
    x[0, 0] = 0.0
    y = PowerNorm(function, s)(x)
    np.testing.assert_allclose(np.asarray(y), np_g(function, x, s), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("function,s", CASES)
def test_spectral_matches_numpy(function, s):
    m = random_psd(np.random.default_rng(1), 3, 6)
    y = PowerNorm(function, s, spectral=True)(m)
    np.testing.assert_allclose(np.asarray(y), np_spectral(function, m, s), atol=2e-5)


def test_fast_maxexp_matches_eigh_path():
    m = random_psd(np.random.default_rng(2), 4, 16)
    fast = PowerNorm("maxexp", 16, spectral=True, fast=True)(m)
    exact = PowerNorm("maxexp", 16, spectral=True)(m)
    np.testing.assert_allclose(np.asarray(fast), np.asarray(exact), atol=1e-4)


def test_fast_gamma_sqrt_matches_eigh_path():
    rng = np.random.default_rng(3)
    m = random_psd(rng, 2, 8) + 0.05 * np.eye(8, dtype=np.float32)  # well conditioned
    fast = PowerNorm("gamma", 0.5, spectral=True, fast=True)(m)
    exact = PowerNorm("gamma", 0.5, spectral=True)(m)
    np.testing.assert_allclose(np.asarray(fast), np.asarray(exact), atol=1e-4)


def _grad(layer, x):
    """d sum(layer(x) * w)/dx for a fixed random w, on the active backend."""
    w = np.random.default_rng(9).standard_normal(x.shape).astype(np.float32)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            loss = tf.reduce_sum(layer(xt) * w)
        return tape.gradient(loss, xt).numpy()
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(lambda v: (layer(v) * w).sum())(x))
    pytest.skip(f"no gradient helper for backend {backend}")


@pytest.mark.parametrize("function,s", CASES)
def test_gradients_finite_at_zero_and_constant(function, s):
    x = np.zeros((2, 5), np.float32)
    x[1] = 0.25
    assert np.isfinite(_grad(PowerNorm(function, s), x)).all()


@pytest.mark.parametrize("function,s", CASES)
def test_spectral_gradients_finite_for_repeated_and_zero_eigenvalues(function, s):
    rank_deficient = random_psd(np.random.default_rng(4), 2, 8, rank=3)  # five zero eigenvalues
    identity_like = np.stack([np.eye(6, dtype=np.float32) / 6] * 2)  # all eigenvalues equal
    for m in (rank_deficient, identity_like, np.zeros((1, 4, 4), np.float32)):
        g = _grad(PowerNorm(function, s, spectral=True), m)
        assert np.isfinite(g).all()


def test_spectral_gradient_matches_finite_differences():
    rng = np.random.default_rng(5)
    m = random_psd(rng, 1, 5).astype(np.float64)
    g = _grad(PowerNorm("asinhe", 2.0, spectral=True), m.astype(np.float32))
    w = np.random.default_rng(9).standard_normal(m.shape)
    f = lambda mm: (np_spectral("asinhe", mm, 2.0) * w).sum()  # noqa: E731
    for _ in range(3):
        d = rng.standard_normal(m.shape)
        d = d + np.swapaxes(d, -1, -2)  # symmetric direction: stays on symmetric matrices
        eps = 1e-4
        numeric = (f(m + eps * d) - f(m - eps * d)) / (2 * eps)
        analytic = (g * d).sum()
        assert abs(numeric - analytic) < 1e-3 * max(1.0, abs(numeric))


def test_learnable_strength_stays_in_range():
    layer = PowerNorm("gamma", 0.5, learnable=True)
    layer.build((None, 4))
    assert abs(float(layer.current_strength()) - 0.5) < 1e-5
    layer.raw_strength.assign(50.0)
    assert 0 < float(layer.current_strength()) <= 1.0


def test_learnable_strength_trains_towards_the_target_strength():
    """Targets made with γ = 0.25: fitting from γ = 0.75 lowers the loss and moves γ towards 0.25."""
    x = np.random.default_rng(0).uniform(-1, 1, (256, 6)).astype(np.float32)
    y = np_g("gamma", x, 0.25).astype(np.float32)
    layer = PowerNorm("gamma", 0.75, learnable=True)
    inputs = keras.Input((6,))
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    before = float(model.evaluate(x, y, verbose=0))
    model.fit(x, y, epochs=20, batch_size=64, verbose=0)
    after = float(model.evaluate(x, y, verbose=0))
    assert after < 0.1 * before
    assert abs(float(layer.current_strength()) - 0.25) < 0.1


@pytest.mark.parametrize("kwargs,message", [
    ({"function": "nope", "strength": 1}, "function"),
    ({"function": "gamma", "strength": 1.5}, "strength"),
    ({"function": "maxexp", "strength": 0.5}, "strength"),
    ({"function": "maxexp", "strength": 2.5, "spectral": True, "fast": True}, "integer"),
    ({"function": "sigme", "strength": 1, "fast": True}, "spectral"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PowerNorm(**kwargs)


def test_spectral_needs_square_matrices():
    with pytest.raises(ValueError, match="square"):
        PowerNorm("gamma", 0.5, spectral=True)(np.zeros((2, 3, 4), np.float32))


@pytest.mark.parametrize("kwargs", [
    {"function": "sigme", "strength": 5.0, "learnable": True},
    {"function": "maxexp", "strength": 4, "spectral": True, "learnable": True},
])
def test_harness(kwargs):
    m = random_psd(np.random.default_rng(6), 2, 5)
    other = random_psd(np.random.default_rng(7), 3, 5)
    run_layer_test(PowerNorm, kwargs, [m], expected_output_shape=(2, 5, 5), expected_num_trainable_weights=1,
                   expected_num_non_trainable_weights=0, dynamic_axes=(), other_input_data=[other])


def test_harness_fast_path():
    m = random_psd(np.random.default_rng(6), 2, 5)
    run_layer_test(PowerNorm, {"function": "maxexp", "strength": 4, "spectral": True, "fast": True}, [m],
                   expected_output_shape=(2, 5, 5), expected_num_trainable_weights=0, dynamic_axes=(),
                   subprocess_checks=False, reason="the fast path changes no saved state: test_harness runs "
                   "PowerNorm's fresh-process and SavedModel checks")
