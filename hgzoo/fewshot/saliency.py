"""Spectral-residual saliency (Hou and Zhang, CVPR 2007) in keras.ops: saliency maps without extra weights.

SalNet needs a saliency map per image. The authors used maps from a
pre-trained saliency network, shipped with their miniImageNet download; hgzoo
computes a map itself when none is given, with the spectral residual: the
log-amplitude spectrum of the (grayscale, downscaled) image minus its local
average is what is "unexpected" in the image; transformed back with the
original phase and smoothed, it highlights the objects that stand out.

Example:

>>> import numpy as np
>>> from hgzoo.fewshot.saliency import SpectralResidualSaliency
>>> image = np.full((1, 84, 84, 3), 0.5, "float32")
>>> image[0, 30:50, 40:60] = [0.9, 0.2, 0.1]
>>> saliency = np.asarray(SpectralResidualSaliency()(image))
>>> saliency.shape, bool(saliency[0, 30:50, 40:60].mean() > 3 * saliency[0, :20, :20].mean())
((1, 84, 84), True)
"""

import math

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export

_EPSILON = 1e-8


def _filter2d(x, kernel):
    """Convolve (n, h, w) maps with a square kernel, reflecting at the borders (same size out)."""
    k = kernel.shape[0]
    pad = k // 2
    x = ops.pad(x[..., None], ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")
    return ops.conv(x, ops.reshape(kernel, (k, k, 1, 1)), padding="valid")[..., 0]


def _gaussian_kernel(sigma):
    radius = max(1, math.ceil(3 * sigma))
    t = ops.arange(-radius, radius + 1, dtype="float32")
    g = ops.exp(-0.5 * ops.square(t / sigma))
    g = g / ops.sum(g)
    return g[:, None] * g[None, :]


def _upsampling(size, source):
    """(size, source) matrix of bilinear interpolation (half-pixel centres, edges clamped) from ``source``
    samples to ``size``, for a size known only when the graph runs (``ops.image.resize`` needs it static)."""
    position = (ops.cast(ops.arange(size), "float32") + 0.5) * (source / ops.cast(size, "float32")) - 0.5
    position = ops.clip(position, 0.0, source - 1.0)
    low = ops.floor(position)
    fraction = ops.expand_dims(position - low, -1)
    low = ops.cast(low, "int32")
    high = ops.minimum(low + 1, source - 1)
    return (1.0 - fraction) * ops.one_hot(low, source) + fraction * ops.one_hot(high, source)


@hgzoo_export
class SpectralResidualSaliency(keras.layers.Layer):
    """Images (..., H, W, C) in [0, 1] -> saliency maps (..., H, W) in [0, 1].

    Steps (Hou and Zhang 2007): grayscale (channel mean), resize to
    ``working_size`` (the paper works at 64 pixels), log-amplitude spectrum
    minus its 3×3 local mean (the spectral residual), inverse transform with
    the original phase, squared magnitude, Gaussian smoothing (``sigma``
    pixels at the working size: the paper uses 8; hgzoo's default 6 is a
    choice that keeps two nearby objects apart while still suppressing pixel
    noise), resize back, and scaling of each map to [0, 1]. A constant image
    gives a map of zeros. No weights; the transforms run in
    float32 and the output is float32.

    Args:
        working_size: side of the square the spectrum is computed at.
        sigma: smoothing of the map, in working-size pixels.

    Example:

    >>> import numpy as np
    >>> maps = SpectralResidualSaliency()(np.random.rand(2, 5, 32, 32, 3).astype("float32"))
    >>> tuple(maps.shape)
    (2, 5, 32, 32)
    """

    def __init__(self, working_size=64, sigma=6.0, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if int(working_size) < 8:
            raise ValueError(f"working_size must be at least 8 pixels, got {working_size}")
        if float(sigma) <= 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        self.working_size = int(working_size)
        self.sigma = float(sigma)

    def call(self, images):
        x = ops.cast(images, "float32")
        shape = ops.shape(x)
        rank = len(x.shape)
        h, w = shape[rank - 3], shape[rank - 2]
        gray = ops.mean(ops.reshape(x, (-1, h, w, shape[rank - 1])), axis=-1, keepdims=True)
        size = (self.working_size, self.working_size)
        small = ops.image.resize(gray, size, interpolation="bilinear", antialias=True)[..., 0]
        real, imag = ops.fft2((small, ops.zeros_like(small)))
        amplitude = ops.sqrt(ops.square(real) + ops.square(imag))
        log_amplitude = ops.log(amplitude + _EPSILON)
        residual = log_amplitude - _filter2d(log_amplitude, ops.full((3, 3), 1.0 / 9.0))
        scale = ops.exp(residual) / (amplitude + _EPSILON)  # exp(R + iP) = exp(R)·F/|F|
        back_real, back_imag = ops.ifft2((real * scale, imag * scale))
        saliency = _filter2d(ops.square(back_real) + ops.square(back_imag), _gaussian_kernel(self.sigma))
        saliency = ops.einsum("ia,nab,jb->nij", _upsampling(h, self.working_size), saliency,
                              _upsampling(w, self.working_size))
        low = ops.min(saliency, axis=(1, 2), keepdims=True)
        high = ops.max(saliency, axis=(1, 2), keepdims=True)
        saliency = (saliency - low) / ops.maximum(high - low, _EPSILON)
        return ops.reshape(saliency, tuple(shape[:rank - 1]))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1])

    def get_config(self):
        return {**super().get_config(), "working_size": self.working_size, "sigma": self.sigma}
