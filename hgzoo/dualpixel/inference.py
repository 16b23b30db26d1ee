"""Any-size DDDNet inference with tiling, for full-resolution captures."""

import numpy as np

from hgzoo.errors import InvalidImageError


def _check_views(left, right):
    left, right = np.asarray(left), np.asarray(right)
    if left.shape != right.shape:
        raise InvalidImageError(f"left {left.shape} and right {right.shape} views differ in size; pass the two views of "
                         f"one dual-pixel capture")
    if left.ndim == 2:  # single-channel DP data (e.g. Pixel-4 green): replicate to the network's 3 channels
        left, right = (np.repeat(v[..., None], 3, axis=-1) for v in (left, right))
    if left.ndim != 3 or left.shape[-1] != 3 or min(left.shape[:2]) < 1:
        raise InvalidImageError(f"views of shape {left.shape}: pass (H, W) or (H, W, 3) arrays in [0, 1]")
    for name, v in (("left", left), ("right", right)):
        if not np.issubdtype(v.dtype, np.floating) or not np.all(np.isfinite(v)) or v.min() < 0 or v.max() > 1:
            raise InvalidImageError(f"{name} view: pass finite floats in [0, 1] (divide 8-bit images by 255)")
    return left.astype("float32"), right.astype("float32")


def restore(model, left, right, tile=256, overlap=32):
    """Run a :class:`~hgzoo.dualpixel.DDDNet` on views of any size; returns ``(image, disparity)``.

    The views are mirror-padded to at least one tile, cut into ``tile``² tiles
    (multiples of 8, at least 64) overlapping by ``overlap`` pixels, and the
    tile centres are stitched (each output pixel comes from the tile where it
    is farthest from a border: overlaps are split at their middle).
    Single-channel views are replicated to RGB.

    Example:

    >>> import numpy as np
    >>> from hgzoo.dualpixel import DDDNet, restore
    >>> x = np.random.rand(70, 90).astype("float32")
    >>> image, disparity = restore(DDDNet(width=0.125), x, x, tile=64, overlap=16)
    >>> image.shape, disparity.shape
    ((70, 90, 3), (70, 90))
    """
    left, right = _check_views(left, right)
    if tile % 8 or tile < 64 or not 0 <= overlap < tile // 2:
        raise InvalidImageError(f"tile={tile}, overlap={overlap}: tile must be a multiple of 8, at least 64, and "
                         f"overlap in [0, tile/2)")
    h, w = left.shape[:2]
    ph, pw = max(h, tile), max(w, tile)
    pad = ((0, ph - h), (0, pw - w), (0, 0))
    left, right = np.pad(left, pad, mode="symmetric"), np.pad(right, pad, mode="symmetric")
    stride = tile - 2 * overlap
    out = np.zeros((ph, pw, 4), "float32")
    ys, xs = _starts(ph, tile, stride), _starts(pw, tile, stride)
    for iy, y in enumerate(ys):
        for ix, x in enumerate(xs):
            pred = np.asarray(model.predict_on_batch([left[None, y:y + tile, x:x + tile],
                                                      right[None, y:y + tile, x:x + tile]]))[0]
            y0, y1 = _owned(ys, iy, tile, ph)
            x0, x1 = _owned(xs, ix, tile, pw)
            out[y0:y1, x0:x1] = pred[y0 - y:y1 - y, x0 - x:x1 - x]
    return np.clip(out[:h, :w, :3], 0.0, 1.0), out[:h, :w, 3]


def _starts(n, tile, stride):
    return sorted({min(s, n - tile) for s in range(0, max(n - tile, 0) + stride, stride)})


def _owned(starts, i, tile, n):
    """The span tile ``i`` writes: up to the middle of its overlaps with its neighbours."""
    lo = 0 if i == 0 else (starts[i - 1] + tile + starts[i]) // 2
    hi = n if i == len(starts) - 1 else (starts[i] + tile + starts[i + 1]) // 2
    return lo, hi
