"""IGT's transformation set on square behaviour images, in NumPy (training data) and keras.ops (scoring).

The paper applies geometric transformations (GEOM/RotNet style) but does not
publish which (``papers.md`` §15). hgzoo's set, 24 transformations: the four
rotations by 90° × with and without a left-right flip (the dihedral group of
the square) × three translations (none, a circular shift by a third of the
image down, a third to the right). Rotations and flips move activity
counters into the rows of time windows and scopes and back, circular shifts
move a whole day's pattern into other windows; a classifier that knows the
layout of normal days tells them apart, and an unusual day confuses it.

Transformation ``k`` is ``translation(k % 3)`` after ``flip((k // 3) % 2)``
after ``rotation(k // 6)``.

Example:

>>> import numpy as np
>>> x = np.random.rand(2, 12, 12, 1).astype("float32")
>>> bool(np.allclose(transform_numpy(x, 5), np.asarray(transform_ops(x, 5))))
True
>>> NUM_TRANSFORMS
24
"""

import numpy as np
from keras import ops

ROTATIONS, FLIPS, SHIFTS = 4, 2, 3
NUM_TRANSFORMS = ROTATIONS * FLIPS * SHIFTS


def _parts(k):
    if not 0 <= int(k) < NUM_TRANSFORMS:
        raise ValueError(f"transformation index must be in [0, {NUM_TRANSFORMS}), got {k}")
    return int(k) // (FLIPS * SHIFTS), (int(k) // SHIFTS) % FLIPS, int(k) % SHIFTS


def _shift(size, shift):
    return {0: (0, 0), 1: (size // 3, 0), 2: (0, size // 3)}[shift]


def transform_numpy(images, k):
    """Transformation ``k`` of a (B, H, H, C) batch, as NumPy."""
    rotation, flip, shift = _parts(k)
    x = np.rot90(np.asarray(images), rotation, axes=(1, 2))
    if flip:
        x = x[:, :, ::-1]
    down, right = _shift(x.shape[1], shift)
    return np.roll(x, (down, right), axis=(1, 2))


def transform_ops(images, k):
    """Transformation ``k`` of a (B, H, H, C) tensor with keras.ops (runs on every backend)."""
    rotation, flip, shift = _parts(k)
    x = ops.convert_to_tensor(images)
    for _ in range(rotation):  # rot90 counter-clockwise: transpose, then flip the rows
        x = ops.flip(ops.transpose(x, (0, 2, 1, 3)), axis=1)
    if flip:
        x = ops.flip(x, axis=2)
    down, right = _shift(x.shape[1], shift)
    if down:
        x = ops.roll(x, down, axis=1)
    if right:
        x = ops.roll(x, right, axis=2)
    return x


def transformation_dataset(images):
    """Every image under every transformation: ``(B * K, H, H, C)`` images and their ``(B * K,)`` labels."""
    images = np.asarray(images, np.float32)
    x = np.concatenate([transform_numpy(images, k) for k in range(NUM_TRANSFORMS)])
    y = np.repeat(np.arange(NUM_TRANSFORMS, dtype=np.int32), len(images))
    return x, y
