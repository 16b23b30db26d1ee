"""Reading, normalising and writing images with clear errors.

Models take float images in [0, 1] with 3 channels. These helpers turn what
users have (uint8/uint16/float arrays, grayscale, RGB, RGBA, files) into that,
and back: outputs are clipped and quantised with round-half-up.

Example:

>>> import numpy as np
>>> from hgzoo.data.images import to_float_rgb, from_float
>>> rgb, info = to_float_rgb(np.zeros((4, 5), np.uint8))
>>> rgb.shape, info.dtype
((4, 5, 3), dtype('uint8'))
>>> tuple(from_float(rgb, info).shape)
(4, 5)
"""

import dataclasses
import os

import numpy as np
from PIL import Image, UnidentifiedImageError

from hgzoo.errors import InvalidImageError

MAX_PIXELS = 1 << 28  # 268 megapixels: beyond that, assume a mistake


@dataclasses.dataclass(frozen=True)
class ImageInfo:
    """How an input image looked, so the output can be given back alike."""

    dtype: np.dtype
    channels: int  # 1 (gray), 3 (RGB) or 4 (RGBA)
    alpha: np.ndarray | None = None
    channel_axis: bool = True  # False for (H, W) grayscale


def read_image(path):
    """Read an image file as a numpy array (uint8 or uint16), naming the file on error."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InvalidImageError(f"{path}: no such file")
    if os.path.getsize(path) == 0:
        raise InvalidImageError(f"{path}: the file is empty")
    try:
        with Image.open(path) as im:
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                array = np.asarray(im, dtype=np.uint16 if im.mode.startswith("I;16") else np.int32)
                if array.dtype == np.int32:
                    array = np.clip(array, 0, 65535).astype(np.uint16)
            else:
                if im.mode not in ("L", "RGB", "RGBA"):
                    im = im.convert("RGBA" if "A" in im.mode or "transparency" in im.info else "RGB")
                array = np.asarray(im)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise InvalidImageError(f"{path}: not a readable image ({e})") from e
    return array


def to_float_rgb(image, name="image"):
    """(H, W[, C]) uint8/uint16/float -> (H, W, 3) float32 in [0, 1], plus how to undo it."""
    array = np.asarray(image)
    channel_axis = array.ndim == 3
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise InvalidImageError(
            f"{name}: expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got shape {array.shape}")
    h, w = array.shape[:2]
    if h < 1 or w < 1:
        raise InvalidImageError(f"{name}: the image is empty ({h}x{w})")
    if h * w > MAX_PIXELS:
        raise InvalidImageError(f"{name}: {h}x{w} is over {MAX_PIXELS} pixels; crop or downscale it first")
    if array.dtype == np.uint8:
        scale = 255.0
    elif array.dtype == np.uint16:
        scale = 65535.0
    elif np.issubdtype(array.dtype, np.floating):
        scale = 1.0
        if not np.isfinite(array).all():
            raise InvalidImageError(f"{name}: contains NaN or infinite values")
    else:
        raise InvalidImageError(f"{name}: unsupported dtype {array.dtype}; use uint8, uint16 or float in [0, 1]")
    x = array.astype(np.float32) / scale
    channels = 1 if x.ndim == 2 else x.shape[-1]
    alpha = None
    if channels == 1:
        x = np.repeat(x[..., None], 3, axis=-1)
    elif channels == 4:
        x, alpha = x[..., :3], x[..., 3]
    return np.ascontiguousarray(x), ImageInfo(array.dtype, channels, alpha, channel_axis)


def quantise(x, dtype=np.uint8):
    """Clip to [0, 1] and quantise with round-half-up."""
    top = 65535.0 if np.dtype(dtype) == np.uint16 else 255.0
    return np.floor(np.clip(x, 0.0, 1.0) * top + 0.5).astype(dtype)


def from_float(x, info):
    """Give a float RGB result back in the input's dtype and channel layout."""
    if info.channels == 1:
        x = x.mean(axis=-1, keepdims=info.channel_axis)
    elif info.channels == 4:
        x = np.concatenate([x, info.alpha[..., None]], axis=-1)
    if np.issubdtype(info.dtype, np.integer):
        return quantise(x, info.dtype)
    return np.clip(x, 0.0, 1.0).astype(info.dtype)


def write_image(path, array):
    """Write a uint8/uint16 array as an image file (format from the extension)."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    array = np.asarray(array)
    if array.dtype == np.uint16 and array.ndim == 2:
        Image.fromarray(array).save(path)
    elif array.dtype == np.uint16:
        # PIL writes 16-bit only for grayscale; keep 8 bits per channel for colour.
        Image.fromarray((array >> 8).astype(np.uint8)).save(path)
    else:
        Image.fromarray(array).save(path)
    return path
