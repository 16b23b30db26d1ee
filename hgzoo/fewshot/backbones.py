"""Few-shot backbones as functions that add their layers to a functional graph.

- ``conv4``: SoSN's FeatureEncoder (``papers.md`` §3): blocks 1-2 are
  Conv(k3, no padding) + BN + ReLU + MaxPool2, blocks 3-4 Conv(k3, padding 1)
  + BN + ReLU. 28×28 -> 5×5, 84×84 -> 19×19.
- ``resnet12``: the common few-shot ResNet-12: four residual blocks of three
  Conv(k3) + BN + LeakyReLU(0.1) with a 1×1 projection shortcut, each
  followed by MaxPool2.

Convolutions start from N(0, 2/n) with n = k²·out, as the SoSN code does.
``norm(x, name)`` replaces conv4's BatchNorm (default: Keras'
BatchNormalization, momentum 0.9); SalNet passes per-group batch statistics
(:mod:`hgzoo.fewshot.batch_norm`); the layers are named ``<prefix>1_conv``,
``<prefix>1_bn``, ... either way.

Example:

>>> import keras
>>> from hgzoo.fewshot.backbones import apply_backbone
>>> x = keras.Input((28, 28, 1))
>>> tuple(apply_backbone("conv4", x, filters=64).shape)
(None, 5, 5, 64)
"""

import keras

BACKBONES = ("conv4", "resnet12")
DEFAULT_FILTERS = {"conv4": 64, "resnet12": (64, 128, 256, 512)}


def conv_init():
    return keras.initializers.VarianceScaling(2.0, mode="fan_out", distribution="untruncated_normal")


def keras_batch_norm(dtype=None):
    """The default ``norm(x, name)``: Keras' BatchNormalization with momentum 0.9."""
    return lambda x, name: keras.layers.BatchNormalization(momentum=0.9, name=name, dtype=dtype)(x)


def conv_bn(x, filters, padding, name, dtype, kernel=3, norm=None):
    x = keras.layers.Conv2D(filters, kernel, padding=padding, kernel_initializer=conv_init(), name=f"{name}_conv",
                            dtype=dtype)(x)
    return (norm or keras_batch_norm(dtype))(x, f"{name}_bn")


def conv4(x, filters=64, prefix="encoder", dtype=None, norm=None):
    for i in range(4):
        x = conv_bn(x, filters, "valid" if i < 2 else "same", f"{prefix}{i + 1}", dtype, norm=norm)
        x = keras.layers.ReLU(name=f"{prefix}{i + 1}_relu", dtype=dtype)(x)
        if i < 2:
            x = keras.layers.MaxPooling2D(2, name=f"{prefix}{i + 1}_pool", dtype=dtype)(x)
    return x


def resnet12(x, filters=(64, 128, 256, 512), prefix="encoder", dtype=None):
    if len(filters) != 4:
        raise ValueError(f"resnet12 needs 4 block widths, got {filters}")
    for i, width in enumerate(filters):
        name = f"{prefix}{i + 1}"
        shortcut = conv_bn(x, width, "same", f"{name}_shortcut", dtype, kernel=1)
        for j in range(3):
            x = conv_bn(x, width, "same", f"{name}_{j + 1}", dtype)
            if j < 2:
                x = keras.layers.LeakyReLU(0.1, name=f"{name}_{j + 1}_relu", dtype=dtype)(x)
        x = keras.layers.Add(name=f"{name}_add", dtype=dtype)([x, shortcut])
        x = keras.layers.LeakyReLU(0.1, name=f"{name}_relu", dtype=dtype)(x)
        x = keras.layers.MaxPooling2D(2, name=f"{name}_pool", dtype=dtype)(x)
    return x


def apply_backbone(name, x, filters=None, dtype=None):
    """Run backbone ``name`` on images ``x`` (batch, h, w, c); ``filters`` None uses its default widths."""
    if name not in BACKBONES:
        raise ValueError(f"backbone must be one of {BACKBONES}, got {name!r}")
    filters = DEFAULT_FILTERS[name] if filters is None else filters
    if name == "conv4":
        return conv4(x, int(filters), dtype=dtype)
    return resnet12(x, tuple(int(f) for f in filters), dtype=dtype)
