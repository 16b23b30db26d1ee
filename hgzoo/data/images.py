"""Reading, normalising and writing images with clear errors, never silently wrong.

Models take float images in [0, 1] with 3 channels. These helpers turn what
users have (uint8/uint16/float arrays, grayscale, RGB, RGBA, files) into that,
and back: outputs are clipped and quantised with round-half-up. The rules:

- **Ranges come from the dtype**: uint8 is 0-255, uint16 is 0-65535, float is
  [0, 1]. Floats a little outside [0, 1] (an unclipped model output) are
  clipped; floats further out (e.g. 0-255 values in a float array) are
  refused with an error that says how to fix them, never guessed at.
- **Files are read at their full depth**: 8-bit images as uint8, 16-bit PNG
  and TIFF (gray, gray+alpha, RGB, RGBA) as uint16 with all 16 bits (Pillow
  alone keeps only the high byte of 16-bit colour), float TIFFs as float32.
  The EXIF orientation is applied, so arrays are upright as viewers show them.
- **16 bits stay 16 bits**: a result keeps its input's dtype, and
  :func:`write_image` writes uint16 and float arrays as 16-bit files (PNG for
  colour); it refuses a format that would cut them to 8 bits.
- **Writes are atomic**: :func:`write_image` encodes in memory, writes a
  temporary file in the target's folder, syncs it and renames it over the
  target, so a killed process never leaves a partial image under the final name.

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
import io
import os
import pathlib
import struct
import sys
import zlib

import numpy as np
from PIL import Image

from hgzoo.errors import InvalidImageError, OutputPathError
from hgzoo.files import replace_atomically

MAX_PIXELS = 1 << 28  # 268 megapixels: beyond that, assume a mistake
FLOAT_SLACK = 0.1  # floats within this of [0, 1] are clipped; further out is an error
EXIF_ORIENTATION = 0x0112

# The EXIF orientation tag (2-8) -> how to turn the stored pixels upright (as PIL.ImageOps.exif_transpose does).
_UPRIGHT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: np.swapaxes(a, 0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.swapaxes(a[::-1, ::-1], 0, 1),
    8: lambda a: np.rot90(a, 1),
}
# A 16-bit colour rawmode -> the one of the other byte order: decoding with it yields the low bytes.
_OTHER_BYTE_ORDER = {"16B": "16L", "16L": "16B", "16N": "16B" if sys.byteorder == "little" else "16L"}


@dataclasses.dataclass(frozen=True)
class ImageInfo:
    """How an input image looked, so the output can be given back alike.

    >>> import numpy as np
    >>> x, info = to_float_rgb(np.zeros((4, 4), np.uint16))
    >>> x.shape, info.dtype, info.channels, info.channel_axis
    ((4, 4, 3), dtype('uint16'), 1, False)
    """

    dtype: np.dtype
    channels: int  # 1 (gray), 3 (RGB) or 4 (RGBA)
    alpha: np.ndarray | None = None
    channel_axis: bool = True  # False for (H, W) grayscale


def check_image_path(path):
    """InvalidImageError unless ``path`` is a non-empty file (a cheap check before any model loads).

    >>> check_image_path("no/such.png")
    Traceback (most recent call last):
    hgzoo.errors.InvalidImageError: no/such.png: no such file
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise InvalidImageError(f"{path}: is a folder, not an image file (for every image in it, pass {path}/*)")
    if not os.path.isfile(path):
        raise InvalidImageError(f"{path}: no such file")
    if os.path.getsize(path) == 0:
        raise InvalidImageError(f"{path}: the file is empty")


def read_image(path):
    """Read an image file upright as a numpy array (uint8, uint16 or float32), naming the file on error.

    See the module docstring for the rules (full bit depth, EXIF orientation).
    """
    path = os.fspath(path)
    check_image_path(path)
    try:
        with Image.open(path) as im:
            w, h = im.size
            if w * h > MAX_PIXELS:
                raise InvalidImageError(f"{path}: {h}x{w} is over {MAX_PIXELS} pixels; crop or downscale it first")
            array = _pixels(im, path)
            orientation = im.getexif().get(EXIF_ORIENTATION, 1)  # after decoding: PNG may store it after the pixels
    except InvalidImageError:
        raise
    except Image.DecompressionBombError as e:
        raise InvalidImageError(f"{path}: refused as a possible decompression bomb ({e})") from None
    except PermissionError:
        raise InvalidImageError(f"{path}: permission denied; cannot read it") from None
    except Exception as e:  # noqa: BLE001 -- a hostile file can make any decoder raise anything: name the file
        raise InvalidImageError(f"{path}: not a readable image ({type(e).__name__}: {e})") from e
    upright = _UPRIGHT.get(orientation)
    return np.ascontiguousarray(upright(array)) if upright else array


def _pixels(im, path):
    """The decoded pixels of an open image at their full depth."""
    rawmode = _rawmode(im.tile[0]) if im.tile else ""
    if im.mode == "F":
        return np.asarray(im, dtype=np.float32)
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(im, dtype=np.uint16 if im.mode.startswith("I;16") else np.int32)
        return np.clip(array, 0, 65535).astype(np.uint16) if array.dtype == np.int32 else array
    if rawmode == "LA;16B":  # 16-bit gray+alpha PNG, which Pillow offers as 8-bit RGBA: take its 4 bytes per pixel
        im.tile = [_with_rawmode(t, "RGBA") for t in im.tile]
        b = np.asarray(im).astype(np.uint16)
        gray, alpha = b[..., 0] << 8 | b[..., 1], b[..., 2] << 8 | b[..., 3]
        return np.stack([gray, gray, gray, alpha], axis=-1)
    if ";16" in rawmode:
        return _sixteen_bit_colour(im, path, rawmode)
    if im.mode not in ("L", "RGB", "RGBA"):
        im = im.convert("RGBA" if "A" in im.mode or "transparency" in im.info else "RGB")
    return np.asarray(im)


def _sixteen_bit_colour(im, path, rawmode):
    """16-bit RGB(A): Pillow decodes the high bytes; a second decode in the other byte order gives the low ones."""
    other = _OTHER_BYTE_ORDER.get(rawmode[-3:])
    if im.mode not in ("RGB", "RGBA") or other is None:
        raise InvalidImageError(f"{path}: 16-bit {rawmode} images cannot be read without losing bits; "
                                "save it as a 16-bit PNG")
    low_tiles = [_with_rawmode(t, _rawmode(t)[:-3] + other) for t in im.tile]
    high = np.asarray(im)
    with Image.open(path) as again:
        again.tile = low_tiles
        low = np.asarray(again)
    return high.astype(np.uint16) << 8 | low


def _rawmode(tile):
    args = tile[3]
    return args if isinstance(args, str) else args[0]


def _with_rawmode(tile, rawmode):
    args = rawmode if isinstance(tile[3], str) else (rawmode, *tile[3][1:])
    fields = (*tile[:3], args)
    return type(tile)._make(fields) if hasattr(type(tile), "_make") else fields


def _check_float_range(array, name):
    """Float pixels in [0, 1], clipped when only a little outside; a clear error when they cannot be that."""
    if not np.isfinite(array).all():
        raise InvalidImageError(f"{name}: contains NaN or infinite values")
    lo, hi = float(array.min()), float(array.max())
    if lo < -FLOAT_SLACK or hi > 1 + FLOAT_SLACK:
        raise InvalidImageError(
            f"{name}: float pixels must be in [0, 1], found {lo:.4g} to {hi:.4g}; if they are 0-255 values, "
            "divide by 255 (or pass uint8), if 0-65535, divide by 65535 (or pass uint16)")
    return np.clip(array, 0.0, 1.0)


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
        x = array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        x = array.astype(np.float32) / 65535.0
    elif np.issubdtype(array.dtype, np.floating):
        x = _check_float_range(array, name).astype(np.float32)
    else:
        raise InvalidImageError(f"{name}: unsupported dtype {array.dtype}; use uint8, uint16 or float in [0, 1]")
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
    """Write an image file atomically, the format from the extension; returns the path.

    uint8 arrays are written as they are; uint16 and float arrays (in [0, 1])
    as 16 bits per channel: PNG for colour, PNG or TIFF for gray. A format
    that would cut them to 8 bits is refused (quantise to uint8 first to mean
    that). Shapes: (H, W), (H, W, 1), (H, W, 3), (H, W, 4).
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise OutputPathError(f"{path}: is a folder; give a file name")
    data = _encode(np.asarray(array), path)
    _replace_atomically(path, data)
    return path


def _encode(array, path):
    """The file's bytes: encoding fails before anything touches the disk."""
    fmt = Image.registered_extensions().get(os.path.splitext(path)[1].lower())
    if fmt is None:
        raise InvalidImageError(f"{path}: unknown image extension; use .png, .jpg, .tif, ...")
    if np.issubdtype(array.dtype, np.floating):
        array = quantise(_check_float_range(array, path), np.uint16)
    if array.dtype not in (np.uint8, np.uint16):
        raise InvalidImageError(f"{path}: unsupported dtype {array.dtype}; write uint8, uint16 or float in [0, 1]")
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise InvalidImageError(f"{path}: cannot write an array of shape {array.shape} as an image")
    if array.dtype == np.uint16 and array.ndim == 3:
        if fmt != "PNG":
            raise InvalidImageError(f"{path}: 16-bit colour is written as PNG only (use a .png name), "
                                    f"or quantise to uint8 first to write 8-bit {fmt}")
        return _png16(array)
    buffer = io.BytesIO()
    try:
        Image.fromarray(array).save(buffer, format=fmt)
    except (OSError, KeyError, ValueError) as e:
        depth = "16-bit" if array.dtype == np.uint16 else "8-bit"
        raise InvalidImageError(f"{path}: {fmt} cannot hold this {depth} image ({e})") from None
    return buffer.getvalue()


def _png16(array):
    """A 16-bit RGB or RGBA PNG (Pillow writes 16 bits for gray only), rows Sub-filtered for size."""
    h, w, channels = array.shape
    rows = np.ascontiguousarray(array, dtype=">u2").reshape(h, w * channels).view(np.uint8)
    step = 2 * channels  # bytes per pixel
    filtered = rows.copy()
    filtered[:, step:] -= rows[:, :-step]  # PNG filter 1 (Sub), modulo 256
    raw = np.concatenate([np.ones((h, 1), np.uint8), filtered], axis=1).tobytes()

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 16, 2 if channels == 3 else 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6))
            + chunk(b"IEND", b""))


def _replace_atomically(path, data):
    """Write ``data`` to ``path`` atomically, with one clear error when the place cannot be written."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputPathError(f"{path}: {_first_file(folder)} is a file, not a folder") from None
    except PermissionError:
        raise OutputPathError(f"{path}: permission denied; cannot create the folder {folder}") from None
    try:
        replace_atomically(path, lambda tmp: pathlib.Path(tmp).write_bytes(data))
    except PermissionError:
        raise OutputPathError(f"{path}: permission denied; cannot write in {folder}") from None
    except OSError as e:
        raise OutputPathError(f"{path}: cannot write it ({e.strerror or e})") from None


def _first_file(folder):
    """The first existing ancestor of ``folder`` (or itself) that is not a folder."""
    parts = os.path.abspath(folder)
    while parts and not os.path.exists(parts):
        parts = os.path.dirname(parts)
    return parts
