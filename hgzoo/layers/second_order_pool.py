"""SecondOrderPool: channel co-occurrence of a feature map."""

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export

KINDS = ("autocorrelation", "covariance")


@hgzoo_export
class SecondOrderPool(keras.layers.Layer):
    """Second-order pooling (B, H, W, C) -> (B, C, C) over the N = H·W positions.

    - ``"autocorrelation"``: M = (1/N)·XᵀX (SoSN's choice; not mean-centred);
    - ``"covariance"``: the per-channel mean is subtracted first.

    With ``trace_normalize=True`` the result is divided by trace(M) + epsilon,
    so its eigenvalues lie in [0, 1]: the input spectral MaxExp expects. Any H
    and W work (multi-scale inputs); inputs of rank 3 (B, N, C) are taken as
    N positions already flattened. The products run in float32 and the result
    is cast to the layer's compute dtype.

    Example:

    >>> import numpy as np
    >>> from hgzoo.layers import SecondOrderPool
    >>> x = np.ones((2, 4, 5, 3), "float32")
    >>> tuple(SecondOrderPool()(x).shape)
    (2, 3, 3)
    """

    def __init__(self, kind="autocorrelation", trace_normalize=False, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        if kind not in KINDS:
            raise ValueError(f"SecondOrderPool kind must be one of {KINDS}, got {kind!r}")
        self.kind = kind
        self.trace_normalize = bool(trace_normalize)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        if len(input_shape) not in (3, 4):
            raise ValueError(f"SecondOrderPool needs (B, H, W, C) or (B, N, C) input, got shape {input_shape}")

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        channels = ops.shape(x)[-1]
        x = ops.reshape(x, (ops.shape(x)[0], -1, channels))
        n = ops.cast(ops.shape(x)[1], "float32")
        if self.kind == "covariance":
            x = x - ops.mean(x, axis=1, keepdims=True)
        m = ops.matmul(ops.swapaxes(x, 1, 2), x) / n
        if self.trace_normalize:
            trace = ops.trace(m, axis1=-2, axis2=-1)
            m = m / (ops.reshape(trace, (-1, 1, 1)) + self.epsilon)
        return ops.cast(m, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1], input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(kind=self.kind, trace_normalize=self.trace_normalize, epsilon=self.epsilon)
        return config
