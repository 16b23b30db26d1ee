"""Per-class scatter statistics and the scatter alignment loss against numpy; degenerate batches; gradients.

TensorFlow only (CI's JAX pass covers the divergences and the model harness, within its time budget)."""

import keras
import numpy as np
import pytest

from hgzoo.domain import DIVERGENCES, class_statistics, scatter_alignment_loss, scatter_alignment_terms
from hgzoo.domain.scatter import relative_ridge


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_class_statistics_match_numpy_and_ignore_padding():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(11, 4)).astype("float32")
    y = np.array([0, 0, 0, 1, 1, 2, -1, 0, 1, -1, 1])
    counts, means, scatters = (numpy(v) for v in class_statistics(x, y, num_classes=4))
    np.testing.assert_array_equal(counts, [4, 4, 1, 0])
    for c in (0, 1):
        np.testing.assert_allclose(means[c], x[y == c].mean(0), atol=1e-6)
        np.testing.assert_allclose(scatters[c], np.cov(x[y == c].T), atol=1e-5)
    np.testing.assert_allclose(means[2], x[y == 2][0], atol=1e-6)
    assert np.all(scatters[2] == 0) and np.all(scatters[3] == 0) and np.all(means[3] == 0)


def test_terms_match_numpy():
    rng = np.random.default_rng(1)
    xs, xt = rng.normal(size=(9, 3)).astype("float32"), rng.normal(size=(9, 3)).astype("float32") + 0.5
    ys, yt = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2]), np.array([0, 0, 1, 1, 1, 2, -1, -1, -1])
    terms = {k: float(numpy(v)) for k, v in scatter_alignment_terms(xs, ys, xt, yt, 3, "frobenius", margin=2.0,
                                                                     eps=0.1).items()}
    ridge = lambda s: s + (0.1 * np.trace(s) / 3 + 1e-6) * np.eye(3)
    # Scatter: classes with >= 2 samples in both streams (0 and 1); class 2 has one target sample.
    expected = np.mean([np.sum((ridge(np.cov(xs[ys == c].T)) - ridge(np.cov(xt[yt == c].T))) ** 2) / 3 for c in (0, 1)])
    np.testing.assert_allclose(terms["scatter"], expected, rtol=1e-4)
    mu_s = np.stack([xs[ys == c].mean(0) for c in range(3)])
    mu_t = np.stack([xt[yt == c].mean(0) for c in range(3)])
    np.testing.assert_allclose(terms["mean"], np.mean(np.sum((mu_s - mu_t) ** 2, -1)), rtol=1e-5)
    distances = np.sum((mu_s[:, None] - mu_t[None]) ** 2, -1)
    hinge = [max(0.0, 2.0 - distances[i, j]) for i in range(3) for j in range(3) if i != j]
    np.testing.assert_allclose(terms["separation"], np.mean(hinge), rtol=1e-5, atol=1e-6)
    total = float(numpy(scatter_alignment_loss(xs, ys, xt, yt, 3, "frobenius", scatter_weight=2.0, mean_weight=0.5,
                                               separation_weight=3.0, margin=2.0, eps=0.1)))
    np.testing.assert_allclose(total, 2 * terms["scatter"] + 0.5 * terms["mean"] + 3 * terms["separation"], rtol=1e-5)


@pytest.mark.parametrize("divergence", DIVERGENCES)
def test_one_sample_per_class_is_finite_with_finite_gradients(divergence, gradient):
    # K = 1: every target class has one sample (and one class none), so no scatter can be estimated.
    rng = np.random.default_rng(2)
    xs, xt = rng.normal(size=(8, 5)).astype("float32"), rng.normal(size=(8, 5)).astype("float32")
    ys, yt = np.array([0, 0, 1, 1, 2, 2, 3, 3]), np.array([0, 1, 2, -1, -1, -1, -1, -1])
    terms = scatter_alignment_terms(xs, ys, xt, yt, 4, divergence)
    assert float(numpy(terms["scatter"])) == 0.0
    g = gradient(lambda f: scatter_alignment_loss(f, ys, xt, yt, 4, divergence), xs)
    assert np.all(np.isfinite(g)) and np.abs(g).max() > 0  # the mean and separation terms still pull
    # Identical, collapsed and rank-deficient features: finite values and gradients, no NaN.
    for x in (np.zeros_like(xs), np.ones_like(xs), xs):
        y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
        g = gradient(lambda f, x=x, y=y: scatter_alignment_loss(f, y, x, y, 2, divergence), x)
        assert np.all(np.isfinite(g)), f"{divergence}: non-finite gradient"


@pytest.mark.parametrize("divergence", DIVERGENCES)
def test_identical_streams_cost_nothing(divergence):
    x = np.random.default_rng(3).normal(size=(12, 4)).astype("float32")
    y = np.arange(12) % 3
    loss = scatter_alignment_loss(x, y, x, y, 3, divergence, separation_weight=0.0)
    assert abs(float(numpy(loss))) < 1e-5


def test_relative_ridge_makes_log_divergences_scale_invariant():
    rng = np.random.default_rng(4)
    xs, xt = rng.normal(size=(6, 4)).astype("float32"), rng.normal(size=(6, 4)).astype("float32")
    y = np.array([0, 0, 0, 1, 1, 1])
    for divergence in ("jbld", "airm", "log_euclidean"):
        a = float(numpy(scatter_alignment_terms(xs, y, xt, y, 2, divergence)["scatter"]))
        b = float(numpy(scatter_alignment_terms(10 * xs, y, 10 * xt, y, 2, divergence)["scatter"]))
        np.testing.assert_allclose(a, b, rtol=1e-3)
    s = numpy(relative_ridge(np.diag([2.0, 0.0]).astype("float32"), 0.5))
    np.testing.assert_allclose(np.diag(s), [2.5 + 1e-6, 0.5 + 1e-6], rtol=1e-6)


def test_mismatched_feature_widths_are_refused():
    with pytest.raises(ValueError, match="source features are 4 wide but target features 3"):
        scatter_alignment_loss(np.zeros((2, 4)), np.zeros(2, int), np.zeros((2, 3)), np.zeros(2, int), 2)
    with pytest.raises(ValueError, match="unknown"):
        scatter_alignment_loss(np.zeros((2, 4)), np.zeros(2, int), np.zeros((2, 4)), np.zeros(2, int), 2, "kl")
