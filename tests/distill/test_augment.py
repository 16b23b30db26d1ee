"""DSA: the same parameters for real and synthetic images, gradients reach the images, exact transforms."""

import numpy as np
import pytest
from keras import ops

from hgzoo.distill import SiameseAugmentation
from hgzoo.distill.augment import TRANSFORMS, affine, apply
from hgzoo.distill.autodiff import value_and_grad

pytestmark = pytest.mark.jax


def images(n, seed=0):
    return np.random.default_rng(seed).random((n, 12, 12, 3)).astype("float32")


def test_same_seed_same_parameters_for_real_and_synthetic_batches():
    dsa = SiameseAugmentation()
    for seed in range(12):
        real, syn = dsa.draw(seed, 16, (12, 12)), dsa.draw(seed, 3, (12, 12))
        assert sorted(real) == sorted(syn)
        for name in real:
            np.testing.assert_array_equal(real[name][:3], syn[name])
    assert any(not np.array_equal(dsa.draw(0, 4, (12, 12)).get(n), dsa.draw(1, 4, (12, 12)).get(n))
               for n in TRANSFORMS)


def test_a_synthetic_image_is_augmented_as_its_real_counterpart():
    x = images(6)
    dsa = SiameseAugmentation(mode="all")
    np.testing.assert_allclose(np.asarray(dsa(x, seed=5))[:2], np.asarray(dsa(x[:2], seed=5)), atol=1e-6)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_gradient_flows_to_the_images(name):
    x = images(3)
    dsa = SiameseAugmentation(name, mode="all")
    weights = np.random.default_rng(1).normal(size=x.shape).astype("float32")
    _, grad = value_and_grad(lambda v: ops.sum(dsa(v, seed=3) * weights))(x)
    grad = np.asarray(grad)
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0


def test_whole_pixel_crop_and_flip_match_numpy():
    x = images(2)
    theta = np.zeros((2, 2, 3), "float32")
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[0, 0, 2] = 2 * 2 / 11  # sample 2 pixels to the right
    theta[1, 1, 2] = -2 * 3 / 11  # and 3 pixels up
    out = np.asarray(affine(x, theta))
    expected = np.zeros_like(x)
    expected[0, :, :-2] = x[0, :, 2:]
    expected[1, 3:] = x[1, :-3]
    np.testing.assert_allclose(out, expected, atol=1e-5)
    flipped = np.asarray(apply(x, {"flip": np.array([1.0, 0.0], "float32")}))
    np.testing.assert_array_equal(flipped[0], x[0, :, ::-1])
    np.testing.assert_array_equal(flipped[1], x[1])


def test_identity_warp_and_colour_formula():
    x = images(2)
    identity = np.tile(np.array([[1, 0, 0], [0, 1, 0]], "float32"), (2, 1, 1))
    np.testing.assert_allclose(np.asarray(affine(x, identity)), x, atol=1e-5)
    p = np.array([[0.1, 1.5, 0.7], [-0.2, 0.3, 1.2]], "float32")
    out = np.asarray(apply(x, {"color": p}))
    y = x + p[:, 0, None, None, None]
    m = y.mean(-1, keepdims=True)
    y = (y - m) * p[:, 1, None, None, None] + m
    m = y.mean((1, 2, 3), keepdims=True)
    np.testing.assert_allclose(out, (y - m) * p[:, 2, None, None, None] + m, atol=1e-5)


def test_cutout_zeroes_a_half_size_square():
    params = SiameseAugmentation("cutout", mode="all").draw(0, 20, (12, 12))
    holes = params["cutout"][..., 0] == 0
    zeroed = holes.sum(axis=(1, 2))
    assert zeroed.max() == 36 and (zeroed <= 36).all()  # a 6×6 square, cut by the border at most
    for hole in holes:  # one axis-aligned rectangle
        assert hole.any(axis=1).sum() * hole.any(axis=0).sum() == hole.sum()


def test_bad_strategy_is_refused():
    with pytest.raises(ValueError, match="strategy"):
        SiameseAugmentation("color_blur")
    with pytest.raises(ValueError, match="mode"):
        SiameseAugmentation(mode="some")
