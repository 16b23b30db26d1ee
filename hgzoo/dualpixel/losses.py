"""DDDNet's training loss (ours: the authors released none): image, disparity and reblur terms."""

import math

import keras
from keras import ops

from hgzoo.dualpixel.simulate import render_dual_pixel


def radius_from_disparity(disparity, max_disparity=12):
    """hgzoo's DDDNet disparity convention: the signed blur radius (pixels) is ``disparity − (D − 1)/2``."""
    return disparity - (max_disparity - 1) / 2.0


def disparity_from_radius(radius, max_disparity=12):
    """Inverse of :func:`radius_from_disparity`."""
    return radius + (max_disparity - 1) / 2.0


@keras.saving.register_keras_serializable(package="hgzoo")
class DualPixelLoss(keras.losses.Loss):
    """``image_weight·(L1|MSE)(image) + disparity_weight·L1(disparity, where finite) + reblur_weight·reblur``.

    ``y_true`` and ``y_pred`` are (B, H, W, 4): image channels 0-2, disparity
    channel 3 (NaN in ``y_true`` where unknown, e.g. real captures). The
    reblur term (added by :class:`DDDNet`'s ``compute_loss``, which has the
    inputs) re-renders L and R from the predicted image and disparity through
    :func:`~hgzoo.dualpixel.simulate.render_dual_pixel` and takes the L1 to
    the input views: it needs no ground truth, so real captures can fine-tune.

    Example:

    >>> import numpy as np
    >>> y = np.random.rand(2, 8, 8, 4).astype("float32")
    >>> float(DualPixelLoss()(y, y))
    0.0
    """

    def __init__(self, image_loss="l1", image_weight=1.0, disparity_weight=0.1, reblur_weight=0.1,
                 max_disparity=12, name="dual_pixel_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        if image_loss not in ("l1", "mse"):
            raise ValueError(f"image_loss must be 'l1' or 'mse', got {image_loss!r}")
        self.image_loss = image_loss
        self.image_weight = image_weight
        self.disparity_weight = disparity_weight
        self.reblur_weight = reblur_weight
        self.max_disparity = max_disparity

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "float32")
        y_pred = ops.cast(y_pred, "float32")
        diff = y_pred[..., :3] - y_true[..., :3]
        image = ops.abs(diff) if self.image_loss == "l1" else ops.square(diff)
        loss = self.image_weight * ops.mean(image, axis=(1, 2, 3))
        if self.disparity_weight:
            known = ops.isfinite(y_true[..., 3])
            target = ops.where(known, y_true[..., 3], 0.0)
            err = ops.where(known, ops.abs(y_pred[..., 3] - target), 0.0)
            count = ops.maximum(ops.sum(ops.cast(known, "float32"), axis=(1, 2)), 1.0)
            loss = loss + self.disparity_weight * ops.sum(err, axis=(1, 2)) / count
        return loss

    def reblur(self, left, right, y_pred):
        """Weighted L1 between the input views and the views re-rendered from the prediction."""
        y_pred = ops.cast(y_pred, "float32")
        radius = radius_from_disparity(y_pred[..., 3], self.max_disparity)
        max_radius = int(math.ceil((self.max_disparity - 1) / 2.0))
        image = ops.clip(y_pred[..., :3], 0.0, 1.0)
        re_left, re_right = render_dual_pixel(image, radius, max_radius=max_radius)
        err = ops.mean(ops.abs(re_left - ops.cast(left, "float32"))) + \
            ops.mean(ops.abs(re_right - ops.cast(right, "float32")))
        return self.reblur_weight * 0.5 * err

    def get_config(self):
        return {**super().get_config(), "image_loss": self.image_loss, "image_weight": self.image_weight,
                "disparity_weight": self.disparity_weight, "reblur_weight": self.reblur_weight,
                "max_disparity": self.max_disparity}
