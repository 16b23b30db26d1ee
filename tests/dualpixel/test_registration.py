"""Registration of a capture to its ground truth (scale + translation by gradient NCC)."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from hgzoo.dualpixel.registration import Registration, RegistrationError, estimate_registration, gradient_ncc, warp


def test_recovers_a_known_scale_and_translation():
    rng = np.random.default_rng(0)
    moving = gaussian_filter(rng.random((160, 200)), 2.0)
    truth = Registration(scale=0.97, ty=31.3, tx=40.6, ncc=1.0)
    reference = warp(moving, truth, (96, 128))
    found = estimate_registration(moving, reference, scales=np.arange(0.9, 1.1, 0.02), coarse=2, margin=8)
    assert found.scale == pytest.approx(truth.scale, abs=2e-3)
    assert (found.ty, found.tx) == pytest.approx((truth.ty, truth.tx), abs=0.25)
    assert found.ncc > 0.99
    assert gradient_ncc(warp(moving, found, reference.shape), reference, margin=8) > gradient_ncc(
        warp(moving, Registration(1.0, 30.0, 40.0, 0.0), reference.shape), reference, margin=8)


def test_refuses_colour_images_and_references_that_fit_nowhere():
    with pytest.raises(RegistrationError, match="one \\(H, W\\) channel"):
        estimate_registration(np.zeros((32, 32, 3)), np.zeros((16, 16)))
    with pytest.raises(RegistrationError, match="fits inside moving"):
        estimate_registration(np.random.rand(32, 32), np.random.rand(64, 64), scales=[1.0], coarse=2)
