"""DDDNet's parts and the joint model: harness, wiring details, loss, DMPHN start, export."""

import numpy as np
import pytest

from hgzoo.deblur import DMPHN
from hgzoo.dualpixel import DDDNet, DeblurNet, DisparityNet, DualPixelLoss, init_from_dmphn, restore
from hgzoo.dualpixel.layers import ChannelAttention, CostVolume, SoftArgmin
from hgzoo.testing import run_export_test, run_model_test

# Backend-agnostic. The cheap tests run in CI's JAX pass (pytest.mark.jax); the harnesses compile for minutes
# under JAX on 2 CPU cores (test_dddnet_full_harness passed under JAX by hand: KERAS_BACKEND=jax -m slow).

TINY = {"width": 0.125}


def views(b, h, w, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.random((b, h, w, 3)).astype("float32") for _ in range(2)]


def test_disparity_net_harness():
    run_model_test(DisparityNet, TINY, views(2, 64, 64), expected_output_shape=(2, 64, 64, 1),
                   other_input_data=views(1, 72, 96, 1), float32_outputs=True, train=False,
                   subprocess_checks=False, atol=1e-4,
                   reason="CI time: DDDNet's fit (Estd trained end to end) and the fresh-process reload run in the "
                          "slow test_dddnet_full_harness")


def test_deblur_net_harness():
    x = views(2, 32, 32) + [np.random.default_rng(2).random((2, 32, 32, 1)).astype("float32") * 11]
    run_model_test(DeblurNet, TINY, x, expected_output_shape=(2, 32, 32, 4), float32_outputs=True,
                   other_input_data=views(1, 48, 40, 1) + [np.zeros((1, 48, 40, 1), "float32")], atol=1e-4,
                   train=False, subprocess_checks=False,
                   reason="CI time (a fit step compiles for 30-40 s on 2 CPU cores): fit, with the reblur loss, and "
                          "the fresh-process reload run on the whole DDDNet in the slow test_dddnet_full_harness")


def dddnet_case():
    x = views(1, 64, 64)
    return x, np.concatenate([x[0], np.full((1, 64, 64, 1), 5.5, "float32")], axis=-1)


def test_dddnet_harness():
    x, target = dddnet_case()
    run_model_test(DDDNet, TINY, x, expected_output_shape=(1, 64, 64, 4), target=target, float32_outputs=True,
                   train=False, mixed_precision=False, subprocess_checks=False, atol=1e-4,
                   reason="CI time (a DDDNet fit step compiles for a minute on 2 CPU cores): mixed precision is "
                          "checked on both parts, fit on DeblurNet; everything, fit with the reblur loss included, "
                          "runs in the slow test_dddnet_full_harness")


@pytest.mark.slow
def test_dddnet_full_harness():
    x, target = dddnet_case()
    run_model_test(DDDNet, TINY, x, expected_output_shape=(1, 64, 64, 4), target=target, float32_outputs=True,
                   mixed_precision_fit=False, atol=1e-4,
                   reason="half-precision steps of 3D convolutions take minutes on CPU")


@pytest.mark.jax
def test_cost_volume_zeros_where_the_official_buffer_is_uninitialised():
    left = np.random.default_rng(0).random((1, 3, 6, 2)).astype("float32") + 1
    right = left + 10
    cost = np.asarray(CostVolume(4)([left, right]))
    for i in range(4):
        np.testing.assert_array_equal(cost[0, i, :, :i], 0.0)
        np.testing.assert_allclose(cost[0, i, :, i:, :2], left[0, :, i:])
        np.testing.assert_allclose(cost[0, i, :, i:, 2:], right[0, :, :6 - i])


@pytest.mark.jax
def test_soft_argmin_is_the_expected_disparity():
    cost = np.random.default_rng(0).normal(size=(1, 12, 2, 3)).astype("float32")
    p = np.exp(-cost) / np.exp(-cost).sum(axis=1, keepdims=True)
    expected = (p * np.arange(12)[None, :, None, None]).sum(axis=1)
    np.testing.assert_allclose(np.asarray(SoftArgmin()(cost))[..., 0], expected, rtol=1e-5)


@pytest.mark.jax
def test_channel_attention_matches_danet_when_gamma_is_one():
    x = np.random.default_rng(0).random((1, 2, 3, 4)).astype("float32")
    layer = ChannelAttention()
    layer(x)
    layer.gamma.assign(np.ones(1, "float32"))
    flat = x.reshape(6, 4).T  # (C, N) as in PyTorch
    energy = flat @ flat.T
    att = energy.max(axis=-1, keepdims=True) - energy
    att = np.exp(att - att.max(axis=-1, keepdims=True))
    att /= att.sum(axis=-1, keepdims=True)
    expected = (att @ flat).T.reshape(1, 2, 3, 4) + x
    np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-4)


@pytest.mark.jax
def test_loss_terms():
    y = np.random.default_rng(0).random((2, 8, 8, 4)).astype("float32")
    pred = y.copy()
    pred[..., :3] += 0.1
    assert float(DualPixelLoss(disparity_weight=0)(y, pred)) == pytest.approx(0.1, rel=1e-4)
    unknown = y.copy()
    unknown[..., 3] = np.nan  # real captures: no disparity ground truth
    pred = y.copy()
    pred[..., 3] += 3.0
    assert float(DualPixelLoss(disparity_weight=1)(unknown, pred)) == 0.0
    assert float(DualPixelLoss(disparity_weight=1)(y, pred)) == pytest.approx(3.0, rel=1e-4)
    with pytest.raises(ValueError, match="image_loss"):
        DualPixelLoss(image_loss="l2")


def test_deblur_net_starts_from_dmphn_weights():
    dmphn = DMPHN(levels=(1, 2, 4))
    net = DeblurNet(dmphn_domain=True)
    init_from_dmphn(net, dmphn)
    left, right = views(1, 16, 16)
    disparity = np.full((1, 16, 16, 1), 5.5, "float32")
    cam = net.get_layer("cam_conv")
    cam.bias.assign(np.full(tuple(cam.bias.shape), -30.0, "float32"))  # sigmoid ≈ 0: CAM branch off
    out = net.predict_on_batch([left, right, disparity])
    np.testing.assert_allclose(out[..., :3], dmphn.predict_on_batch(left), atol=1e-4)
    with pytest.raises(ValueError, match="width"):
        init_from_dmphn(DeblurNet(width=0.125, dmphn_domain=True), dmphn)


def test_restore_tiles_any_size():
    model = DDDNet(**TINY)
    x = np.random.default_rng(0).random((70, 90)).astype("float32")
    image, disparity = restore(model, x, x, tile=64, overlap=8)
    assert image.shape == (70, 90, 3) and disparity.shape == (70, 90)
    whole = model.predict_on_batch([np.repeat(x[None, :64, :64, None], 3, -1)] * 2)
    # tiles start at rows 0, 6 and columns 0, 26: the first owns rows < 35 and columns < 45
    np.testing.assert_allclose(image[:35, :45], np.clip(whole[0, :35, :45, :3], 0, 1), atol=1e-4)
    with pytest.raises(ValueError, match="differ in size"):
        restore(model, x, x[:, :80])


def test_export_signature():
    model = DDDNet(**TINY)
    left, right = views(1, 64, 64)
    served = run_export_test(model, {"left": left, "right": right},
                             {"inputs": {"left": "float32", "right": "float32"},
                              "outputs": {"disparity": "float32", "image": "float32"}})
    np.testing.assert_allclose(served["image"], np.clip(model.predict_on_batch([left, right])[..., :3], 0, 1),
                               atol=1e-4)
