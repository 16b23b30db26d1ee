"""Open dual-pixel image formation: thin lens, half-aperture PSFs, layered compositing, noise.

A dual-pixel (DP) sensor splits every pixel under its microlens into a left
and a right half, so the two views see the two halves of the lens aperture.
A point off the focal plane is imaged as a disc of confusion; each view gets
half of it, and the halves swap sides between points behind and in front of
the focal plane. Everything here is ``keras.ops``: the renderer is
differentiable in the image and in the blur map (DDDNet's reblur loss).

Conventions:

- **Signed blur radius** ``r`` (pixels): the thin-lens circle-of-confusion
  radius, positive behind the focal plane (depth > focus distance), negative
  in front. ``r = (f_pix / (2 N)) · f (d − S) / (d (S − f))`` with ``f`` the
  focal length, ``N`` the f-number, ``S`` the focus distance, ``d`` the depth
  and ``f_pix = f / pixel_pitch``.
- **Left view** for ``r > 0`` integrates the left half of the disc
  (``x <= 0``), the right view the right half; for ``r < 0`` the halves swap.
  Each view's PSF sums to 1, so the L/R average is the full-aperture image
  (up to occlusion effects).

Example:

>>> import numpy as np
>>> from hgzoo.dualpixel.simulate import Camera, simulate
>>> camera = Camera(focal_length_mm=4.4, f_number=1.73, focus_distance_m=1.0, pixel_pitch_um=1.4)
>>> image, depth = np.random.rand(1, 32, 32, 3), np.full((1, 32, 32), 1.0)
>>> left, right, radius = simulate(image, depth, camera)
>>> bool(np.allclose(left, image, atol=1e-5) and np.allclose(right, image, atol=1e-5))
True
"""

import dataclasses
import math
import numbers

import numpy as np
from keras import ops

from hgzoo.errors import HgzooError


class SimulationError(HgzooError, ValueError):
    """Inputs the dual-pixel simulator cannot render (the message names the argument and the fix)."""


@dataclasses.dataclass(frozen=True)
class Camera:
    """Thin-lens camera parameters, named as a photographer knows them.

    Args:
        focal_length_mm: lens focal length in millimetres.
        f_number: aperture as an f-number (focal length / aperture diameter).
        focus_distance_m: distance of the plane in focus, in the depth map's units (metres).
        pixel_pitch_um: sensor pixel pitch in micrometres.
        max_radius: blur radii are clipped to ``[-max_radius, max_radius]`` pixels
            (this also bounds the PSF size, ``2·max_radius + 1``).
        depth_divisor: the depth map is divided by this before use (the official
            NYU-v2 settings rescale depth this way).

    Example:

    >>> camera = Camera(focal_length_mm=50, f_number=2, focus_distance_m=2, pixel_pitch_um=5)
    >>> round(float(camera.blur_radius(2.2)), 2)  # 20 cm behind the focal plane: a 5.8-pixel radius
    5.83
    """

    focal_length_mm: float
    f_number: float
    focus_distance_m: float
    pixel_pitch_um: float
    max_radius: int = 8
    depth_divisor: float = 1.0

    def __post_init__(self):
        for field in ("focal_length_mm", "f_number", "focus_distance_m", "pixel_pitch_um", "depth_divisor"):
            value = getattr(self, field)
            if not (isinstance(value, numbers.Real) and math.isfinite(value) and value > 0):
                raise SimulationError(f"Camera: {field} must be a positive number, got {value!r}")
        if self.focus_distance_m <= self.focal_length_mm * 1e-3:
            raise SimulationError(f"Camera: focus_distance_m={self.focus_distance_m} must exceed the focal length "
                                  f"({self.focal_length_mm} mm); nothing closer can be in focus")
        if int(self.max_radius) != self.max_radius or self.max_radius < 1:
            raise SimulationError(f"Camera: max_radius must be a positive whole number of pixels, "
                                  f"got {self.max_radius!r}")

    @property
    def focal_length_pixels(self):
        return self.focal_length_mm * 1e3 / self.pixel_pitch_um

    def blur_radius(self, depth):
        """Signed thin-lens circle-of-confusion radius in pixels (unclipped) at ``depth`` (after the divisor)."""
        f = self.focal_length_mm * 1e-3
        s = self.focus_distance_m
        scale = self.focal_length_pixels / (2.0 * self.f_number) * f / (s - f)
        return scale * (depth - s) / depth


# The five NYU-v2 training settings of DDDNet's official simulator (papers.md §12): focal length,
# focal length in pixels (pixel pitch = f / f_pix), aperture f_pix / N (N read as the f-number),
# focus distance Fd and depth divisor. The simulator itself is obfuscated P-code, so the reading of
# Fd as a distance in the units of depth / divisor is ours; depths must be given in those units.
NYU_SETTINGS = {
    "nyu_1": Camera(6.0, 6.0, 10.0, 6e-3 / 3000 * 1e6, depth_divisor=4.0),
    "nyu_2": Camera(4.0, 2.0, 12.0, 4e-3 / 2000 * 1e6, depth_divisor=4.0),
    "nyu_3": Camera(8.0, 2.0, 6.0, 8e-3 / 3000 * 1e6, depth_divisor=3.0),
    "nyu_4": Camera(35.0, 5.0, 6.0, 35e-3 / 3000 * 1e6, depth_divisor=0.5),
    "nyu_5": Camera(35.0, 2.0, 7.0, 35e-3 / 3000 * 1e6, depth_divisor=1.0),
}


def half_disc_kernels(max_radius, step=1.0):
    """Left-view PSFs of every layer: (K, k, k) float32, K = 2·max_radius/step + 1, k = 2·max_radius + 1.

    Layer ``i`` has signed radius ``(i − K//2)·step``. The disc is anti-aliased
    (pixel weight ``clip(|r| + 0.5 − distance, 0, 1)``); the left view keeps
    ``x < 0`` for positive radii and ``x > 0`` for negative ones, the centre
    column at half weight. Radius 0 is a delta. The right view's kernels are
    these mirrored left-right.
    """
    radii = layer_radii(max_radius, step)
    k = 2 * int(max_radius) + 1
    y, x = np.mgrid[-max_radius:max_radius + 1, -max_radius:max_radius + 1].astype("float64")
    dist = np.hypot(x, y)
    kernels = []
    for r in radii:
        disc = np.clip(abs(r) + 0.5 - dist, 0.0, 1.0)
        side = np.where(x == 0, 0.5, (x < 0) if r > 0 else (x > 0)) if abs(r) >= 0.5 else np.ones_like(x)
        psf = disc * side
        kernels.append(psf / psf.sum())
    return np.stack(kernels).astype("float32").reshape(len(radii), k, k)


def layer_radii(max_radius, step=1.0):
    n = int(round(max_radius / step))
    return np.arange(-n, n + 1, dtype="float64") * step


def render_dual_pixel(image, radius, max_radius=8, step=1.0):
    """Render the left and right DP views of ``image`` with per-pixel signed blur ``radius``.

    Depth layering: each pixel belongs to the two layers whose radii bracket its
    own, with linear weights (so the result is differentiable in ``radius``).
    Layers are composited back to front (largest radius = farthest first) with
    premultiplied "over": a blurred near layer covers what is behind it by its
    blurred coverage. The result is divided by the accumulated coverage.

    Args:
        image: (B, H, W, C) float in [0, 1].
        radius: (B, H, W) or (B, H, W, 1) signed blur radius in pixels.
        max_radius: radii are clipped to ``±max_radius``; the PSF side is ``2·max_radius + 1``.
        step: radius spacing of the layers in pixels.

    Returns:
        ``(left, right)``, each (B, H, W, C) float32.
    """
    image = ops.cast(image, "float32")
    radius = ops.cast(radius, "float32")
    if len(radius.shape) == 4:
        radius = radius[..., 0]
    channels = image.shape[-1]
    radii = layer_radii(max_radius, step)
    n_layers = len(radii)
    kernels = half_disc_kernels(max_radius, step)  # (K, k, k)
    # Soft layer membership: hat functions of the layer index.
    index = (ops.clip(radius, -max_radius, max_radius) + max_radius) / step  # (B, H, W) in [0, K-1]
    centres = ops.convert_to_tensor(np.arange(n_layers, dtype="float32"))
    weights = ops.relu(1.0 - ops.abs(index[..., None] - centres))  # (B, H, W, K)
    # Every layer as premultiplied RGBA, all layers stacked on channels, one depthwise conv per view.
    rgba = ops.concatenate([image, ops.ones_like(image[..., :1])], axis=-1)  # (B, H, W, C+1)
    layers = weights[..., :, None] * rgba[..., None, :]  # (B, H, W, K, C+1)
    shape = ops.shape(layers)
    flat = ops.reshape(layers, (shape[0], shape[1], shape[2], n_layers * (channels + 1)))
    pad = int(max_radius)
    flat = ops.pad(flat, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")
    views = []
    for kernel in (kernels, kernels[:, :, ::-1]):
        per_channel = np.repeat(kernel, channels + 1, axis=0)  # (K·(C+1), k, k)
        # Convolution (not correlation): flip the kernel for ops.depthwise_conv's cross-correlation.
        depthwise = np.ascontiguousarray(per_channel[:, ::-1, ::-1].transpose(1, 2, 0)[..., None])
        blurred = ops.depthwise_conv(flat, ops.convert_to_tensor(depthwise), padding="valid")
        blurred = ops.reshape(blurred, shape)
        out = ops.zeros_like(blurred[..., 0, :])
        for i in reversed(range(n_layers)):  # farthest (largest radius) first
            layer = blurred[..., i, :]
            out = layer + (1.0 - layer[..., -1:]) * out
        views.append(out[..., :-1] / ops.maximum(out[..., -1:], 1e-6))
    return views[0], views[1]


def check_depth(depth, camera, name="depth", focus_in_scene=True):
    """Refuse depth maps the thin lens cannot use: NaN/inf, zeros or negatives, focus outside the range.

    A focus distance outside the scene's depth range is almost always a unit
    mistake (millimetres for metres, a forgotten ``depth_divisor``), so it is
    refused unless ``focus_in_scene=False``.
    """
    array = np.asarray(depth, dtype="float64")
    if array.size == 0:
        raise SimulationError(f"{name} is empty; pass a (B, H, W) depth map in metres")
    if not np.all(np.isfinite(array)):
        raise SimulationError(f"{name} has NaN or infinite values; fill the holes (e.g. inpaint or take the "
                              f"nearest valid depth) before simulating")
    if np.any(array <= 0):
        raise SimulationError(f"{name} has zero or negative depths (missing measurements?); fill them with valid "
                              f"distances in metres before simulating")
    if not focus_in_scene:
        return
    array = array / camera.depth_divisor
    lo, hi = float(array.min()), float(array.max())
    if not lo <= camera.focus_distance_m <= hi:
        raise SimulationError(f"focus_distance_m={camera.focus_distance_m} lies outside the depth range "
                              f"[{lo:.3g}, {hi:.3g}] (after depth_divisor={camera.depth_divisor}); choose a focus "
                              f"distance inside the scene (or pass focus_in_scene=False)")


def add_sensor_noise(image, read_noise=0.0, shot_noise=0.0, seed=None):
    """Heteroscedastic sensor noise: variance ``read_noise² + shot_noise · signal``, clipped to [0, 1]."""
    if not read_noise and not shot_noise:
        return image
    import keras

    image = ops.cast(image, "float32")
    std = ops.sqrt(read_noise ** 2 + shot_noise * ops.maximum(image, 0.0))
    return ops.clip(image + std * keras.random.normal(ops.shape(image), seed=seed), 0.0, 1.0)


def simulate(image, depth, camera, step=1.0, read_noise=0.0, shot_noise=0.0, seed=None, focus_in_scene=True):
    """Simulate a dual-pixel pair from an all-in-focus image and its depth map.

    Args:
        image: (B, H, W, C) all-in-focus image in [0, 1].
        depth: (B, H, W) or (B, H, W, 1) depth in metres (before ``camera.depth_divisor``).
        camera: a :class:`Camera` (or one of :data:`NYU_SETTINGS`).
        step: layer spacing in pixels of blur radius.
        read_noise, shot_noise: sensor noise (see :func:`add_sensor_noise`).
        seed: noise seed.
        focus_in_scene: refuse a focus distance outside the depth range (set
            False to render a scene wholly in front of or behind the focal plane).

    Returns:
        ``(left, right, radius)``: the two views (B, H, W, C) and the signed
        blur radius (B, H, W) clipped to ``±camera.max_radius``, the ground
        truth for defocus disparity.
    """
    image_shape = tuple(np.shape(image))
    depth_shape = tuple(np.shape(depth))
    if len(depth_shape) == 4 and depth_shape[-1] == 1:
        depth_shape = depth_shape[:3]
        depth = np.asarray(depth)[..., 0] if isinstance(depth, np.ndarray) else depth[..., 0]
    if len(image_shape) != 4 or depth_shape != image_shape[:3]:
        raise SimulationError(f"image {image_shape} and depth {tuple(np.shape(depth))} do not match; pass image as "
                              f"(B, H, W, C) and depth as (B, H, W) of the same size")
    check_depth(depth, camera, focus_in_scene=focus_in_scene)
    radius = ops.clip(camera.blur_radius(ops.cast(depth, "float32") / camera.depth_divisor),
                      -camera.max_radius, camera.max_radius)
    left, right = render_dual_pixel(image, radius, camera.max_radius, step)
    if read_noise or shot_noise:
        left = add_sensor_noise(left, read_noise, shot_noise, seed)
        right = add_sensor_noise(right, read_noise, shot_noise, None if seed is None else seed + 1)
    return left, right, radius
