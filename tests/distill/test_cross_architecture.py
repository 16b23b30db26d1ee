"""ResNet-18 and VGG-11, the cross-architecture evaluation networks (TensorFlow pass only: the JAX pass has
25 s, and they are built from the ConvNet's blocks, which run there)."""

import numpy as np

from hgzoo.distill import VGG11, ResNet18
from hgzoo.testing import run_model_test


def images(n, size=32, seed=0):
    return np.random.default_rng(seed).normal(size=(n, size, size, 3)).astype("float32")


def test_resnet18_harness():
    run_model_test(ResNet18, {"width": 2, "num_classes": 3}, [images(2)], expected_output_shape=(2, 3),
                   target=np.array([0, 2]), subprocess_checks=False, mixed_precision=False,
                   reason="built from the ConvNet's blocks, whose test covers mixed precision and the fresh-process "
                          "load; kept within the suite's time budget")


def test_vgg11_harness():
    run_model_test(VGG11, {"width": 2, "num_classes": 3}, [images(2)], expected_output_shape=(2, 3),
                   target=np.array([0, 2]), subprocess_checks=False, mixed_precision=False,
                   reason="built from the ConvNet's blocks, whose test covers mixed precision and the fresh-process "
                          "load; kept within the suite's time budget")


def test_embed_shapes_of_the_cross_architecture_networks():
    x = images(2)
    feature, local = ResNet18(width=2).embed(x)
    assert tuple(feature.shape) == (2, 16) and tuple(local.shape) == (2, 16, 16)
    feature, local = VGG11(width=2).embed(x)
    assert tuple(feature.shape) == (2, 16) and tuple(local.shape) == (2, 16, 1)
