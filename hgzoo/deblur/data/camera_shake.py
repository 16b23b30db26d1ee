"""Synthetic camera-shake blur for real sharp photographs.

Kernels come from random camera trajectories in the manner of Boracchi & Foi
(2012): a 2-D random walk with inertia, sampled finely and splatted
bilinearly onto the kernel grid, so users without GoPro can make realistic
(blurry, sharp) pairs from any photos.

Example:

>>> import numpy as np
>>> from hgzoo.deblur.data.camera_shake import random_kernel, blur_image
>>> rng = np.random.default_rng(0)
>>> k = random_kernel(rng, size=15)
>>> k.shape, round(float(k.sum()), 5)
((15, 15), 1.0)
>>> tuple(blur_image(np.ones((20, 20, 3), np.float32), k).shape)
(20, 20, 3)
"""

import numpy as np


def random_trajectory(rng, length=1.0, steps=512, anxiety=0.005):
    """A camera path of about ``length`` (relative units): random walk with inertia."""
    velocity = rng.standard_normal(2)
    velocity /= np.linalg.norm(velocity) + 1e-12
    position = np.zeros(2)
    path = [position.copy()]
    step = length / steps
    for _ in range(steps - 1):
        impulse = rng.standard_normal(2) * anxiety * steps / 64
        if rng.random() < 0.01:  # occasional sudden jerk, as in real hand shake
            impulse -= 2 * velocity * rng.random()
        velocity = velocity + impulse
        velocity /= np.linalg.norm(velocity) + 1e-12
        position = position + step * velocity
        path.append(position.copy())
    return np.asarray(path)


def random_kernel(rng, size=21, min_extent=0.3, max_extent=1.0):
    """A normalised (size, size) blur kernel from a random camera trajectory.

    The trajectory is scaled so its extent is between ``min_extent`` and
    ``max_extent`` of the kernel side, then exposure-weighted onto the grid.
    """
    if size < 3 or size % 2 == 0:
        raise ValueError(f"kernel size must be odd and >= 3, got {size}")
    path = random_trajectory(rng)
    path -= path.mean(axis=0)
    extent = np.abs(path).max() + 1e-12
    scale = rng.uniform(min_extent, max_extent) * (size - 1) / 2 / extent
    pts = path * scale + (size - 1) / 2
    kernel = np.zeros((size, size), np.float64)
    y0 = np.clip(np.floor(pts[:, 1]).astype(int), 0, size - 2)
    x0 = np.clip(np.floor(pts[:, 0]).astype(int), 0, size - 2)
    fy = np.clip(pts[:, 1] - y0, 0, 1)
    fx = np.clip(pts[:, 0] - x0, 0, 1)
    np.add.at(kernel, (y0, x0), (1 - fy) * (1 - fx))
    np.add.at(kernel, (y0 + 1, x0), fy * (1 - fx))
    np.add.at(kernel, (y0, x0 + 1), (1 - fy) * fx)
    np.add.at(kernel, (y0 + 1, x0 + 1), fy * fx)
    return (kernel / kernel.sum()).astype(np.float32)


def blur_image(image, kernel):
    """Convolve (H, W, C) float with ``kernel`` (FFT, reflected borders), same size."""
    k = kernel.shape[0] // 2
    padded = np.pad(image, ((k, k), (k, k), (0, 0)), mode="reflect")
    h, w = padded.shape[:2]
    spectrum = np.fft.rfft2(kernel, s=(h, w))
    out = np.fft.irfft2(np.fft.rfft2(padded, axes=(0, 1)) * spectrum[..., None], s=(h, w), axes=(0, 1))
    # The FFT product is a circular convolution, shifted by the kernel size.
    out = np.roll(out, (-(2 * k), -(2 * k)), axis=(0, 1))
    return out[: image.shape[0], : image.shape[1]].astype(np.float32)


def make_pair(rng, sharp, crop=256, kernel_size=(9, 31), noise=(0.0, 0.01)):
    """A random (blurry, sharp) crop pair from a float (H, W, 3) sharp photo.

    The blur is computed on a crop with a margin, so no border effect reaches
    the returned window; Gaussian noise of a random level in ``noise`` is
    added and the blurry crop is quantised to 8 bits like a real camera.
    """
    size = int(rng.integers(kernel_size[0] // 2, kernel_size[1] // 2 + 1)) * 2 + 1
    margin = size // 2
    h, w = sharp.shape[:2]
    if h < crop + 2 * margin or w < crop + 2 * margin:
        raise ValueError(f"photo {h}x{w} is too small for {crop} crops with kernel {size}")
    y = int(rng.integers(0, h - crop - 2 * margin + 1))
    x = int(rng.integers(0, w - crop - 2 * margin + 1))
    window = sharp[y:y + crop + 2 * margin, x:x + crop + 2 * margin]
    blurry = blur_image(window, random_kernel(rng, size))[margin:margin + crop, margin:margin + crop]
    blurry = blurry + rng.normal(0, rng.uniform(*noise), blurry.shape)
    blurry = np.floor(np.clip(blurry, 0, 1) * 255 + 0.5) / 255
    return blurry.astype(np.float32), window[margin:margin + crop, margin:margin + crop].astype(np.float32)
