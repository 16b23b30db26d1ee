"""VGG-11 with instance norm: a cross-architecture evaluation network of DC/DM/IID (``papers.md`` §13)."""

import keras

from hgzoo.distill.base import DistillNet, conv, instance_norm, torch_default_init
from hgzoo.registry import register_model

# VGG-11's stages in units of `width`: conv widths, then a max-pool after each stage.
STAGES = ((1,), (2,), (4, 4), (8, 8), (8, 8))


@register_model(task="distill", name="vgg11")
class VGG11(DistillNet):
    """VGG-11 of DC/DM: [64] M [128] M [256 256] M [512 512] M [512 512] M, each conv + GroupNorm(C, C) + ReLU.

    Widths scale with ``width`` (64 as published; smaller for a "small"
    VGG-11 on CPU); 32×32 inputs end at 1×1 after five max-pools; one linear
    classifier. ``embed`` gives the flat feature and the last stage's map.

    Args:
        num_classes: logits (10).
        width: channels of the first conv (64).
        image_size: (H, W), at least 32 (five pools).
        channels: 3 or 1.

    Example:

    >>> import numpy as np, hgzoo
    >>> net = hgzoo.distill.VGG11(width=4)
    >>> tuple(net(np.zeros((1, 32, 32, 3), "float32")).shape)
    (1, 10)
    """

    def __init__(self, num_classes=10, width=64, image_size=(32, 32), channels=3, name="vgg11", dtype=None,
                 **kwargs):
        image_size = tuple(int(s) for s in image_size)
        if min(image_size) < 32:
            raise ValueError(f"VGG-11's five max-pools need images of at least 32 pixels, got {image_size}")
        inputs = keras.Input((*image_size, int(channels)), name="images")
        x = inputs
        for s, stage in enumerate(STAGES):
            for c, multiple in enumerate(stage):
                x = conv(x, int(width) * multiple, f"stage{s + 1}_conv{c + 1}", dtype)
                x = keras.layers.ReLU(name=f"stage{s + 1}_relu{c + 1}", dtype=dtype)(
                    instance_norm(x, f"stage{s + 1}_norm{c + 1}", dtype))
            x = keras.layers.MaxPooling2D(2, name="local" if s == len(STAGES) - 1 else f"stage{s + 1}_pool",
                                          dtype=dtype)(x)
        feature = keras.layers.Flatten(name="feature", dtype=dtype)(x)
        logits = keras.layers.Dense(int(num_classes), kernel_initializer=torch_default_init(), name="logits",
                                    dtype="float32")(feature)
        super().__init__(inputs=inputs, outputs=logits, name=name, dtype=dtype, **kwargs)
        self._finish({"num_classes": int(num_classes), "width": int(width), "image_size": list(image_size),
                      "channels": int(channels)})
