"""PatchSplit / PatchMerge: a grid of patches stacked on the batch axis, and back."""

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export


def _check_grid(rows, cols):
    if int(rows) < 1 or int(cols) < 1:
        raise ValueError(f"patch grid must be at least 1x1, got {rows}x{cols}")
    return int(rows), int(cols)


def _check_divisible(size, parts, axis, layer):
    if isinstance(size, int) and size % parts:
        raise ValueError(
            f"{layer}: {axis} {size} is not divisible by {parts}; pad the input to a multiple "
            f"of {parts} (hgzoo.deblur.deblur pads and crops for you)"
        )


class _PatchGrid(keras.layers.Layer):
    def __init__(self, rows, cols, **kwargs):
        super().__init__(**kwargs)
        self.rows, self.cols = _check_grid(rows, cols)

    def _static(self, x):
        """Concrete dims where known (eager, or static shape), else None."""
        return [d if isinstance(d, int) else None for d in x.shape]

    def get_config(self):
        config = super().get_config()
        config.update(rows=self.rows, cols=self.cols)
        return config


@hgzoo_export
class PatchSplit(_PatchGrid):
    """Split (B, H, W, C) into rows×cols equal patches stacked on the batch axis.

    The output is (rows·cols·B, H/rows, W/cols, C), patch-major: entry
    ``p·B + b`` is patch ``p`` (row-major: ``p = r·cols + c``) of image ``b``.
    One shared encoder call then processes every patch, and splits nest: a
    (1, 2) split of a (2, 1) split gives the four quadrants ordered so that a
    (1, 2) merge rebuilds the two halves. :class:`PatchMerge` is the exact
    inverse. H must be divisible by rows and W by cols.

    Example:

    >>> import numpy as np
    >>> from hgzoo.layers import PatchSplit, PatchMerge
    >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    >>> p = PatchSplit(2, 2)(x)
    >>> tuple(p.shape)
    (4, 2, 2, 1)
    >>> bool((PatchMerge(2, 2)(p).numpy() == x).all())
    True
    """

    def call(self, inputs):
        _, h, w, _ = self._static(inputs)
        _check_divisible(h, self.rows, "height", "PatchSplit")
        _check_divisible(w, self.cols, "width", "PatchSplit")
        if self.rows == self.cols == 1:
            return inputs
        shape = ops.shape(inputs)
        b, h, w, c = shape[0], shape[1], shape[2], shape[3]
        ph, pw = h // self.rows, w // self.cols
        x = ops.reshape(inputs, (b, self.rows, ph, self.cols, pw, c))
        x = ops.transpose(x, (1, 3, 0, 2, 4, 5))
        return ops.reshape(x, (self.rows * self.cols * b, ph, pw, c))

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        _check_divisible(h, self.rows, "height", "PatchSplit")
        _check_divisible(w, self.cols, "width", "PatchSplit")
        n = self.rows * self.cols
        return (None if b is None else b * n, None if h is None else h // self.rows,
                None if w is None else w // self.cols, c)


@hgzoo_export
class PatchMerge(_PatchGrid):
    """Inverse of :class:`PatchSplit`: (rows·cols·B, h, w, C) -> (B, rows·h, cols·w, C).

    Example:

    >>> import numpy as np
    >>> from hgzoo.layers import PatchMerge
    >>> tuple(PatchMerge(1, 2)(np.zeros((4, 3, 3, 8), "float32")).shape)
    (2, 3, 6, 8)
    """

    def call(self, inputs):
        n = self.rows * self.cols
        b = self._static(inputs)[0]
        if b is not None and b % n:
            raise ValueError(f"PatchMerge({self.rows}, {self.cols}): batch {b} is not a multiple of {n}")
        if n == 1:
            return inputs
        shape = ops.shape(inputs)
        b, ph, pw, c = shape[0] // n, shape[1], shape[2], shape[3]
        x = ops.reshape(inputs, (self.rows, self.cols, b, ph, pw, c))
        x = ops.transpose(x, (2, 0, 3, 1, 4, 5))
        return ops.reshape(x, (b, self.rows * ph, self.cols * pw, c))

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        n = self.rows * self.cols
        return (None if b is None else b // n, None if h is None else h * self.rows,
                None if w is None else w * self.cols, c)
