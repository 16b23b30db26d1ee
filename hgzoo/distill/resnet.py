"""ResNet-18 with instance norm and a 3×3 stem: IID's pre-trained embedding network and a cross-architecture
evaluation network (``papers.md`` §13)."""

import keras

from hgzoo.distill.base import DistillNet, conv, instance_norm, torch_default_init
from hgzoo.registry import register_model


def _basic_block(x, filters, stride, name, dtype):
    shortcut = x
    y = conv(x, filters, f"{name}_conv1", dtype, strides=stride, use_bias=False)
    y = keras.layers.ReLU(name=f"{name}_relu1", dtype=dtype)(instance_norm(y, f"{name}_norm1", dtype))
    y = instance_norm(conv(y, filters, f"{name}_conv2", dtype, use_bias=False), f"{name}_norm2", dtype)
    if stride != 1 or x.shape[-1] != filters:
        shortcut = conv(x, filters, f"{name}_shortcut", dtype, kernel=1, strides=stride, use_bias=False)
        shortcut = instance_norm(shortcut, f"{name}_shortcut_norm", dtype)
    y = keras.layers.Add(name=f"{name}_add", dtype=dtype)([y, shortcut])
    return keras.layers.ReLU(name=f"{name}_relu2", dtype=dtype)(y)


@register_model(task="distill", name="resnet18")
class ResNet18(DistillNet):
    """ResNet-18 of DC/DM/IID: 3×3 stem (no max-pool), four stages of two basic blocks, GroupNorm(C, C).

    Stage widths are ``width`` × (1, 2, 4, 8) (64 → 64-512 as published),
    strides (1, 2, 2, 2), global average pool, linear. ``embed`` gives the
    pooled feature (512) and the last stage's local map.

    Args:
        num_classes: logits (10).
        width: the stem's and first stage's channels (64).
        image_size: (H, W) of the standardised input (32, 32).
        channels: 3 or 1.

    Example:

    >>> import numpy as np, hgzoo
    >>> net = hgzoo.distill.ResNet18(width=4)
    >>> tuple(net(np.zeros((1, 32, 32, 3), "float32")).shape)
    (1, 10)
    """

    def __init__(self, num_classes=10, width=64, image_size=(32, 32), channels=3, name="resnet18", dtype=None,
                 **kwargs):
        image_size = tuple(int(s) for s in image_size)
        inputs = keras.Input((*image_size, int(channels)), name="images")
        x = conv(inputs, int(width), "stem_conv", dtype, use_bias=False)
        x = keras.layers.ReLU(name="stem_relu", dtype=dtype)(instance_norm(x, "stem_norm", dtype))
        for stage, (multiple, stride) in enumerate(zip((1, 2, 4, 8), (1, 2, 2, 2))):
            for block in range(2):
                x = _basic_block(x, int(width) * multiple, stride if block == 0 else 1,
                                 f"stage{stage + 1}_block{block + 1}", dtype)
        x = keras.layers.Identity(name="local", dtype=dtype)(x)
        feature = keras.layers.GlobalAveragePooling2D(name="feature", dtype=dtype)(x)
        logits = keras.layers.Dense(int(num_classes), kernel_initializer=torch_default_init(), name="logits",
                                    dtype="float32")(feature)
        super().__init__(inputs=inputs, outputs=logits, name=name, dtype=dtype, **kwargs)
        self._finish({"num_classes": int(num_classes), "width": int(width), "image_size": list(image_size),
                      "channels": int(channels)})
