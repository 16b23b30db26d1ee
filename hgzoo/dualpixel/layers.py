"""The parameter-free and small layers of DDDNet (papers.md §12): cost volume, resizes, soft-argmin, CAM."""

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export


def resize_axis(x, axis, size, align_corners):
    """Linear interpolation of ``x`` along ``axis`` to ``size`` samples (PyTorch's two conventions)."""
    n = ops.shape(x)[axis]
    nf = ops.cast(n, "float32")
    j = ops.cast(ops.arange(size), "float32")
    if align_corners:
        pos = j * (nf - 1.0) / ops.maximum(ops.cast(size, "float32") - 1.0, 1.0)
    else:
        pos = ops.clip((j + 0.5) * nf / ops.cast(size, "float32") - 0.5, 0.0, nf - 1.0)
    lo = ops.floor(pos)
    frac = pos - lo
    lo = ops.cast(lo, "int32")
    hi = ops.minimum(lo + 1, ops.cast(n, "int32") - 1)
    shape = [1] * len(x.shape)
    shape[axis] = -1
    frac = ops.cast(ops.reshape(frac, shape), x.dtype)
    return ops.take(x, lo, axis=axis) * (1.0 - frac) + ops.take(x, hi, axis=axis) * frac


@hgzoo_export
class CostVolume(keras.layers.Layer):
    """DDDNet's concatenation cost volume: (B, H, W, C) × 2 -> (B, shifts, H, W, 2C).

    For shift ``i`` the columns ``i:`` hold ``[left[..., i:], right[..., :-i]]``;
    the first ``i`` columns are zeros (the official code leaves them uninitialised).

    Example:

    >>> import numpy as np
    >>> out = np.asarray(CostVolume(4)([np.ones((1, 2, 5, 3)), np.ones((1, 2, 5, 3))]))
    >>> out.shape, float(out[0, 3, :, :3].sum()), float(out[0, 3, :, 3:].min())
    ((1, 4, 2, 5, 6), 0.0, 1.0)
    """

    def __init__(self, shifts=4, **kwargs):
        super().__init__(**kwargs)
        self.shifts = shifts

    def call(self, inputs):
        left, right = inputs
        planes = [ops.concatenate([left, right], axis=-1)]
        for i in range(1, self.shifts):
            pair = ops.concatenate([left[:, :, i:], right[:, :, :-i]], axis=-1)
            planes.append(ops.pad(pair, ((0, 0), (0, 0), (i, 0), (0, 0))))
        return ops.stack(planes, axis=1)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape[0]
        return (b, self.shifts, h, w, None if c is None else 2 * c)

    def get_config(self):
        return {**super().get_config(), "shifts": self.shifts}


@hgzoo_export
class AlignedResize(keras.layers.Layer):
    """Multilinear resize of the axes after the batch (PyTorch ``interpolate``), to a factor or another tensor's size.

    ``factors``: one integer factor per resized axis (``None`` keeps the axis),
    or ``None`` to take the sizes from a second input ``like``. ``fixed``
    overrides single axes with a constant size (e.g. ``{1: 12}`` disparities).

    Example:

    >>> import numpy as np
    >>> x = np.arange(2.0).reshape(1, 1, 2, 1)
    >>> [round(float(v), 4) for v in np.asarray(AlignedResize(factors=(1, 2), align_corners=True)(x))[0, 0, :, 0]]
    [0.0, 0.3333, 0.6667, 1.0]
    """

    def __init__(self, factors=None, align_corners=True, fixed=None, **kwargs):
        super().__init__(**kwargs)
        self.factors = None if factors is None else tuple(factors)
        self.align_corners = align_corners
        self.fixed = {int(k): int(v) for k, v in (fixed or {}).items()}

    def call(self, inputs):
        x, like = (inputs if isinstance(inputs, (list, tuple)) else (inputs, None))
        n_axes = len(x.shape) - 2
        for axis in range(1, n_axes + 1):
            if axis in self.fixed:
                size = self.fixed[axis]
            elif like is not None:
                size = ops.shape(like)[axis]
            elif self.factors is None or self.factors[axis - 1] in (None, 1):
                continue
            else:
                size = ops.shape(x)[axis] * self.factors[axis - 1]
            x = resize_axis(x, axis, size, self.align_corners)
        return x

    def get_config(self):
        return {**super().get_config(), "factors": self.factors, "align_corners": self.align_corners,
                "fixed": {str(k): v for k, v in self.fixed.items()}}


@hgzoo_export
class SoftArgmin(keras.layers.Layer):
    """Expected disparity under softmin of a cost: (B, D, H, W[, 1]) -> (B, H, W, 1), ``Σ d·softmax(−cost)_d``.

    Example:

    >>> import numpy as np
    >>> cost = np.zeros((1, 12, 1, 1)); cost[0, 3] = -50.0
    >>> round(float(np.asarray(SoftArgmin()(cost)).squeeze()), 3)
    3.0
    """

    def call(self, cost):
        cost = ops.cast(cost, "float32")
        if len(cost.shape) == 5:
            cost = cost[..., 0]
        p = ops.softmax(-cost, axis=1)
        d = ops.reshape(ops.arange(ops.shape(cost)[1], dtype="float32"), (1, -1, 1, 1))
        return ops.sum(p * d, axis=1)[..., None]


@hgzoo_export
class ChannelAttention(keras.layers.Layer):
    """DANet's channel attention (CAM): ``γ·(A X) + X``, ``A = softmax(max E − E)``, ``E = X Xᵀ``, γ starts at 0.

    Computed in float32 (the Gram matrix overflows float16).

    Example:

    >>> import numpy as np
    >>> x = np.random.rand(1, 4, 4, 8).astype("float32")
    >>> bool(np.allclose(ChannelAttention()(x), x))  # γ = 0 at the start
    True
    """

    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(1,), initializer="zeros", name="gamma")

    def call(self, x):
        dtype = x.dtype
        x32 = ops.cast(x, "float32")
        b, h, w, c = ops.shape(x32)[0], ops.shape(x32)[1], ops.shape(x32)[2], x32.shape[-1]
        flat = ops.reshape(x32, (b, h * w, c))  # X as (N, C); E = Xᵀ X over channels
        energy = ops.einsum("bnc,bnd->bcd", flat, flat)
        attention = ops.softmax(ops.max(energy, axis=-1, keepdims=True) - energy, axis=-1)
        out = ops.einsum("bcd,bnd->bnc", attention, flat)
        y = ops.cast(self.gamma, "float32") * ops.reshape(out, ops.shape(x32)) + x32
        return ops.cast(y, dtype)
