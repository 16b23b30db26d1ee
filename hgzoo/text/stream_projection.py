"""StreamProjection: one dense projection per embedding stream, applied in a single einsum."""

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export


@hgzoo_export
class StreamProjection(keras.layers.Layer):
    """(B, L, D) -> (B, L, units): stream l gets its own ``Dense(units)`` (weights L×D×units).

    LLMEmbed projects each layer's embedding with a separate linear layer;
    this holds those L layers as one kernel, so they run as one product.

    Example:

    >>> import numpy as np
    >>> layer = StreamProjection(4, activation="relu")
    >>> tuple(layer(np.ones((2, 3, 5), "float32")).shape), layer.count_params()
    ((2, 3, 4), 72)
    """

    def __init__(self, units, activation=None, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[1] is None or input_shape[2] is None:
            raise ValueError(f"StreamProjection needs (B, L, D) input with known L and D, got {input_shape}")
        streams, dim = input_shape[1], input_shape[2]
        self.kernel = self.add_weight(name="kernel", shape=(streams, dim, self.units),
                                      initializer=self.kernel_initializer)
        self.bias = self.add_weight(name="bias", shape=(streams, self.units), initializer="zeros")

    def call(self, inputs):
        y = ops.einsum("bld,ldu->blu", inputs, ops.cast(self.kernel, inputs.dtype))
        return self.activation(y + ops.cast(self.bias, inputs.dtype))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}
