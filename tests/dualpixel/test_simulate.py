"""The open dual-pixel simulator: thin-lens physics, layered rendering, gradients, bad inputs."""

import keras
import numpy as np
import pytest

from hgzoo.dualpixel import NYU_SETTINGS, Camera, SimulationError, render_dual_pixel, simulate

# Backend-agnostic; the physics and bad-input tests also run in CI's JAX pass (pytest.mark.jax).

CAMERA = Camera(focal_length_mm=50, f_number=8, focus_distance_m=2.0, pixel_pitch_um=5, max_radius=8)
SIZE = 33


def point_views(depth):
    """L and R images of a single bright point on a fronto-parallel plane at ``depth``."""
    image = np.zeros((1, SIZE, SIZE, 1), "float32")
    image[0, SIZE // 2, SIZE // 2] = 1.0
    left, right, radius = simulate(image, np.full((1, SIZE, SIZE), depth), CAMERA, focus_in_scene=False)
    return np.asarray(left)[0, ..., 0], np.asarray(right)[0, ..., 0], np.asarray(radius)


def moments(psf):
    y, x = np.mgrid[:SIZE, :SIZE] - SIZE // 2
    total = psf.sum()
    return (psf * x).sum() / total, np.sqrt(2 * (psf * (x ** 2 + y ** 2)).sum() / total)


@pytest.mark.jax
def test_plane_in_focus_gives_the_sharp_image_in_both_views():
    image = np.random.default_rng(0).random((2, 24, 20, 3)).astype("float32")
    left, right, radius = simulate(image, np.full((2, 24, 20), CAMERA.focus_distance_m), CAMERA)
    np.testing.assert_allclose(np.asarray(left), image, atol=1e-5)
    np.testing.assert_allclose(np.asarray(right), image, atol=1e-5)
    assert np.all(np.asarray(radius) == 0)


@pytest.mark.jax
def test_blur_radius_follows_the_thin_lens_formula():
    f, n, s, pitch = 0.05, 8.0, 2.0, 5e-6
    for depth in (2.3, 2.6, 3.2, 1.7, 1.6):  # radii 2-6 px; below ~2 px pixel discretisation dominates
        coc_diameter = (f / n) * f * abs(depth - s) / (depth * (s - f))  # thin lens, on the sensor
        expected = coc_diameter / 2 / pitch
        left, right, radius = point_views(depth)
        assert float(radius.max()) == pytest.approx(np.sign(depth - s) * expected, rel=1e-5)
        _, measured = moments((left + right) / 2)  # a disc of radius r has E[ρ²] = r²/2
        assert measured == pytest.approx(expected, rel=0.05, abs=0.25), depth  # 1-px layers


@pytest.mark.jax
def test_disparity_sign_flips_across_the_focal_plane():
    behind_l, behind_r, _ = point_views(3.0)
    front_l, front_r, _ = point_views(1.6)
    assert moments(behind_l)[0] < -1 and moments(behind_r)[0] > 1
    assert moments(front_l)[0] > 1 and moments(front_r)[0] < -1
    np.testing.assert_allclose(behind_l, behind_r[:, ::-1], atol=1e-6)  # the two halves mirror each other


def test_near_layer_occludes_the_far_one():
    # Left half near (in focus, white), right half far (blurred, black): the in-focus white edge must stay
    # sharp, since the far layer is composited behind it.
    image = np.zeros((1, 32, 32, 1), "float32")
    image[:, :, :16] = 1.0
    depth = np.where(np.arange(32) < 16, 2.0, 4.0)[None, None, :].repeat(32, axis=1)
    left, right, _ = simulate(image, depth, CAMERA)
    for view in (np.asarray(left), np.asarray(right)):
        np.testing.assert_allclose(view[0, :, :16, 0], 1.0, atol=1e-4)


def test_rendering_is_differentiable_in_the_blur_map():
    image = keras.ops.convert_to_tensor(np.random.default_rng(1).random((1, 16, 16, 1)).astype("float32"))
    radius = np.full((1, 16, 16), 1.3, "float32")
    value = lambda r: float(keras.ops.sum(render_dual_pixel(image, r, max_radius=3)[0] * image))  # noqa: E731
    numeric = (value(radius + 1e-2) - value(radius - 1e-2)) / 2e-2
    assert abs(numeric) > 1e-3  # the soft layer weights move the result with the radius


def test_noise_is_seeded_and_nyu_presets_exist():
    image = np.full((1, 16, 16, 3), 0.5, "float32")
    depth = np.full((1, 16, 16), 2.0)
    a = np.asarray(simulate(image, depth, CAMERA, read_noise=0.01, seed=3)[0])
    b = np.asarray(simulate(image, depth, CAMERA, read_noise=0.01, seed=3)[0])
    np.testing.assert_array_equal(a, b)
    assert 0.005 < a.std() < 0.02
    assert sorted(NYU_SETTINGS) == [f"nyu_{i}" for i in range(1, 6)]
    assert NYU_SETTINGS["nyu_1"].focal_length_pixels == pytest.approx(3000)


@pytest.mark.jax
@pytest.mark.parametrize("depth, match", [
    (np.full((1, 8, 8), np.nan), "NaN"),
    (np.zeros((1, 8, 8)), "zero"),
    (np.full((1, 8, 8), 50.0), "focus_distance_m"),
    (np.ones((1, 8, 9)), "do not match"),
])
def test_bad_depth_maps_are_refused(depth, match):
    with pytest.raises(SimulationError, match=match):
        simulate(np.zeros((1, 8, 8, 3), "float32"), depth, CAMERA)


@pytest.mark.jax
def test_bad_camera_is_refused():
    with pytest.raises(SimulationError, match="f_number"):
        Camera(focal_length_mm=50, f_number=0, focus_distance_m=2, pixel_pitch_um=5)
