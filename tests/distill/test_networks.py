"""The distillation networks: harness checks, ``embed`` shapes, instance norm, fresh random weights."""

import keras
import numpy as np
import pytest

from hgzoo.distill import VGG11, ConvNet
from hgzoo.distill.base import reinitialize
from hgzoo.testing import run_model_test

pytestmark = pytest.mark.jax

ON_TF = keras.backend.backend() == "tensorflow"
# The JAX pass (a 25 s budget) runs the plain checks; the TensorFlow pass adds mixed precision and a fresh process.
CHECKS = {"subprocess_checks": ON_TF, "mixed_precision": ON_TF,
          "reason": None if ON_TF else "JAX pass: in-process checks only, within CI's time budget"}


def images(n, size=32, seed=0):
    return np.random.default_rng(seed).normal(size=(n, size, size, 3)).astype("float32")


def test_convnet_harness():
    run_model_test(ConvNet, {"width": 4, "depth": 3, "num_classes": 3}, [images(2)], expected_output_shape=(2, 3),
                   target=np.array([0, 2]), float32_outputs=True, **CHECKS)


def test_convnet_embed_is_the_official_flat_feature_and_local_map():
    net = ConvNet(width=4, depth=3)
    x = images(2)
    feature, local = (np.asarray(a) for a in net.embed(x))
    assert feature.shape == (2, 4 * 4 * 4) and local.shape == (2, 4, 16)
    last = np.asarray(keras.Model(net.inputs, net.get_layer("local").output)(x))  # (2, 4, 4, 4)
    np.testing.assert_allclose(local, last.reshape(2, 16, 4).transpose(0, 2, 1), atol=1e-6)
    np.testing.assert_allclose(feature, last.reshape(2, -1), atol=1e-6)
    logits = np.asarray(net(x))
    kernel, bias = net.get_layer("logits").get_weights()
    np.testing.assert_allclose(logits, feature @ kernel + bias, rtol=1e-4, atol=1e-5)


def test_convnet_normalises_each_channel_of_each_image():
    # GroupNorm(C, C) with gamma 1, beta 0 is instance norm: every (image, channel) plane has mean 0, variance 1.
    net = ConvNet(width=4, depth=1)
    x = images(3)
    normed = np.asarray(keras.Model(net.inputs, net.get_layer("block1_norm").output)(x))
    np.testing.assert_allclose(normed.mean(axis=(1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(normed.var(axis=(1, 2)), 1.0, atol=1e-2)


def test_reinitialize_draws_pytorch_default_weights():
    net = ConvNet(width=8, depth=2, num_classes=3)
    before = [w.copy() for w in net.get_weights()]
    reinitialize(net, np.random.default_rng(1))
    kernel = net.get_layer("block2_conv").kernel.numpy() if ON_TF else np.asarray(net.get_layer("block2_conv").kernel)
    bound = 1 / np.sqrt(3 * 3 * 8)
    assert np.abs(kernel).max() <= bound and np.abs(kernel).max() > 0.9 * bound
    bias = np.asarray(net.get_layer("block1_conv").bias)
    assert np.abs(bias).max() <= 1 / np.sqrt(27) and np.abs(bias).max() > 0
    assert not np.allclose(before[0], net.get_weights()[0])
    again = ConvNet(width=8, depth=2, num_classes=3)
    reinitialize(again, np.random.default_rng(1))
    for a, b in zip(net.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_too_small_images_are_refused():
    with pytest.raises(ValueError, match="at least 8 pixels"):
        ConvNet(image_size=(4, 4))
    with pytest.raises(ValueError, match="at least 32"):
        VGG11(image_size=(16, 16))
