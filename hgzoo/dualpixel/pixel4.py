"""Reader for Google Pixel 4 dual-pixel captures (Xin et al., ICCV 2021 release).

The DP views are 16-bit PNGs of the green channel holding 14-bit values with a
black level of 1024; they are returned as float32 in [0, 1]:
``(value − 1024) / (16383 − 1024)``, clipped (real captures hold a few values
just above 16383).
"""

import os

import numpy as np

from hgzoo.errors import HgzooError

BLACK_LEVEL = 1024
WHITE_LEVEL = 2 ** 14 - 1


class Pixel4FormatError(HgzooError, ValueError):
    """A file that is not a Pixel-4 dual-pixel view (the message names the file and what is expected)."""


def read_pixel4_view(path):
    """One Pixel-4 DP view (16-bit single-channel PNG, 14-bit data, black level 1024) as (H, W) float32 in [0, 1].

    Example:

    >>> import numpy as np, tempfile, os
    >>> from PIL import Image
    >>> path = os.path.join(tempfile.mkdtemp(), "left.png")
    >>> Image.fromarray(np.full((4, 4), 1024 + 15359 // 2, np.uint16)).save(path)
    >>> round(float(read_pixel4_view(path).mean()), 2)
    0.5
    """
    from PIL import Image, UnidentifiedImageError

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise Pixel4FormatError(f"{path}: no such file; pass a Pixel-4 DP view such as 001_left.png")
    try:
        with Image.open(path) as im:
            mode = im.mode
            array = np.asarray(im)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as e:
        raise Pixel4FormatError(f"{path}: not a readable PNG ({e}); pass a 16-bit Pixel-4 DP view") from None
    if array.dtype != np.uint16 or array.ndim != 2:
        raise Pixel4FormatError(f"{path}: a {mode} image {array.shape} of {array.dtype}; a Pixel-4 DP view is a "
                                f"16-bit single-channel PNG (8-bit or colour files are not raw DP data)")
    if array.size == 0:
        raise Pixel4FormatError(f"{path}: empty image")
    if array.max() >= 2 ** 15:  # a few values just above 16383 occur in real captures; 16-bit data does not fit
        raise Pixel4FormatError(f"{path}: values up to {array.max()} are not 14-bit Pixel-4 DP data (white level "
                                f"{WHITE_LEVEL})")
    return np.clip((array.astype("float32") - BLACK_LEVEL) / (WHITE_LEVEL - BLACK_LEVEL), 0.0, 1.0)


def read_pixel4_scene(folder, scene):
    """``(left, right)`` of scene ``scene`` (e.g. ``"001"``) in ``folder``, each (H, W) float32.

    Raises a clear error when the two views differ in size.
    """
    left = read_pixel4_view(os.path.join(folder, f"{scene}_left.png"))
    right = read_pixel4_view(os.path.join(folder, f"{scene}_right.png"))
    if left.shape != right.shape:
        raise Pixel4FormatError(f"scene {scene}: left view {left.shape} and right view {right.shape} differ in size; "
                                f"both views of one capture have the same size")
    return left, right


def read_pixel4_ground_truth(folder, scene):
    """``(image, defocus)`` ground truth of ``scene``: the all-in-focus image /65535 and the 8-bit defocus map, (h, w) float32.

    Files: ``gt_all_in_focus_im/{scene}_gt.png`` (16-bit) and
    ``gt_defocus_map/{scene}_gt.png`` (8-bit), as in the release.
    """
    from PIL import Image

    arrays = []
    for sub, bits in (("gt_all_in_focus_im", 16), ("gt_defocus_map", 8)):
        path = os.path.join(folder, sub, f"{scene}_gt.png")
        if not os.path.isfile(path):
            raise Pixel4FormatError(f"{path}: no such file; the release keeps the ground truth of scene {scene} in "
                                    f"{sub}/{scene}_gt.png")
        with Image.open(path) as im:
            array = np.asarray(im)
        if array.ndim != 2 or array.dtype != (np.uint16 if bits == 16 else np.uint8):
            raise Pixel4FormatError(f"{path}: a {array.dtype} image {array.shape}; expected a {bits}-bit single-channel PNG")
        arrays.append(array.astype("float32") / (2 ** bits - 1))
    if arrays[0].shape != arrays[1].shape:
        raise Pixel4FormatError(f"scene {scene}: ground-truth image {arrays[0].shape} and defocus map {arrays[1].shape} "
                                f"differ in size")
    return tuple(arrays)


def register_pixel4_scene(folder, scene, registration=None):
    """Scene ``scene`` on its ground truth's pixel grid: ``(left, right, image, defocus, registration)``.

    The ground truth covers only the central part of the views' field of
    view, at about the views' resolution (a scale of ~0.993-0.995 view pixels
    per ground-truth pixel, offset ~(252, 337) in the two release scenes), so
    the views are not resized by 2/3: a scale + translation
    (:func:`~hgzoo.dualpixel.registration.estimate_registration`) is fitted
    once per scene on the L/R average against the ground truth, and both views
    are resampled (bilinear) onto the ground-truth grid, which then is the
    common field of view. Pass a ``Registration`` to reuse a fit.
    """
    from hgzoo.dualpixel.registration import estimate_registration, warp

    left, right = read_pixel4_scene(folder, scene)
    image, defocus = read_pixel4_ground_truth(folder, scene)
    if registration is None:
        registration = estimate_registration((left + right) / 2, image)
    left, right = (warp(view, registration, image.shape) for view in (left, right))
    return left, right, image, defocus, registration
