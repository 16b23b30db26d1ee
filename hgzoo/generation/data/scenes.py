"""Scenes composed from face crops: a face at a requested layout on one of a few background classes.

A layout is ``(scale, centre_x, centre_y)``: the face box's side and centre
as fractions of the (square) frame. The face crop is pasted into its box
through a soft elliptical mask (a head on a background, not a tile), over a
procedural background of one of :data:`BACKGROUNDS`. "Beyond close-ups"
is then measurable: a scale of 1 is a close-up, 0.25–0.33 a small face in
the frame, and :func:`face_box` is where the face must be.

Example:

>>> import numpy as np
>>> face = np.full((64, 64, 3), 0.8, "float32")
>>> scene = compose(face, (0.25, 0.25, 0.75), 1, size=64, rng=np.random.default_rng(0))
>>> scene.shape, face_box((0.25, 0.25, 0.75), 64)
((64, 64, 3), (40, 8, 16))
"""

import numpy as np
from PIL import Image

BACKGROUNDS = ("sky", "grass", "wall", "room")


def face_box(layout, size):
    """(top, left, side) in pixels of the face box of ``layout`` in a ``size``-pixel frame."""
    scale, cx, cy = (float(v) for v in layout)
    side = max(round(scale * size), 1)
    left = round(cx * size - side / 2)
    top = round(cy * size - side / 2)
    return min(max(top, 0), size - side), min(max(left, 0), size - side), side


def background(kind, size, rng):
    """A (size, size, 3) float32 background in [0, 1] of class ``kind`` (an index into BACKGROUNDS)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    jitter = rng.uniform(-0.08, 0.08, 3).astype(np.float32)
    if kind == 0:  # sky: a vertical blue gradient
        image = np.stack([0.35 + 0.3 * y, 0.55 + 0.3 * y, 0.95 - 0.1 * y], axis=-1)
    elif kind == 1:  # grass: green with fine noise
        image = np.array([0.25, 0.55, 0.2], np.float32) + 0.08 * rng.standard_normal((size, size, 1))
    elif kind == 2:  # wall: warm vertical stripes
        stripes = 0.5 + 0.5 * np.sin(2 * np.pi * x * rng.integers(4, 8))
        image = np.stack([0.7 + 0.15 * stripes, 0.55 + 0.1 * stripes, 0.4 + 0.05 * stripes], axis=-1)
    elif kind == 3:  # room: a grey floor below a darker back wall
        floor = (y > rng.uniform(0.55, 0.75)).astype(np.float32)
        image = np.stack([0.3 + 0.35 * floor] * 3, axis=-1)
    else:
        raise ValueError(f"background class {kind}: choose from 0..{len(BACKGROUNDS) - 1} ({', '.join(BACKGROUNDS)})")
    return np.clip(image + jitter, 0.0, 1.0).astype(np.float32)


def head_mask(side):
    """A (side, side, 1) soft ellipse, 1 inside the head, fading to 0 at the box edge."""
    y, x = (np.mgrid[0:side, 0:side].astype(np.float32) + 0.5) / side - 0.5
    r = np.sqrt((x / 0.42) ** 2 + (y / 0.5) ** 2)
    return np.clip((1.0 - r) / 0.15, 0.0, 1.0)[..., None]


def compose(face, layout, kind, size=64, rng=None):
    """The face crop (H, W, 3) in [0, 1] pasted at ``layout`` on a background of class ``kind``."""
    rng = rng or np.random.default_rng()
    scene = background(int(kind), size, rng)
    top, left, side = face_box(layout, size)
    pixels = np.clip(np.asarray(face, np.float32), 0.0, 1.0)
    resized = np.asarray(Image.fromarray((pixels * 255.0 + 0.5).astype(np.uint8)).resize((side, side),
                                                                                         Image.BILINEAR),
                         np.float32) / 255.0
    alpha = head_mask(side)
    box = scene[top:top + side, left:left + side]
    scene[top:top + side, left:left + side] = alpha * resized + (1.0 - alpha) * box
    return scene


def random_layouts(n, scales, rng):
    """(n, 3) layouts: a scale drawn from ``scales``, the centre uniform where the box stays in the frame."""
    scale = rng.choice(np.asarray(scales, np.float32), n)
    centre = rng.uniform(scale[:, None] / 2, 1.0 - scale[:, None] / 2, (n, 2))
    return np.concatenate([scale[:, None], centre], axis=1).astype(np.float32)


def scene_set(faces, identities, scales, size=64, copies=1, seed=0):
    """Training scenes: each face at ``copies`` random layouts (scale from ``scales``) on random backgrounds.

    Returns ``(images (N, size, size, 3) in [0, 1], identities (N, D), layouts (N, 3), backgrounds (N,))``
    with N = len(faces) · copies, row i of ``identities`` the identity of the face in scene i.
    """
    rng = np.random.default_rng(seed)
    faces, identities = np.asarray(faces, np.float32), np.asarray(identities, np.float32)
    index = np.repeat(np.arange(len(faces)), int(copies))
    layouts = random_layouts(len(index), scales, rng)
    kinds = rng.integers(0, len(BACKGROUNDS), len(index)).astype(np.int32)
    images = np.stack([compose(faces[i], layout, kind, size, rng) for i, layout, kind in zip(index, layouts, kinds)])
    return images, identities[index], layouts, kinds
