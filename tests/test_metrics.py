"""PSNR and SSIM against straightforward numpy implementations."""

import numpy as np

from hgzoo.metrics import PSNR, SSIM, psnr, ssim


def np_ssim(a, b, size=11, sigma=1.5):
    g = np.exp(-((np.arange(size) - (size - 1) / 2) ** 2) / (2 * sigma**2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = 0.01**2, 0.03**2
    h, wd = a.shape[0] - size + 1, a.shape[1] - size + 1
    vals = []
    for c in range(a.shape[2]):
        for i in range(h):
            for j in range(wd):
                x, y = a[i:i + size, j:j + size, c], b[i:i + size, j:j + size, c]
                mx, my = (w * x).sum(), (w * y).sum()
                vx, vy = (w * x * x).sum() - mx**2, (w * y * y).sum() - my**2
                cxy = (w * x * y).sum() - mx * my
                vals.append((2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2)))
    return np.mean(vals)


def test_psnr_and_ssim_match_numpy():
    rng = np.random.default_rng(0)
    a = rng.random((2, 16, 14, 3)).astype(np.float32)
    b = np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1).astype(np.float32)
    expected_psnr = [10 * np.log10(1 / np.mean((a[i].astype(np.float64) - b[i]) ** 2)) for i in range(2)]
    np.testing.assert_allclose(np.asarray(psnr(a, b)), expected_psnr, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(ssim(a, b)), [np_ssim(a[i], b[i]) for i in range(2)], rtol=1e-4)


def test_metric_objects_average_over_batches():
    rng = np.random.default_rng(1)
    a = rng.random((4, 12, 12, 3)).astype(np.float32)
    metric = SSIM()
    metric.update_state(a, a)
    assert abs(float(metric.result()) - 1.0) < 1e-5
    metric = PSNR()
    metric.update_state(a[:2], a[:2] * 0.9)
    metric.update_state(a[2:], a[2:] * 0.9)
    assert abs(float(metric.result()) - float(np.mean(np.asarray(psnr(a, a * 0.9))))) < 1e-4


def test_small_images_use_a_smaller_window():
    a = np.random.default_rng(2).random((1, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(ssim(a, a * 0.5)), [np_ssim(a[0], a[0] * 0.5, size=7)], rtol=1e-4)


def np_psnr(a, b, max_value):
    return 10 * np.log10(max_value**2 / np.mean((np.asarray(a, np.float64) - b) ** 2))


def test_psnr_takes_single_numpy_images_uint8_and_float():
    rng = np.random.default_rng(3)
    sharp = rng.integers(0, 256, (37, 29, 3)).astype(np.uint8)
    blurry = np.clip(sharp + rng.integers(-20, 21, sharp.shape), 0, 255).astype(np.uint8)
    assert abs(float(psnr(sharp, blurry, max_value=255)) - np_psnr(sharp, blurry, 255)) < 1e-4
    a, b = sharp / 255.0, blurry / 255.0
    assert abs(float(psnr(a, b)) - np_psnr(a, b, 1.0)) < 1e-4
    # a batch gives one value per image, each the single-image value
    batch = np.asarray(psnr(np.stack([sharp, sharp]), np.stack([blurry, sharp // 2]), max_value=255))
    expected = [np_psnr(sharp, blurry, 255), np_psnr(sharp, sharp // 2, 255)]
    np.testing.assert_allclose(batch, expected, rtol=1e-5)
