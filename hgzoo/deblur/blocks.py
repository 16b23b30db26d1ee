"""DMPHN's encoder and decoder, layer for layer as in the authors' ``models.py``.

Sub-layer names follow the PyTorch state-dict keys (``layer2.0`` becomes
``layer2_0``) so the checkpoint converter is a plain name lookup.
"""

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export

# (kind, name, channels): "conv" k3 s1, "down" k3 s2 p1, "up" ConvTranspose k4 s2 p1,
# "rb" residual block conv-relu-conv with identity skip.
ENCODER_SPEC = (
    ("conv", "layer1", 32), ("rb", "layer2", 32), ("rb", "layer3", 32),
    ("down", "layer5", 64), ("rb", "layer6", 64), ("rb", "layer7", 64),
    ("down", "layer9", 128), ("rb", "layer10", 128), ("rb", "layer11", 128),
)
DECODER_SPEC = (
    ("rb", "layer13", 128), ("rb", "layer14", 128), ("up", "layer16", 64),
    ("rb", "layer17", 64), ("rb", "layer18", 64), ("up", "layer20", 32),
    ("rb", "layer21", 32), ("rb", "layer22", 32), ("conv", "layer24", 3),
)

# N(0, 0.5·2/n) with n = k²·out_channels, the authors' initialisation. Keras'
# transposed-conv kernel is (k, k, out, in), so there "fan_in" counts k²·out.
_CONV_INIT = keras.initializers.VarianceScaling(0.5, "fan_out", "untruncated_normal")
_UP_INIT = keras.initializers.VarianceScaling(0.5, "fan_in", "untruncated_normal")


class _ConvStack(keras.layers.Layer):
    spec = ()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.convs = {}
        for kind, name, channels in self.spec:
            common = dict(dtype=self.dtype_policy, bias_initializer="zeros")
            if kind == "rb":
                for part in ("0", "2"):
                    self.convs[f"{name}_{part}"] = keras.layers.Conv2D(
                        channels, 3, padding="same", kernel_initializer=_CONV_INIT,
                        name=f"{name}_{part}", **common)
            elif kind == "up":
                self.convs[name] = keras.layers.Conv2DTranspose(
                    channels, 4, strides=2, padding="same", kernel_initializer=_UP_INIT,
                    name=name, **common)
            else:
                self.convs[name] = keras.layers.Conv2D(
                    channels, 3, strides=2 if kind == "down" else 1,
                    padding="valid" if kind == "down" else "same",
                    kernel_initializer=_CONV_INIT, name=name, **common)

    def build(self, input_shape):
        channels = input_shape[-1]
        for kind, name, out_channels in self.spec:
            names = (f"{name}_0", f"{name}_2") if kind == "rb" else (name,)
            for conv_name in names:
                self.convs[conv_name].build((None, None, None, channels))
            channels = out_channels

    def call(self, x):
        for kind, name, _ in self.spec:
            if kind == "rb":
                h = ops.relu(self.convs[f"{name}_0"](x))
                x = self.convs[f"{name}_2"](h) + x
            elif kind == "down":
                # PyTorch pads 1 on every side; Keras "same" would pad 0 before, 1 after.
                x = self.convs[name](ops.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))))
            else:
                x = self.convs[name](x)
        return x

    def assign_torch(self, state_dict):
        """Set every weight from a PyTorch state dict of this module; all keys must be used."""
        expected = set()
        for conv_name, layer in self.convs.items():
            key = conv_name.replace("_", ".")
            weight = state_dict[f"{key}.weight"]
            # Conv (out,in,kh,kw) and ConvTranspose (in,out,kh,kw) both map to Keras by (2,3,1,0).
            layer.kernel.assign(weight.transpose(2, 3, 1, 0))
            layer.bias.assign(state_dict[f"{key}.bias"])
            expected |= {f"{key}.weight", f"{key}.bias"}
        unused = set(state_dict) - expected
        if unused:
            raise ValueError(f"{self.name}: checkpoint tensors not used: {sorted(unused)}")


@hgzoo_export
class DMPHNEncoder(_ConvStack):
    """DMPHN's patch encoder: (B, H, W, 3) -> (B, H/4, W/4, 128); H, W multiples of 4.

    Conv 3→32, two residual blocks, stride-2 conv to 64, two residual blocks,
    stride-2 conv to 128, two residual blocks; ReLU only inside residual
    blocks, no normalisation.

    Example:

    >>> import numpy as np
    >>> from hgzoo.deblur import DMPHNEncoder
    >>> tuple(DMPHNEncoder()(np.zeros((1, 16, 24, 3), "float32")).shape)
    (1, 4, 6, 128)
    """

    spec = ENCODER_SPEC

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape
        quarter = lambda n: None if n is None else (n + 3) // 4  # noqa: E731
        return (b, quarter(h), quarter(w), 128)


@hgzoo_export
class DMPHNDecoder(_ConvStack):
    """DMPHN's decoder: (B, h, w, 128) -> (B, 4h, 4w, 3), two transposed convs.

    Example:

    >>> import numpy as np
    >>> from hgzoo.deblur import DMPHNDecoder
    >>> tuple(DMPHNDecoder()(np.zeros((1, 4, 6, 128), "float32")).shape)
    (1, 16, 24, 3)
    """

    spec = DECODER_SPEC

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape
        return (b, None if h is None else 4 * h, None if w is None else 4 * w, 3)
