"""A tf.data pipeline that simulates dual-pixel training pairs on the fly from RGB-D sources."""

import numpy as np
import tensorflow as tf

from hgzoo.dualpixel.losses import disparity_from_radius
from hgzoo.dualpixel.simulate import Camera, simulate


def random_camera(depth, rng, max_radius=5.0, focal_length_mm=4.38, pixel_pitch_um=1.4):
    """A phone-like camera focused inside ``depth`` whose largest blur radius is U(1, max_radius) px.

    The focus distance is drawn between the 10th and 90th depth percentiles;
    the f-number is then solved from the thin-lens formula so the farthest or
    nearest point gets the drawn radius.
    """
    s = float(rng.uniform(*np.percentile(depth, [10, 90])))
    f = focal_length_mm * 1e-3
    f_pix = focal_length_mm * 1e3 / pixel_pitch_um
    spread = max(abs(depth.max() - s) / depth.max(), abs(depth.min() - s) / depth.min(), 1e-6)
    target = float(rng.uniform(1.0, max_radius))
    f_number = f_pix / 2.0 * f / (s - f) * spread / target
    return Camera(focal_length_mm, float(f_number), s, pixel_pitch_um, max_radius=int(np.ceil(max_radius)))


def simulated_pairs(sources, crop=128, seed=0, grayscale=False, max_radius=5.0, read_noise=0.005):
    """Endless generator of ``((left, right), target)`` numpy pairs; target = [sharp (3), disparity (1)].

    ``sources``: a list of ``(image, depth)`` (see :mod:`hgzoo.dualpixel.data.rgbd`).
    ``grayscale``: use the green channel replicated to RGB (like Pixel-4 DP data).
    """
    rng = np.random.default_rng(seed)
    while True:
        image, depth = sources[rng.integers(len(sources))]
        h, w = depth.shape
        y, x = rng.integers(0, h - crop + 1), rng.integers(0, w - crop + 1)
        im, dp = image[y:y + crop, x:x + crop], depth[y:y + crop, x:x + crop]
        if rng.random() < 0.5:
            im, dp = im[:, ::-1], dp[:, ::-1]
        if grayscale:
            im = np.repeat(im[..., 1:2], 3, axis=-1)
        camera = random_camera(dp, rng, max_radius)
        left, right, radius = simulate(im[None], dp[None], camera, read_noise=read_noise,
                                       seed=int(rng.integers(2 ** 31)))
        target = np.concatenate([im, np.asarray(disparity_from_radius(radius))[0, ..., None]], axis=-1)
        yield (np.asarray(left)[0], np.asarray(right)[0]), target.astype("float32")


def dual_pixel_dataset(sources, crop=128, batch_size=4, seed=0, grayscale=False, max_radius=5.0):
    """``tf.data.Dataset`` of batches ``((left, right), target)`` for ``DDDNet.fit``, simulated on the fly.

    Example:

    >>> from hgzoo.dualpixel.data import dual_pixel_dataset, motorcycle
    >>> ds = dual_pixel_dataset([motorcycle()], crop=64, batch_size=2)
    >>> (left, right), target = next(iter(ds))
    >>> tuple(left.shape), tuple(target.shape)
    ((2, 64, 64, 3), (2, 64, 64, 4))
    """
    view = tf.TensorSpec((crop, crop, 3), tf.float32)
    spec = ((view, view), tf.TensorSpec((crop, crop, 4), tf.float32))
    ds = tf.data.Dataset.from_generator(
        lambda: simulated_pairs(sources, crop, seed, grayscale, max_radius), output_signature=spec)
    return ds.batch(batch_size).prefetch(2)
