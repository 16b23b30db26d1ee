"""Metrics: image quality (PSNR, SSIM; keras.ops, images in [0, ``max_value``]) and macro-F1.

Example:

>>> import numpy as np
>>> from hgzoo.metrics import macro_f1
>>> macro_f1(np.array([0, 0, 1]), np.array([0, 1, 1]), 2)
0.6666666666666666
"""

import keras
import numpy as np
from keras import ops

from hgzoo.api_export import hgzoo_export

__all__ = ["PSNR", "SSIM", "classification_scores", "macro_f1", "psnr", "ssim"]


def macro_f1(y_true, y_pred, num_classes):
    """Unweighted mean over classes of F1, for integer label arrays (a class absent from both counts as 0)."""
    scores = []
    for c in range(num_classes):
        tp = np.sum((y_pred == c) & (y_true == c))
        denominator = np.sum(y_pred == c) + np.sum(y_true == c)
        scores.append(2 * tp / denominator if denominator else 0.0)
    return float(np.mean(scores))


def classification_scores(y_true, y_pred, num_classes, prefix):
    """``{prefix}_accuracy`` and ``{prefix}_macro_f1``, in percent, of integer label arrays.

    >>> import numpy as np
    >>> classification_scores(np.array([0, 1, 1]), np.array([0, 1, 0]), 2, "val")
    {'val_accuracy': 66.66666666666666, 'val_macro_f1': 66.66666666666666}
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return {f"{prefix}_accuracy": 100 * float(np.mean(y_pred == y_true)),
            f"{prefix}_macro_f1": 100 * macro_f1(y_true, y_pred, num_classes)}


def psnr(y_true, y_pred, max_value=1.0):
    """PSNR in dB over all pixels and channels: (B, H, W, C) -> (B,), one image (H, W, C) -> ().

    hgzoo's one PSNR: tensors or numpy arrays of any dtype (uint8 with
    ``max_value=255``, floats in [0, 1] with the default), computed in float32.

    Example:

    >>> import numpy as np
    >>> sharp = np.full((4, 4, 3), 100, np.uint8)
    >>> round(float(psnr(sharp, sharp + 1, max_value=255)), 2)
    48.13
    """
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    mse = ops.mean(ops.square(y_true - y_pred), axis=(-3, -2, -1))
    return 10.0 * ops.log10(max_value**2 / ops.maximum(mse, 1e-12))


def _gaussian_window(size=11, sigma=1.5):
    coords = ops.arange(size, dtype="float32") - (size - 1) / 2.0
    g = ops.exp(-(coords**2) / (2.0 * sigma**2))
    g = g / ops.sum(g)
    return ops.reshape(g, (size, 1)) * ops.reshape(g, (1, size))


def ssim(y_true, y_pred, max_value=1.0):
    """Per-image SSIM (Wang et al. 2004: 11×11 Gaussian, σ 1.5, valid window): (B,).

    Images smaller than 11 pixels use the largest odd window that fits.
    """
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    channels = ops.shape(y_true)[-1]
    known = [d for d in y_true.shape[1:3] if d is not None]
    size = min([11] + [d if d % 2 else d - 1 for d in known])
    window = ops.tile(ops.reshape(_gaussian_window(size), (size, size, 1, 1)), (1, 1, channels, 1))

    def blur(x):
        return ops.depthwise_conv(x, window, padding="valid")

    c1, c2 = (0.01 * max_value) ** 2, (0.03 * max_value) ** 2
    mu_x, mu_y = blur(y_true), blur(y_pred)
    sxx = blur(y_true * y_true) - mu_x**2
    syy = blur(y_pred * y_pred) - mu_y**2
    sxy = blur(y_true * y_pred) - mu_x * mu_y
    num = (2 * mu_x * mu_y + c1) * (2 * sxy + c2)
    den = (mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2)
    return ops.mean(num / den, axis=(1, 2, 3))


class _ImageMetric(keras.metrics.MeanMetricWrapper):
    """Mean of a per-image quality function over everything seen."""

    fn = None

    def __init__(self, name, max_value=1.0, dtype=None):
        super().__init__(type(self).fn, name=name, dtype=dtype, max_value=max_value)
        self.max_value = max_value
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "max_value": self.max_value}


@hgzoo_export
class PSNR(_ImageMetric):
    """Mean per-image PSNR (dB) for images in [0, ``max_value``].

    Example:

    >>> import numpy as np
    >>> from hgzoo.metrics import PSNR
    >>> m = PSNR()
    >>> m.update_state(np.zeros((1, 4, 4, 3)), np.full((1, 4, 4, 3), 0.1))
    >>> round(float(m.result()), 2)
    20.0
    """

    fn = staticmethod(psnr)

    def __init__(self, name="psnr", max_value=1.0, dtype=None):
        super().__init__(name=name, max_value=max_value, dtype=dtype)


@hgzoo_export
class SSIM(_ImageMetric):
    """Mean per-image SSIM for images in [0, ``max_value``].

    Example:

    >>> import numpy as np
    >>> from hgzoo.metrics import SSIM
    >>> x = np.random.rand(1, 16, 16, 3)
    >>> m = SSIM()
    >>> m.update_state(x, x)
    >>> round(float(m.result()), 4)
    1.0
    """

    fn = staticmethod(ssim)

    def __init__(self, name="ssim", max_value=1.0, dtype=None):
        super().__init__(name=name, max_value=max_value, dtype=dtype)
