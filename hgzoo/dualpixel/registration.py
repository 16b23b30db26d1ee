"""Register a real capture to its ground truth: a scale + translation fit that maximises gradient NCC.

Why: in the Pixel-4 release the all-in-focus ground truth (1008×1344) is not
the DP views (1512×2016) resized; it is a window of them at about their own
resolution (a centred crop, zoomed by ~0.5 % — the ground truth comes from a
focus stack, whose magnification changes with focus). Comparing a method's
output with it needs the views resampled on the ground truth's pixel grid.

The model: reference pixel ``(y, x)`` sees moving pixel
``(scale·y + ty, scale·x + tx)``. It is found in two steps, on gradient
magnitudes of square-root-toned, lightly smoothed images (so exposure,
tone and defocus differences matter less than where the edges are):

1. coarse: both images box-downsampled by ``coarse``; for every candidate
   scale the moving image is resized into reference pixels and the best
   translation is the peak of the normalised cross-correlation (NCC) of the
   reference over it (scikit-image's ``match_template``);
2. fine: Nelder-Mead on ``(scale, ty, tx)`` at full resolution, maximising
   the NCC of the warped moving gradients with the reference's (bilinear
   resampling, a margin of ``margin`` pixels left out).

Rotation is not modelled. The reference must lie inside the moving image at
the found scale (true of the Pixel-4 release, where it is the central part).
"""

import dataclasses

import numpy as np

from hgzoo.config import require
from hgzoo.errors import HgzooError


class RegistrationError(HgzooError, ValueError):
    """Images that cannot be registered (wrong shapes, a reference that fits nowhere)."""


@dataclasses.dataclass(frozen=True)
class Registration:
    """Reference pixel ``(y, x)`` sees moving pixel ``(scale·y + ty, scale·x + tx)``; ``ncc`` is the gradient NCC reached.

    Example:

    >>> r = Registration(scale=1.0, ty=2.0, tx=3.0, ncc=1.0)
    >>> ys, xs = r.source_coordinates((2, 2))
    >>> float(ys[1, 1]), float(xs[1, 1])
    (3.0, 4.0)
    """

    scale: float
    ty: float
    tx: float
    ncc: float

    def source_coordinates(self, shape):
        """Moving-image coordinates ``(ys, xs)`` of every pixel of a reference grid of ``shape``."""
        yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype("float64")
        return self.scale * yy + self.ty, self.scale * xx + self.tx


def estimate_registration(moving, reference, scales=np.arange(0.8, 1.6, 0.01), coarse=4, margin=16):
    """Fit ``moving`` (H, W) to ``reference`` (h, w) with a scale and a translation; returns a :class:`Registration`.

    ``scales`` are the candidate moving pixels per reference pixel of the
    coarse search. Both images are single-channel, non-negative floats.

    Example:

    >>> import numpy as np
    >>> from scipy.ndimage import gaussian_filter
    >>> big = gaussian_filter(np.random.default_rng(0).random((120, 160)), 2)
    >>> r = estimate_registration(big, big[20:84, 30:118], scales=[0.9, 1.0, 1.1], coarse=2)
    >>> round(r.scale, 2), round(r.ty), round(r.tx)
    (1.0, 20, 30)
    """
    moving, reference = _check_image(moving, "moving"), _check_image(reference, "reference")
    optimize = require("scipy.optimize", "dualpixel")
    coarse_fit = _coarse_search(moving, reference, scales, coarse)
    if coarse_fit is None:
        raise RegistrationError(f"reference {reference.shape} fits inside moving {moving.shape} at none of the "
                                f"scales {float(np.min(scales)):.3g}..{float(np.max(scales)):.3g}; pass scales that "
                                f"cover how many moving pixels one reference pixel spans")
    moving_grad, reference_grad = _edges(moving), _edges(reference)
    inner = np.s_[margin:reference.shape[0] - margin, margin:reference.shape[1] - margin]

    def cost(params):
        fit = Registration(*params, ncc=0.0)
        return -_ncc(warp(moving_grad, fit, reference.shape)[inner], reference_grad[inner])

    start = np.asarray(coarse_fit, "float64")
    step = np.diag([0.004, float(coarse), float(coarse)])
    result = optimize.minimize(cost, start, method="Nelder-Mead",
                               options={"xatol": 1e-3, "fatol": 1e-6, "initial_simplex": np.vstack([start, start + step])})
    scale, ty, tx = (float(v) for v in result.x)
    return Registration(scale, ty, tx, ncc=float(-result.fun))


def warp(moving, registration, shape):
    """``moving`` resampled (bilinear) on a reference grid of ``shape``; pixels outside it are 0.

    Example:

    >>> import numpy as np
    >>> x = np.arange(12.0).reshape(3, 4)
    >>> warp(x, Registration(1.0, 1.0, 1.0, ncc=1.0), (2, 2)).tolist()
    [[5.0, 6.0], [9.0, 10.0]]
    """
    ndimage = require("scipy.ndimage", "dualpixel")
    ys, xs = registration.source_coordinates(shape)
    return ndimage.map_coordinates(np.asarray(moving, "float32"), [ys, xs], order=1, cval=0.0)


def gradient_ncc(a, b, margin=16):
    """NCC of the gradient magnitudes of two same-size images (the score :func:`estimate_registration` maximises)."""
    inner = np.s_[margin:a.shape[0] - margin, margin:a.shape[1] - margin]
    return _ncc(_edges(_check_image(a, "a"))[inner], _edges(_check_image(b, "b"))[inner])


def _coarse_search(moving, reference, scales, coarse):
    """Best ``(scale, ty, tx)`` over ``scales`` at 1/``coarse`` resolution, or None when nothing fits."""
    feature = require("skimage.feature", "dualpixel")
    transform = require("skimage.transform", "dualpixel")
    small_ref = _edges(transform.downscale_local_mean(reference, (coarse, coarse)))
    best = None
    for scale in scales:
        size = (int(round(moving.shape[0] / scale / coarse)), int(round(moving.shape[1] / scale / coarse)))
        if size[0] < small_ref.shape[0] or size[1] < small_ref.shape[1]:
            continue
        small_moving = _edges(transform.resize(moving, size, anti_aliasing=True))
        scores = feature.match_template(small_moving, small_ref)
        iy, ix = np.unravel_index(int(np.argmax(scores)), scores.shape)
        if best is None or scores[iy, ix] > best[0]:
            # Block centres: coarse pixel i spans reference pixels [coarse·i, coarse·i + coarse).
            shift = (coarse - 1) / 2 * (1 - scale)
            best = (float(scores[iy, ix]), float(scale), iy * coarse * scale + shift, ix * coarse * scale + shift)
    return None if best is None else best[1:]


def _edges(image):
    ndimage = require("scipy.ndimage", "dualpixel")
    smooth = ndimage.gaussian_filter(np.sqrt(np.maximum(image, 0.0)).astype("float32"), 1.5)
    gy, gx = np.gradient(smooth)
    return np.hypot(gx, gy)


def _ncc(a, b):
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / max(np.sqrt((a * a).sum() * (b * b).sum()), 1e-12))


def _check_image(image, name):
    image = np.asarray(image, "float32")
    if image.ndim != 2 or min(image.shape) < 8:
        raise RegistrationError(f"{name}: expected one (H, W) channel of at least 8×8 pixels, got shape {image.shape}; "
                                f"register single-channel images (e.g. the L/R average of a Pixel-4 scene)")
    if not np.isfinite(image).all():
        raise RegistrationError(f"{name}: holds NaN or infinite values; register finite images")
    return image
