"""Differentiable Siamese Augmentation (DSA, Zhao and Bilen 2021) in ``keras.ops``.

The real and the synthetic batch of a class are augmented with the same
random parameters: sample ``i`` of either batch gets the ``i``-th draw of
every parameter (each parameter has its own random stream seeded by
``(seed, parameter)``, so a batch of 256 and one of 10 share their first 10
draws). Everything is differentiable in the images, so the matching loss
reaches the synthetic pixels through the augmentation.

The official ``ParamDiffAug`` settings: ``color`` (brightness ±0.5,
saturation ×[0, 2], contrast ×[0.5, 1.5]), ``crop`` (shift by up to 1/8 of
the size, zero fill), ``cutout`` (a zeroed square of half the size),
``flip`` (horizontal, p = 0.5), ``scale`` (×[1/1.2, 1.2] per axis),
``rotate`` (±15°); ``mode="single"`` picks one of the strategy's
transformations per call (the official ``aug_mode 'S'``, used by DM and
IID), ``"all"`` applies them in order. Scale, rotate and crop are one
bilinear affine warp with zero padding (``affine_grid``/``grid_sample``
with ``align_corners=True``); whole-pixel crops are exact.

Example:

>>> import numpy as np
>>> from hgzoo.distill import SiameseAugmentation
>>> dsa = SiameseAugmentation()
>>> real, syn = np.random.rand(8, 32, 32, 3), np.random.rand(2, 32, 32, 3)
>>> a, b = dsa(real, seed=3), dsa(syn, seed=3)
>>> bool(np.allclose(a[:2], dsa(real[:2], seed=3)))
True
"""

import math

import numpy as np
from keras import ops

TRANSFORMS = ("color", "crop", "cutout", "flip", "scale", "rotate")
DEFAULT_STRATEGY = "color_crop_cutout_flip_scale_rotate"


class SiameseAugmentation:
    """DSA: ``augment(x, seed)`` with parameters that depend only on ``seed`` and the sample's index.

    Args:
        strategy: transformations joined by ``_`` (the official
            ``color_crop_cutout_flip_scale_rotate``).
        mode: ``"single"`` (one transformation per call, chosen by the seed)
            or ``"all"``.
        brightness, saturation, contrast, crop, cutout, flip, scale, rotate:
            the official ``ParamDiffAug`` strengths.

    Example:

    >>> import numpy as np
    >>> dsa = SiameseAugmentation("flip", mode="all")
    >>> params = dsa.draw(seed=0, batch=4, image_size=(8, 8))
    >>> sorted(params)
    ['flip']
    """

    def __init__(self, strategy=DEFAULT_STRATEGY, mode="single", brightness=1.0, saturation=2.0, contrast=0.5,
                 crop=0.125, cutout=0.5, flip=0.5, scale=1.2, rotate=15.0):
        names = tuple(strategy.split("_")) if strategy else ()
        unknown = [n for n in names if n not in TRANSFORMS]
        if unknown or not names:
            raise ValueError(f"strategy must join some of {TRANSFORMS} with '_', got {strategy!r}")
        if mode not in ("single", "all"):
            raise ValueError(f"mode must be 'single' or 'all', got {mode!r}")
        self.names, self.mode = names, mode
        self.strength = {"brightness": brightness, "saturation": saturation, "contrast": contrast, "crop": crop,
                         "cutout": cutout, "flip": flip, "scale": scale, "rotate": rotate}

    def chosen(self, seed):
        """The transformations a call with ``seed`` applies."""
        if self.mode == "all":
            return self.names
        return (self.names[np.random.default_rng([int(seed), 99]).integers(len(self.names))],)

    def draw(self, seed, batch, image_size, choice=None):
        """The random parameters (numpy) of a call with ``seed`` on ``batch`` images of ``image_size``.

        ``choice`` overrides which transformations (default :meth:`chosen`).
        """
        h, w = image_size
        s = self.strength

        def uniform(k, low=0.0, high=1.0):
            return np.random.default_rng([int(seed), k]).uniform(low, high, batch).astype("float32")

        params = {}
        for name in (self.chosen(seed) if choice is None else choice):
            if name == "color":
                params["color"] = np.stack([(uniform(1) - 0.5) * s["brightness"], uniform(2) * s["saturation"],
                                            uniform(3) + s["contrast"]], axis=-1)
            elif name == "crop":
                shift_x, shift_y = int(w * s["crop"] + 0.5), int(h * s["crop"] + 0.5)
                tx = np.random.default_rng([int(seed), 4]).integers(-shift_x, shift_x + 1, batch)
                ty = np.random.default_rng([int(seed), 5]).integers(-shift_y, shift_y + 1, batch)
                theta = np.zeros((batch, 2, 3), "float32")
                theta[:, 0, 0] = theta[:, 1, 1] = 1.0
                theta[:, 0, 2] = 2.0 * tx / max(w - 1, 1)
                theta[:, 1, 2] = 2.0 * ty / max(h - 1, 1)
                params["crop"] = theta
            elif name == "cutout":
                size_y, size_x = int(h * s["cutout"] + 0.5), int(w * s["cutout"] + 0.5)
                cy = np.random.default_rng([int(seed), 6]).integers(0, h + (1 - size_y % 2), batch)
                cx = np.random.default_rng([int(seed), 7]).integers(0, w + (1 - size_x % 2), batch)
                rows, cols = np.arange(h)[None, :, None], np.arange(w)[None, None, :]
                inside = ((rows >= (cy - size_y // 2)[:, None, None]) & (rows < (cy - size_y // 2 + size_y)[:, None, None])
                          & (cols >= (cx - size_x // 2)[:, None, None]) & (cols < (cx - size_x // 2 + size_x)[:, None, None]))
                params["cutout"] = (~inside).astype("float32")[..., None]
            elif name == "flip":
                params["flip"] = (uniform(8) < s["flip"]).astype("float32")
            elif name == "scale":
                theta = np.zeros((batch, 2, 3), "float32")
                low = 1.0 / s["scale"]
                theta[:, 0, 0] = uniform(9, low, s["scale"])
                theta[:, 1, 1] = uniform(10, low, s["scale"])
                params["scale"] = theta
            elif name == "rotate":
                angle = (uniform(11) - 0.5) * 2 * s["rotate"] / 180 * math.pi
                params["rotate"] = np.stack([np.stack([np.cos(angle), -np.sin(angle), 0 * angle], -1),
                                             np.stack([np.sin(angle), np.cos(angle), 0 * angle], -1)], 1)
        return params

    def __call__(self, x, seed):
        """Augment images ``x`` (N, H, W, C) with the parameters of ``seed``; differentiable in ``x``."""
        x = ops.convert_to_tensor(x)
        n, h, w, _ = x.shape
        return apply(x, self.draw(seed, n, (h, w)))


def apply(x, params):
    """Apply drawn parameters (:meth:`SiameseAugmentation.draw`) to ``x``, in the official order."""
    for name in TRANSFORMS:
        if name not in params:
            continue
        p = params[name]
        if name == "color":
            p = ops.cast(p, x.dtype)
            x = x + p[:, None, None, None, 0]
            mean = ops.mean(x, axis=-1, keepdims=True)
            x = (x - mean) * p[:, None, None, None, 1] + mean
            mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
            x = (x - mean) * p[:, None, None, None, 2] + mean
        elif name == "cutout":
            x = x * ops.cast(p, x.dtype)
        elif name == "flip":
            x = ops.where(ops.cast(p, "bool")[:, None, None, None], ops.flip(x, axis=2), x)
        else:
            x = affine(x, p)
    return x


def affine(x, theta):
    """Bilinear warp of ``x`` (N, H, W, C) by ``theta`` (N, 2, 3), zero padding, ``align_corners=True``.

    Output pixel at normalised (u, v) ∈ [-1, 1]² samples the input at ``theta @ (u, v, 1)``, as PyTorch's
    ``grid_sample(x, affine_grid(theta))``.
    """
    n, h, w, c = x.shape
    gy, gx = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
    base = np.stack([gx.ravel(), gy.ravel(), np.ones(h * w)], axis=-1).astype("float32")  # (HW, 3)
    source = ops.einsum("nij,pj->npi", ops.cast(theta, "float32"), base)  # (N, HW, 2): x, y
    px = (source[..., 0] + 1.0) * (w - 1) / 2.0
    py = (source[..., 1] + 1.0) * (h - 1) / 2.0
    x0, y0 = ops.floor(px), ops.floor(py)
    flat = ops.reshape(x, (n, h * w, c))
    out = 0.0
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        cx, cy = x0 + dx, y0 + dy
        weight = (1.0 - ops.abs(px - cx)) * (1.0 - ops.abs(py - cy))
        valid = ops.cast((cx >= 0) & (cx <= w - 1) & (cy >= 0) & (cy <= h - 1), "float32")
        index = ops.cast(ops.clip(cy, 0, h - 1) * w + ops.clip(cx, 0, w - 1), "int32")
        index = ops.broadcast_to(index[..., None], (n, h * w, c))
        taken = ops.take_along_axis(flat, index, axis=1)
        out = out + taken * ops.cast((weight * valid)[..., None], x.dtype)
    return ops.reshape(out, (n, h, w, c))
