"""SPD divergences against numpy/scipy references; symmetry, zero, non-negativity, gradients, mixed precision."""

import keras
import numpy as np
import pytest
import scipy.linalg

from hgzoo.domain import DIVERGENCES, SPDDivergence, matrix_log, spd_divergence

# The reference values, symmetry and gradients run under JAX too (marked one by one: CI's JAX pass is short).


def reference(a, b, name):
    """float64 numpy/scipy definitions, written from the formulas, not from the code under test."""
    if name == "frobenius":
        return np.sum((a - b) ** 2)
    if name == "jbld":
        return np.linalg.slogdet((a + b) / 2)[1] - 0.5 * (np.linalg.slogdet(a)[1] + np.linalg.slogdet(b)[1])
    if name == "airm":
        return np.sum(np.log(scipy.linalg.eigh(b, a, eigvals_only=True)) ** 2)  # generalised eigenvalues of (B, A)
    return np.sum((scipy.linalg.logm(a).real - scipy.linalg.logm(b).real) ** 2)


def value(a, b, name, eps=0.0):
    return float(keras.ops.convert_to_numpy(spd_divergence(a.astype("float32"), b.astype("float32"), name, eps=eps)))


@pytest.mark.parametrize("name", DIVERGENCES)
# 1e3: the smallest generalised eigenvalue of two such matrices is about 1e-6, near float32's resolution.
@pytest.mark.parametrize("condition", [pytest.param(10.0, marks=pytest.mark.jax), 1e3])
def test_matches_reference_on_random_and_near_singular_spd(name, condition, random_spd):
    rng = np.random.default_rng(int(condition))
    for d in (3, 8):
        a, b = random_spd(rng, d, condition), random_spd(rng, d, condition)
        expected = reference(a, b, name)
        np.testing.assert_allclose(value(a, b, name), expected, rtol=2e-3 if condition > 100 else 2e-4, atol=1e-5)


@pytest.mark.parametrize("name", DIVERGENCES)
def test_ridge_is_added_to_both(name, random_spd):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 6))  # rank-3 scatter in 6 dimensions: singular without the ridge
    a, b = x.T @ x, random_spd(rng, 6)
    eps = 1e-2
    np.testing.assert_allclose(value(a, b, name, eps), reference(a + eps * np.eye(6), b + eps * np.eye(6), name),
                               rtol=1e-3, atol=1e-5)


@pytest.mark.jax
@pytest.mark.parametrize("name", DIVERGENCES)
def test_symmetric_zero_on_equal_and_positive(name, random_spd):
    rng = np.random.default_rng(1)
    a, b = random_spd(rng, 5, 100.0), random_spd(rng, 5, 100.0)
    assert value(a, b, name) > 0
    np.testing.assert_allclose(value(a, b, name), value(b, a, name), rtol=1e-4)
    assert abs(value(a, a, name)) < 1e-5


def test_batched_matrices_give_one_value_each(random_spd):
    rng = np.random.default_rng(2)
    a, b = random_spd(rng, 4, batch=(2, 3)), random_spd(rng, 4, batch=(2, 3))
    out = keras.ops.convert_to_numpy(spd_divergence(a, b, "airm", eps=0))
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out[1, 2], reference(a[1, 2], b[1, 2], "airm"), rtol=1e-3)


@pytest.mark.jax
@pytest.mark.parametrize("name", DIVERGENCES)
def test_gradients_are_finite_and_correct_even_for_equal_eigenvalues(name, random_spd, gradient):
    rng = np.random.default_rng(4)
    b = random_spd(rng, 4, 10.0).astype("float32")
    x = rng.normal(size=(2, 4))
    cases = {"identity (all eigenvalues equal)": np.eye(4), "rank-deficient scatter": x.T @ x, "equal to b": b}
    for what, a in cases.items():
        g = gradient(lambda t: spd_divergence(t, b, name, eps=1e-3), a)
        assert np.all(np.isfinite(g)), f"{name}: non-finite gradient at {what}"
    g = gradient(lambda t: spd_divergence(t, b, name, eps=0.0), b)
    assert np.abs(g).max() < 1e-3, "the gradient at the minimum (a == b) must vanish"
    # Central differences (float64 reference) along a symmetric direction at a generic point.
    a = random_spd(rng, 4, 10.0)
    direction = rng.normal(size=(4, 4))
    direction = (direction + direction.T) / 2
    h = 1e-5
    numeric = (reference(a + h * direction, b, name) - reference(a - h * direction, b, name)) / (2 * h)
    analytic = np.sum(gradient(lambda t: spd_divergence(t, b, name, eps=0.0), a) * direction)
    np.testing.assert_allclose(analytic, numeric, rtol=2e-3, atol=1e-4)


def test_matrix_log_matches_scipy(random_spd):
    a = random_spd(np.random.default_rng(5), 5, 50.0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(matrix_log(a.astype("float32"))), scipy.linalg.logm(a).real,
                               atol=2e-5)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_inputs_are_computed_in_float32(dtype, random_spd):
    rng = np.random.default_rng(6)
    a, b = random_spd(rng, 6, 1e3), random_spd(rng, 6, 1e3)
    half = [keras.ops.cast(m, dtype) for m in (a, b)]
    out = spd_divergence(*half, "log_euclidean", eps=0.0)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    rounded = [keras.ops.convert_to_numpy(keras.ops.cast(m, "float32")).astype(np.float64) for m in half]
    np.testing.assert_allclose(float(keras.ops.convert_to_numpy(out)), reference(*rounded, "log_euclidean"), rtol=1e-3)


def test_loss_class_averages_and_round_trips(random_spd):
    rng = np.random.default_rng(7)
    a, b = random_spd(rng, 3, batch=(4,)), random_spd(rng, 3, batch=(4,))
    loss = SPDDivergence("jbld", eps=0.0)
    expected = np.mean([reference(a[i], b[i], "jbld") for i in range(4)])
    np.testing.assert_allclose(float(keras.ops.convert_to_numpy(loss(a, b))), expected, rtol=1e-4)
    clone = SPDDivergence.from_config(loss.get_config())
    assert (clone.divergence, clone.eps) == ("jbld", 0.0)
    assert keras.saving.get_registered_object("hgzoo>SPDDivergence") is SPDDivergence


@pytest.mark.parametrize("bad, message", [
    (np.full((3, 3), np.nan), "NaN"),
    (np.array([[1.0, 2.0], [0.0, 1.0]]), "not symmetric"),
    (np.array([[1.0, 0.0], [0.0, -1.0]]), "not positive semi-definite"),
    (np.ones((3, 2)), "square"),
])
def test_bad_matrices_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        spd_divergence(bad, np.eye(bad.shape[-1]) if bad.shape[0] == bad.shape[-1] else bad, "airm")


def test_bad_arguments():
    with pytest.raises(ValueError, match="divergence='kl' is unknown; choose one of frobenius"):
        spd_divergence(np.eye(2), np.eye(2), "kl")
    with pytest.raises(ValueError, match="same shape"):
        spd_divergence(np.eye(2), np.eye(3))
    with pytest.raises(ValueError, match="eps must be >= 0"):
        spd_divergence(np.eye(2), np.eye(2), eps=-1)
