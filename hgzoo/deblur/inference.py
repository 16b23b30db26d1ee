"""Deblur any image: any dtype, channel layout and size, tiled when large."""

import os

import numpy as np

from hgzoo.data.images import from_float, read_image, to_float_rgb
from hgzoo.deblur.precision import check_precision, in_precision, resolve

AUTO_TILE_PIXELS = 1280 * 736  # larger frames are tiled by default to bound memory
AUTO_TILE = 768


def _pad_to(x, mh, mw):
    """Pad (H, W, 3) symmetrically up to multiples of (mh, mw), as exported models do."""
    h, w = x.shape[:2]
    ph, pw = -h % mh, -w % mw
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, ph), (0, pw), (0, 0)), mode="symmetric")


def _predict(model, x, events=None):
    """One (H, W, 3) float image (and its event voxels) through the model, padded and cropped back."""
    h, w = x.shape[:2]
    padded = _pad_to(x, *model.multiple_of)
    if events is None:
        y = model.predict_on_batch(padded[None])
    else:
        pad = ((0, padded.shape[0] - h), (0, padded.shape[1] - w), (0, 0))
        y = model.predict_on_batch([padded[None], np.pad(events, pad)[None]])
    return np.asarray(y)[0, :h, :w]


def _event_voxels(model, events, shape):
    """The voxels to feed: None for image-only models, zeros when an event model gets none."""
    bins = getattr(model, "event_bins", None)
    if bins is None:
        if events is not None:
            raise ValueError(f"{type(model).__name__} takes no events; use an event model such as EventMPN")
        return None
    if events is None:
        return np.zeros((*shape, bins), np.float32)  # EventMPN's documented image-only fallback
    events = np.asarray(events, np.float32)
    if events.shape != (*shape, bins):
        raise ValueError(f"events must be a ({shape[0]}, {shape[1]}, {bins}) voxel grid for this image, got "
                         f"shape {events.shape}")
    return events


def _starts(size, tile, overlap):
    if size <= tile:
        return [0]
    step = tile - 2 * overlap
    starts = list(range(0, size - tile, step))
    return starts + [size - tile]


def _tiled(model, x, events, tile, overlap, progress):
    h, w = x.shape[:2]
    out = np.empty_like(x)
    grid = [(ys, xs) for ys in _starts(h, tile, overlap) for xs in _starts(w, tile, overlap)]
    bar = None
    if progress and len(grid) > 1:
        import keras

        bar = keras.utils.Progbar(len(grid), unit_name="tile")
    for i, (ys, xs) in enumerate(grid):
        window = (slice(ys, ys + tile), slice(xs, xs + tile))
        y = _predict(model, x[window], None if events is None else events[window])
        th, tw = y.shape[:2]
        y0 = overlap if ys > 0 else 0
        x0 = overlap if xs > 0 else 0
        y1 = th - overlap if ys + th < h else th
        x1 = tw - overlap if xs + tw < w else tw
        out[ys + y0:ys + y1, xs + x0:xs + x1] = y[y0:y1, x0:x1]
        if bar:
            bar.update(i + 1)
    return out


def deblur(model, image, tile="auto", overlap=32, progress=False, events=None, precision="auto"):
    """Deblur one image with a deblurring model.

    Args:
        model: a deblurring model (e.g. ``hgzoo.deblur.StackMPN(pretrained=True)``).
        image: a file path, or an array (H, W), (H, W, 1), (H, W, 3) or
            (H, W, 4) of uint8, uint16 or float in [0, 1]. Alpha is kept as is;
            grayscale is deblurred as RGB and averaged back. Files are read
            at full depth (16-bit stays 16-bit) and turned upright by their
            EXIF orientation; floats outside [0, 1] (e.g. 0-255 values) are
            an error, not a guess (rules: :mod:`hgzoo.data.images`).
        tile: None (whole frame), an int tile side, or ``"auto"`` (whole frame
            up to 1280×736 pixels, else 768-pixel tiles). Tiles are padded (mirrored)
            to the model's multiple; they overlap by ``overlap`` pixels and
            only their interiors are kept. Tiled output differs slightly from a
            whole-frame run: DMPHN's patches are cut relative to the input.
        overlap: pixels each tile shares with its neighbours (tiled mode).
        progress: show a progress bar over tiles.
        events: for event models (:class:`~hgzoo.deblur.EventMPN`), the
            exposure's (H, W, bins) voxel grid; None gives them empty voxels
            (their image-only fallback).
        precision: ``"auto"`` (bfloat16 for 8-bit images of at least 256×256
            on a machine that runs bfloat16 natively and faster, float32
            otherwise; decided once per machine and cached: the rule is in
            :mod:`hgzoo.deblur.precision`), ``"float32"`` or ``"bfloat16"``
            (forced). 16-bit and float images stay float32 under ``"auto"``.

    Returns:
        The deblurred image with the input's dtype and channels (a 16-bit
        input gives a 16-bit result, to write with
        :func:`hgzoo.data.images.write_image` as a 16-bit PNG); integer
        outputs are clipped and rounded half up, float outputs clipped to [0, 1].

    Example:

    >>> import numpy as np, hgzoo
    >>> model = hgzoo.deblur.DMPHN(levels=(1,))
    >>> tuple(hgzoo.deblur.deblur(model, np.zeros((30, 41, 3), np.uint8)).shape)
    (30, 41, 3)
    """
    check_precision(precision)
    name = os.fspath(image) if isinstance(image, (str, os.PathLike)) else "image"
    array = read_image(image) if isinstance(image, (str, os.PathLike)) else image
    x, info = to_float_rgb(array, name)
    h, w = x.shape[:2]
    events = _event_voxels(model, events, (h, w))
    model = in_precision(model, resolve(precision, info.dtype, h * w, model))
    if tile == "auto":
        tile = AUTO_TILE if h * w > AUTO_TILE_PIXELS else None
    if tile is None:
        y = _predict(model, x, events)
    else:
        tile = int(tile)
        if tile < 2 * overlap + max(model.multiple_of):
            raise ValueError(f"tile {tile} is too small for overlap {overlap}; use at least "
                             f"{2 * overlap + max(model.multiple_of)}")
        y = _tiled(model, x, events, tile, overlap, progress)
    return from_float(y, info)
