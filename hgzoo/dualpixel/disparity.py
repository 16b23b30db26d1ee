"""DDDNet's defocus-disparity estimator ``Estd`` (``YRStereonet_3D``, papers.md §12)."""

import keras

from hgzoo.dualpixel.blocks import basic_conv, scaled
from hgzoo.dualpixel.layers import AlignedResize, CostVolume, SoftArgmin
from hgzoo.models.base import ZooModel
from hgzoo.models.search_space import Choice
from hgzoo.registry import register_model

MIN_SIZE = 64  # the 64×64 average-pooling branch needs at least one window


def view_inputs(names=("left", "right")):
    return [keras.Input((None, None, 3), name=n) for n in names]


def feature_tower(width, dtype):
    """The shared ``Feature`` network: a function of one view, its layers built once."""
    image = keras.Input((None, None, 3))
    x = basic_conv(image, scaled(32, width), "conv1", dtype=dtype)
    x = basic_conv(x, scaled(64, width), "conv2", dtype=dtype)
    x = basic_conv(x, scaled(128, width), "conv3", dilation=4, dtype=dtype)
    x = basic_conv(x, scaled(128, width), "conv4", dilation=8, dtype=dtype)
    branches = []
    for size in (64, 16):
        b = keras.layers.AveragePooling2D(size, name=f"pool{size}", dtype=dtype)(x)
        b = keras.layers.Conv2D(scaled(32, width), 1, use_bias=False, name=f"branch{size}_conv", dtype=dtype)(b)
        b = keras.layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name=f"branch{size}_bn", dtype=dtype)(b)
        b = keras.layers.ReLU(dtype=dtype)(b)
        branches.append(AlignedResize(align_corners=True, name=f"branch{size}_up", dtype=dtype)([b, x]))
    x = keras.layers.Concatenate(dtype=dtype)(branches + [x])  # the official order: 64-pool, 16-pool, features
    x = basic_conv(x, scaled(96, width), "fuse", dtype=dtype)
    x = keras.layers.Conv2D(scaled(32, width), 1, use_bias=False, name="last", dtype=dtype)(x)
    return keras.Model(image, x, name="feature")


@register_model(task="dualpixel", name="dddnet_disparity")
class DisparityNet(ZooModel):
    """DDDNet's disparity estimator (Estd): left/right views -> defocus disparity in [0, max_disparity − 1].

    Wiring (papers.md §12): a shared feature tower (BN-ReLU convs, dilations 4
    and 8, 64×64 and 16×16 pooling branches upsampled with aligned corners),
    a concatenation cost volume of 4 shifts (zeros where the official code
    leaves memory uninitialised), a 3D hourglass (two stride-2 BN-ReLU 3D
    convs, trilinear ×2 with aligned corners, skip from ``rem0``, transposed
    3D conv), trilinear resize of the 4 shift planes to ``max_disparity``
    planes (``align_corners=False``, as the official ``Disp``) and a
    soft-argmin (softmin weights). The authors' ``Estd.pkl`` converts at
    ``width=1`` (:func:`~hgzoo.dualpixel.convert.convert_dddnet_checkpoint`).

    Args:
        width: channel multiplier (1 = the published network).
        max_disparity: disparity planes of the soft-argmin (12 published).

    Inputs ``[left, right]``, each (B, H, W, 3) in [0, 1], H and W multiples
    of 4 and at least 64. Output (B, H, W, 1) float32.

    Example:

    >>> import numpy as np
    >>> model = DisparityNet(width=0.125)
    >>> x = np.random.rand(1, 64, 64, 3)
    >>> tuple(model.predict([x, x], verbose=0).shape)
    (1, 64, 64, 1)
    """

    multiple_of = (4, 4)
    search_space = {"width": Choice([0.125, 0.25, 0.5, 1.0]), "max_disparity": Choice([12, 8, 16])}

    def __init__(self, width=1.0, max_disparity=12, name="dddnet_disparity", dtype=None, **kwargs):
        left, right = view_inputs()
        tower = feature_tower(width, dtype)
        cost = CostVolume(4, name="cost_volume", dtype=dtype)([tower(left), tower(right)])
        c = lambda n: scaled(n, width)  # noqa: E731
        x = basic_conv(cost, c(32), "dres0", three_d=True, dtype=dtype)
        x = basic_conv(x, c(48), "dres1", strides=2, three_d=True, dtype=dtype)
        rem0 = basic_conv(x, c(48), "dres2", three_d=True, dtype=dtype)
        x = basic_conv(rem0, c(64), "dres3", strides=2, three_d=True, dtype=dtype)
        x = basic_conv(x, c(64), "dres4", three_d=True, dtype=dtype)
        x = AlignedResize(factors=(2, 2, 2), align_corners=True, name="up3d", dtype=dtype)(x)
        x = basic_conv(x, c(48), "dres5", three_d=True, dtype=dtype)
        x = keras.layers.Concatenate(dtype=dtype)([x, rem0])
        x = basic_conv(x, c(48), "dres6", three_d=True, dtype=dtype)
        x = keras.layers.Conv3DTranspose(c(24), 4, strides=2, padding="same", use_bias=False, name="deconv",
                                         dtype=dtype)(x)
        x = keras.layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name="deconv_bn", dtype=dtype)(x)
        x = keras.layers.ReLU(dtype=dtype)(x)
        x = keras.layers.Conv3D(1, 3, padding="same", use_bias=False, name="classify", dtype=dtype)(x)
        cost = AlignedResize(align_corners=False, fixed={1: max_disparity}, name="to_disparities", dtype=dtype)(x)
        disparity = SoftArgmin(name="disparity", dtype="float32")(cost)
        super().__init__(inputs=[left, right], outputs=disparity, name=name, dtype=dtype, **kwargs)
        self.width = width
        self.max_disparity = max_disparity
        self.compile()

    def compile(self, optimizer="auto", loss="auto", **kwargs):
        """Keras ``compile`` with ``"auto"``: Adam(1e-4) and L1 on the disparity."""
        super().compile(optimizer=keras.optimizers.Adam(1e-4) if optimizer == "auto" else optimizer,
                        loss="mean_absolute_error" if loss == "auto" else loss, **kwargs)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "max_disparity": self.max_disparity}

