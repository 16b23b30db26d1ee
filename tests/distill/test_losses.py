"""The matching losses against numpy re-computations of the official formulas."""

import numpy as np
import pytest
from keras import ops

from hgzoo.distill import ClassCentralisation, CovarianceMatching, IIDObjective, MeanMatching
from hgzoo.distill.autodiff import value_and_grad
from hgzoo.distill.losses import WEIGHTS

pytestmark = pytest.mark.jax

RNG = np.random.default_rng(0)


def np_cov(maps):
    centred = maps - maps.mean(axis=0)
    return np.mean([c @ c.T for c in centred], axis=0)


def test_mean_matching():
    real, syn = RNG.normal(size=(7, 5)), RNG.normal(size=(3, 5))
    expected = np.sum((real.mean(0) - syn.mean(0)) ** 2)
    np.testing.assert_allclose(float(MeanMatching()(real, syn)), expected, rtol=1e-5)


def test_covariance_matching_is_unscaled_by_locations_and_weighted():
    real, syn = RNG.normal(size=(6, 4, 9)), RNG.normal(size=(3, 4, 9))
    expected = 0.01 * np.sum((np_cov(real) - np_cov(syn)) ** 2)
    np.testing.assert_allclose(float(CovarianceMatching()(real, syn)), expected, rtol=1e-4)


def test_covariance_matching_stops_the_real_side():
    real, syn = RNG.normal(size=(5, 3, 4)).astype("float32"), RNG.normal(size=(2, 3, 4)).astype("float32")
    loss = CovarianceMatching(weight=1.0)
    _, grad_real = value_and_grad(lambda r, s: loss(r, s))(real, syn)
    _, grad_syn = value_and_grad(lambda s, r: loss(r, s))(syn, real)
    assert np.abs(np.asarray(grad_real)).max() == 0.0
    assert np.abs(np.asarray(grad_syn)).max() > 0.0


def test_class_centralisation():
    g, labels = RNG.normal(size=(6, 4)), np.array([0, 0, 1, 1, 1, 2])
    expected = 0.05 * sum(np.sum((g[labels == c] - g[labels == c].mean(0)) ** 2) for c in range(3))
    np.testing.assert_allclose(float(ClassCentralisation(num_classes=3)(labels, g)), expected, rtol=1e-5)


def test_iid_objective_sums_the_weighted_terms_and_the_idm_variant_adds_cross_entropy():
    rf, sf = RNG.normal(size=(8, 5)), RNG.normal(size=(4, 5))
    rl, sl = RNG.normal(size=(8, 3, 4)), RNG.normal(size=(4, 3, 4))
    emb, logits, labels = RNG.normal(size=(4, 6)), RNG.normal(size=(4, 3)), np.array([0, 0, 1, 2])
    mm = np.sum((rf.mean(0) - sf.mean(0)) ** 2)
    cov = np.sum((np_cov(rl) - np_cov(sl)) ** 2)
    cc = sum(np.sum((emb[labels == c] - emb[labels == c].mean(0)) ** 2) for c in range(3))
    total = IIDObjective("dm", num_classes=3)(rf, rl, sf, sl, emb, logits, labels)
    np.testing.assert_allclose(float(total), mm + 0.01 * cov + 0.05 * cc, rtol=1e-4)
    shifted = logits - logits.max(1, keepdims=True)
    ce = np.mean(-(shifted - np.log(np.exp(shifted).sum(1, keepdims=True)))[np.arange(4), labels])
    total = IIDObjective("idm", num_classes=3)(rf, rl, sf, sl, emb, logits, labels)
    w = WEIGHTS["idm"]
    np.testing.assert_allclose(float(total), mm + w["covariance"] * cov + w["centralisation"] * cc
                               + w["cross_entropy"] * ce, rtol=1e-4)
    plain = IIDObjective("dm", covariance=0, centralisation=0)(rf, rl, sf, sl, emb, logits, labels)
    np.testing.assert_allclose(float(plain), mm, rtol=1e-5)


def test_losses_round_trip_their_config():
    loss = ClassCentralisation(num_classes=4, weight=0.2)
    again = ClassCentralisation.from_config(loss.get_config())
    assert again.num_classes == 4 and again.weight == 0.2
    with pytest.raises(ValueError, match="variant"):
        IIDObjective("mtt")
    assert float(ops.convert_to_numpy(CovarianceMatching()(np.ones((2, 2, 2)), np.ones((2, 2, 2))))) == 0.0
