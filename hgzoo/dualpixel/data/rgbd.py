"""RGB-D sources for the dual-pixel simulator: the Middlebury motorcycle bundled in scikit-image, user folders."""

import glob
import os

import numpy as np

from hgzoo.config import require
from hgzoo.data.images import read_image
from hgzoo.errors import InvalidImageError


def _fill_invalid(depth):
    """Replace non-finite or non-positive depths by the nearest valid one along each row (then column)."""
    depth = depth.astype("float64").copy()
    bad = ~np.isfinite(depth) | (depth <= 0)
    if bad.all():
        raise InvalidImageError("depth map has no valid value")
    for axis_view in (depth, depth.T):
        for row in axis_view:
            ok = np.isfinite(row) & (row > 0)
            if ok.any() and not ok.all():
                idx = np.arange(len(row))
                row[~ok] = np.interp(idx[~ok], idx[ok], row[ok])
    depth[~np.isfinite(depth) | (depth <= 0)] = np.nanmedian(depth[np.isfinite(depth) & (depth > 0)])
    return depth


def motorcycle(depth_range_m=(1.0, 4.0)):
    """The Middlebury 2014 "motorcycle" left view and a depth map from its ground-truth disparity.

    Depth is taken as ``1 / disparity`` (holes filled from their neighbours),
    rescaled affinely in inverse depth so the scene spans ``depth_range_m``
    (the rig's metric calibration is not bundled). Returns ``(image (H, W, 3)
    float32 in [0, 1], depth (H, W) float32 in metres)``.
    """
    data = require("skimage.data", "dualpixel")
    left, _, disparity = data.stereo_motorcycle()
    inverse = _fill_invalid(np.where(disparity > 0, disparity, np.nan))
    near, far = depth_range_m
    t = (inverse - inverse.min()) / max(inverse.max() - inverse.min(), 1e-9)  # 1 = nearest
    depth = 1.0 / (1.0 / far + t * (1.0 / near - 1.0 / far))
    return left.astype("float32") / 255.0, depth.astype("float32")


def rgbd_folder(folder):
    """Every ``NAME.png`` (or .jpg) in ``folder`` with its depth ``NAME_depth.npy`` (metres) or ``NAME_depth.png``
    (16-bit, millimetres). Returns a list of ``(image, depth)``; depth holes (0, NaN) are filled."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise InvalidImageError(f"{folder}: no such folder of RGB images with NAME_depth.npy / NAME_depth.png depths")
    pairs = []
    for path in sorted(glob.glob(os.path.join(folder, "*"))):
        stem, ext = os.path.splitext(path)
        if ext.lower() not in (".png", ".jpg", ".jpeg") or stem.endswith("_depth"):
            continue
        if os.path.isfile(stem + "_depth.npy"):
            depth = np.load(stem + "_depth.npy", allow_pickle=False).astype("float64")
        elif os.path.isfile(stem + "_depth.png"):
            depth = read_image(stem + "_depth.png").astype("float64")
            if depth.ndim == 3:
                depth = depth[..., 0]
            depth = depth / 1000.0
        else:
            raise InvalidImageError(f"{path}: no depth map {os.path.basename(stem)}_depth.npy (metres) or "
                                    f"_depth.png (16-bit millimetres) beside it")
        image = read_image(path)
        image = image.astype("float32") / (65535.0 if image.dtype == np.uint16 else 255.0)
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=-1)
        if depth.shape != image.shape[:2]:
            raise InvalidImageError(f"{path}: image {image.shape[:2]} and depth {depth.shape} differ in size")
        pairs.append((image[..., :3], _fill_invalid(depth).astype("float32")))
    if not pairs:
        raise InvalidImageError(f"{folder}: no RGB images (.png/.jpg) with depth maps found")
    return pairs
