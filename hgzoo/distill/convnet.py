"""ConvNet-3: the distillation network of DC, DM, IDM and IID (``papers.md`` §13)."""

import keras

from hgzoo.distill.base import DistillNet, conv, instance_norm, torch_default_init
from hgzoo.registry import register_model


@register_model(task="distill", name="convnet")
class ConvNet(DistillNet):
    """ConvNet-D: ``depth`` × [Conv(k3, p1) → GroupNorm(C, C) → ReLU → AvgPool2], flatten, linear.

    The official ``ConvNet`` (net_width 128, net_depth 3, instancenorm,
    avgpooling) used to match distributions (a fresh random one every
    iteration), as the embedding network of the centralisation term, and as
    the evaluation network. ``embed`` gives the flat feature (2048 for
    32×32 inputs) and the local map (N, 128, 16).

    Args:
        num_classes: logits (10 for CIFAR-10).
        width: channels of every conv (128).
        depth: blocks (3).
        image_size: (H, W) of the standardised input (32, 32).
        channels: 3 (RGB) or 1.

    Example:

    >>> import numpy as np, hgzoo
    >>> net = hgzoo.distill.ConvNet(width=8)
    >>> tuple(net(np.zeros((2, 32, 32, 3), "float32")).shape)
    (2, 10)
    """

    def __init__(self, num_classes=10, width=128, depth=3, image_size=(32, 32), channels=3, name="convnet",
                 dtype=None, **kwargs):
        image_size = tuple(int(s) for s in image_size)
        if min(image_size) < 2 ** int(depth):
            raise ValueError(f"{depth} average pools need images of at least {2 ** int(depth)} pixels, "
                             f"got image_size={image_size}")
        inputs = keras.Input((*image_size, int(channels)), name="images")
        x = inputs
        for i in range(int(depth)):
            x = conv(x, int(width), f"block{i + 1}_conv", dtype)
            x = instance_norm(x, f"block{i + 1}_norm", dtype)
            x = keras.layers.ReLU(name=f"block{i + 1}_relu", dtype=dtype)(x)
            x = keras.layers.AveragePooling2D(2, name=f"block{i + 1}_pool" if i < depth - 1 else "local",
                                              dtype=dtype)(x)
        feature = keras.layers.Flatten(name="feature", dtype=dtype)(x)
        logits = keras.layers.Dense(int(num_classes), kernel_initializer=torch_default_init(), name="logits",
                                    dtype="float32")(feature)
        super().__init__(inputs=inputs, outputs=logits, name=name, dtype=dtype, **kwargs)
        self._finish({"num_classes": int(num_classes), "width": int(width), "depth": int(depth),
                      "image_size": list(image_size), "channels": int(channels)})
