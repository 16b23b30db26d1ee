"""Width-scaled, channel-configurable DMPHN encoder/decoder and DDDNet's BN-conv blocks."""

import keras

from hgzoo.api_export import hgzoo_export
from hgzoo.deblur import DMPHNDecoder, DMPHNEncoder


def scaled(channels, width):
    """``channels·width`` rounded, at least 4 (width 1 is the published network)."""
    return max(4, int(round(channels * width)))


def _scaled_spec(spec, width, out_channels=None):
    rows = [(kind, name, scaled(c, width)) for kind, name, c in spec]
    if out_channels is not None:
        kind, name, _ = rows[-1]
        rows[-1] = (kind, name, out_channels)
    return tuple(rows)


@hgzoo_export
class WideDMPHNEncoder(DMPHNEncoder):
    """:class:`hgzoo.deblur.DMPHNEncoder` with its channel widths scaled by ``width`` (any input channels).

    Layer names are DMPHN's, so the authors' checkpoints map by name at ``width=1``.

    Example:

    >>> import numpy as np
    >>> tuple(WideDMPHNEncoder(width=0.25)(np.zeros((1, 16, 16, 7), "float32")).shape)
    (1, 4, 4, 32)
    """

    def __init__(self, width=1.0, **kwargs):
        object.__setattr__(self, "spec", _scaled_spec(DMPHNEncoder.spec, width))
        super().__init__(**kwargs)
        self.width = width

    def compute_output_shape(self, input_shape):
        return super().compute_output_shape(input_shape)[:3] + (self.spec[-1][2],)

    def get_config(self):
        return {**super().get_config(), "width": self.width}


@hgzoo_export
class WideDMPHNDecoder(DMPHNDecoder):
    """:class:`hgzoo.deblur.DMPHNDecoder` with widths scaled by ``width`` and ``out_channels`` outputs.

    Example:

    >>> import numpy as np
    >>> tuple(WideDMPHNDecoder(width=0.25, out_channels=7)(np.zeros((1, 4, 4, 32), "float32")).shape)
    (1, 16, 16, 7)
    """

    def __init__(self, width=1.0, out_channels=3, **kwargs):
        object.__setattr__(self, "spec", _scaled_spec(DMPHNDecoder.spec, width, out_channels))
        super().__init__(**kwargs)
        self.width = width
        self.out_channels = out_channels

    def compute_output_shape(self, input_shape):
        return super().compute_output_shape(input_shape)[:3] + (self.out_channels,)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "out_channels": self.out_channels}


def basic_conv(x, channels, name, dilation=1, strides=1, three_d=False, relu=True, dtype=None):
    """PSMNet-style ``convbn`` (+ReLU): bias-free conv (PyTorch padding), BatchNorm, ReLU."""
    conv, pad = (keras.layers.Conv3D, keras.layers.ZeroPadding3D) if three_d else \
        (keras.layers.Conv2D, keras.layers.ZeroPadding2D)
    if strides == 1:
        x = conv(channels, 3, padding="same", dilation_rate=dilation, use_bias=False, name=f"{name}_conv",
                 dtype=dtype)(x)
    else:  # PyTorch pads 1 on every side; Keras "same" with stride 2 would pad 0 before, 1 after.
        x = pad(1, name=f"{name}_pad", dtype=dtype)(x)
        x = conv(channels, 3, strides=strides, padding="valid", use_bias=False, name=f"{name}_conv", dtype=dtype)(x)
    x = keras.layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name=f"{name}_bn", dtype=dtype)(x)
    return keras.layers.ReLU(name=f"{name}_relu", dtype=dtype)(x) if relu else x
