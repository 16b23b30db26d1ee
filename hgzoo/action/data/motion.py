"""Real-image motion clips: each class is a motion pattern applied to real images (e.g. MNIST digits).

Every clip puts one image (two for the crossing classes) on a black canvas and
moves it along the class's pattern (translation in a direction, rotation,
zoom, bouncing, circling, two objects crossing). The image, the position
jitter, the speed and the initial angle are drawn per clip, and every
single-object trajectory passes the canvas centre at unit scale in the middle
frame (index ``frames // 2``, the one a one-frame model samples), so that
frame says nothing about the class: only the motion does. The crossing
classes show two objects in every frame, so they are meta-training classes
only. :data:`TRAIN_MOTIONS` and :data:`TEST_MOTIONS` are disjoint, for
meta-training and meta-testing.

Example:

>>> import numpy as np
>>> from hgzoo.action.data.motion import motion_clip_classes
>>> pool = motion_clip_classes(np.full((5, 28, 28), 255, np.uint8), ["right", "rotate_cw"], clips_per_class=3,
...                            frames=8, size=32)
>>> pool.num_classes, pool.clip_shape
(2, (8, 32, 32, 1))
"""

import numpy as np
from PIL import Image

from hgzoo.action.episodes import ClipClasses

_DIRECTIONS = {"right": (1, 0), "left": (-1, 0), "down": (0, 1), "up": (0, -1), "down_right": (1, 1),
               "up_left": (-1, -1), "up_right": (1, -1), "down_left": (-1, 1)}
MOTIONS = (*_DIRECTIONS, "rotate_cw", "rotate_ccw", "zoom_in", "zoom_out", "bounce_horizontal",
           "bounce_vertical", "circle_cw", "circle_ccw", "cross_horizontal", "cross_vertical")
TEST_MOTIONS = ("left", "up_right", "down", "rotate_ccw", "zoom_out", "bounce_vertical", "circle_ccw")
TRAIN_MOTIONS = tuple(m for m in MOTIONS if m not in TEST_MOTIONS)


def _trajectory(motion, frames, rng):
    """Per frame and object: (x offset, y offset, angle in degrees, scale); offsets in canvas fractions."""
    u = (np.arange(frames) - frames // 2) / max(frames - 1, 1)  # 0 at the middle frame, a span of 1
    speed = rng.uniform(0.35, 0.55)
    angle0 = rng.uniform(-30, 30)
    zero = np.zeros(frames)
    one = np.ones(frames)
    if motion in _DIRECTIONS:
        dx, dy = np.asarray(_DIRECTIONS[motion], float) / np.hypot(*_DIRECTIONS[motion])
        return [(dx * speed * u, dy * speed * u, zero + angle0, one)]
    if motion.startswith("rotate"):
        sign = -1 if motion == "rotate_cw" else 1
        return [(zero, zero, angle0 + sign * rng.uniform(120, 200) * u, one)]
    if motion.startswith("zoom"):
        sign = 1 if motion == "zoom_in" else -1
        return [(zero, zero, zero + angle0, np.exp(sign * rng.uniform(1.0, 1.4) * u))]
    if motion.startswith("bounce"):
        wave = speed * 0.6 * np.sin(2 * np.pi * u)  # out one way, back through the centre, out the other
        return [(wave, zero, zero + angle0, one)] if motion.endswith("horizontal") else \
            [(zero, wave, zero + angle0, one)]
    if motion.startswith("circle"):
        sign = 1 if motion == "circle_ccw" else -1
        phase0 = rng.uniform(0, 2 * np.pi)
        phase = phase0 + sign * 2 * np.pi * 0.8 * u
        r = 0.22  # on a circle through the canvas centre, reached in the middle frame
        return [(r * (np.cos(phase) - np.cos(phase0)), -r * (np.sin(phase) - np.sin(phase0)), zero + angle0, one)]
    # two objects crossing: one moves forward, the other backward on a parallel line
    side = rng.uniform(0.12, 0.2)
    if motion == "cross_horizontal":
        return [(speed * u, zero - side, zero + angle0, one * 0.8), (-speed * u, zero + side, zero - angle0, one * 0.8)]
    return [(zero - side, speed * u, zero + angle0, one * 0.8), (zero + side, -speed * u, zero - angle0, one * 0.8)]


def _render(images, motion, frames, size, rng):
    patch = max(4, round(size * 0.45))
    objects = _trajectory(motion, frames, rng)
    picks = [Image.fromarray(images[i]) for i in rng.choice(len(images), len(objects), replace=False)]
    jitter = rng.uniform(-0.08, 0.08, 2)
    clip = np.zeros((frames, size, size), np.float32)
    for t in range(frames):
        canvas = np.zeros((size, size), np.float32)
        for image, (dx, dy, angle, scale) in zip(picks, objects):
            side = max(2, round(patch * scale[t]))
            sprite = image.resize((side, side), Image.BILINEAR).rotate(angle[t], Image.BILINEAR)
            sprite = np.asarray(sprite, np.float32)
            cx = (0.5 + jitter[0] + dx[t]) * size
            cy = (0.5 + jitter[1] + dy[t]) * size
            x0, y0 = round(cx - side / 2), round(cy - side / 2)
            xs, ys = slice(max(x0, 0), min(x0 + side, size)), slice(max(y0, 0), min(y0 + side, size))
            if xs.start < xs.stop and ys.start < ys.stop:
                crop = sprite[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0]
                canvas[ys, xs] = np.maximum(canvas[ys, xs], crop)
        clip[t] = canvas
    return clip


def motion_clip_classes(images, motions=MOTIONS, clips_per_class=20, frames=8, size=32, seed=0):
    """A :class:`~hgzoo.action.episodes.ClipClasses` pool with one class per motion, clips (frames, size, size, 1).

    Args:
        images: uint8 grayscale images (n, h, w) (or (n, h, w, 1)), e.g. MNIST
            digits; each clip draws its own (bright object on black).
        motions: names from :data:`MOTIONS`.
        clips_per_class: clips rendered for each motion.
        frames, size: clip length and square frame size.
        seed: everything random (images, start, speed, angle) follows it.
    """
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or len(images) < 2:
        raise ValueError(f"images must be two or more grayscale images (n, h, w); got shape {images.shape}")
    unknown = sorted(set(motions) - set(MOTIONS))
    if unknown:
        raise ValueError(f"unknown motions {unknown}; choose from {MOTIONS}")
    rng = np.random.default_rng(seed)
    pool = []
    for motion in motions:
        clips = [_render(images, motion, frames, size, rng) for _ in range(clips_per_class)]
        pool.append(np.clip(np.stack(clips), 0, 255).astype(np.uint8)[..., None])
    return ClipClasses(pool, list(motions))
