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


def test_pixel4_ground_truth_reader_names_a_missing_file(tmp_path):
    from hgzoo.dualpixel import read_pixel4_ground_truth

    with pytest.raises(ValueError, match="gt_all_in_focus_im/001_gt.png"):
        read_pixel4_ground_truth(tmp_path, "001")


@pytest.mark.slow
def test_pixel4_views_register_to_the_central_window_of_the_ground_truth(shared_data):
    from hgzoo.dualpixel import register_pixel4_scene

    folder = shared_data / "dualpixel" / "pixel4"
    left, right, image, defocus, found = register_pixel4_scene(folder, "005")
    assert left.shape == right.shape == image.shape == defocus.shape == (1008, 1344)
    assert 0.98 < found.scale < 1.01 and abs(found.ty - 252) < 8 and abs(found.tx - 336) < 8  # a central crop
    assert gradient_ncc((left + right) / 2, image) > 0.5
