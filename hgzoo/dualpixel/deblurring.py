"""DDDNet's deblurring network ``Esti`` (``Mydeblur``, papers.md §12): 7-channel DMPHN(1-2-4) with CAM."""

import keras
import numpy as np

from hgzoo.dualpixel.blocks import WideDMPHNDecoder, WideDMPHNEncoder, scaled
from hgzoo.dualpixel.layers import ChannelAttention
from hgzoo.layers import PatchMerge, PatchSplit
from hgzoo.models.base import ZooModel
from hgzoo.models.search_space import Choice
from hgzoo.registry import register_model


@register_model(task="dualpixel", name="dddnet_deblur")
class DeblurNet(ZooModel):
    """DDDNet's deblurring network (Esti): ``[left, right, disparity]`` -> ``[image, depth]`` as 4 channels.

    DMPHN(1-2-4) (papers.md §1.3 wiring) on the 7-channel input
    ``[L, R, disparity]``: the encoders take 7 channels and the level-3 and
    level-2 decoders return 7-channel residuals. A CAM branch,
    ``sigmoid(Conv(4→128, k8, s4, p2)([L − R, disparity]))`` followed by
    DANet channel attention with γ starting at 0, is added to the level-1
    features; the image decoder (3 channels) and a depth decoder (1 channel)
    both read ``f1 + cam``. Inputs are not shifted by −0.5 (DDDNet's I/O).

    One output tensor, channels 0-2 the image and channel 3 the depth, so
    that Keras' single-output ``fit``/``predict`` apply; split it with
    ``y[..., :3]``, ``y[..., 3:]``.

    Args:
        width: channel multiplier (1 = the published network).
        dmphn_domain: work like DMPHN on views shifted by −0.5 (output
            shifted back by +0.5): set it to start from DMPHN weights
            (:func:`init_from_dmphn`); False is DDDNet's own I/O.

    Inputs ``[left, right, disparity]``: (B, H, W, 3), (B, H, W, 3),
    (B, H, W, 1); H and W multiples of 8. Output (B, H, W, 4) float32.

    Example:

    >>> import numpy as np
    >>> model = DeblurNet(width=0.125)
    >>> x, d = np.random.rand(1, 32, 32, 3), np.random.rand(1, 32, 32, 1)
    >>> tuple(model.predict([x, x, d], verbose=0).shape)
    (1, 32, 32, 4)
    """

    multiple_of = (8, 8)
    search_space = {"width": Choice([0.125, 0.25, 0.5, 1.0])}

    def __init__(self, width=1.0, dmphn_domain=False, name="dddnet_deblur", dtype=None, **kwargs):
        left = keras.Input((None, None, 3), name="left")
        right = keras.Input((None, None, 3), name="right")
        disparity = keras.Input((None, None, 1), name="disparity")
        offset = -0.5 if dmphn_domain else 0.0
        views = [keras.layers.Rescaling(1.0, offset=offset, name=f"shift_{v.name}", dtype=dtype)(v)
                 for v in (left, right)]
        image, depth = deblur_graph(*views, disparity, width, dtype)
        image = keras.layers.Rescaling(1.0, offset=-offset, name="unshift", dtype="float32")(image)
        out = keras.layers.Concatenate(name="image_depth", dtype="float32")(
            [keras.layers.Activation("linear", dtype="float32")(image),
             keras.layers.Activation("linear", dtype="float32")(depth)])
        super().__init__(inputs=[left, right, disparity], outputs=out, name=name, dtype=dtype, **kwargs)
        self.width = width
        self.dmphn_domain = dmphn_domain
        self.compile()

    def compile(self, optimizer="auto", loss="auto", **kwargs):
        """Keras ``compile`` with ``"auto"``: Adam(1e-4) and an L1 loss on the 4 output channels."""
        super().compile(optimizer=keras.optimizers.Adam(1e-4) if optimizer == "auto" else optimizer,
                        loss="mean_absolute_error" if loss == "auto" else loss, **kwargs)

    def get_config(self):
        return {**super().get_config(), "width": self.width, "dmphn_domain": self.dmphn_domain}


def deblur_graph(left, right, disparity, width, dtype):
    """Esti's layers applied to symbolic inputs; returns (image, depth)."""
    x = keras.layers.Concatenate(name="stack7", dtype=dtype)([left, right, disparity])
    enc = [WideDMPHNEncoder(width, name=f"encoder_lv{i}", dtype=dtype) for i in (1, 2, 3)]
    dec = [WideDMPHNDecoder(width, out_channels=c, name=f"decoder_lv{i}", dtype=dtype)
           for i, c in ((1, 3), (2, 7), (3, 7))]
    halves = PatchSplit(2, 1, name="split_lv2")(x)
    quarters = PatchSplit(1, 2, name="split_lv3")(halves)
    f3 = PatchMerge(1, 2, name="merge_lv3")(enc[2](quarters))  # T and B, on the batch axis
    r3 = dec[2](f3)  # D3 on the merged half-image features (§1.3)
    f2 = PatchMerge(2, 1, name="merge_lv2")(enc[1](halves + r3) + f3)
    r2 = dec[1](f2)
    f1 = enc[0](x + r2) + f2
    diff = keras.layers.Subtract(dtype=dtype)([left, right])
    cam_in = keras.layers.Concatenate(dtype=dtype)([diff, disparity])
    cam_in = keras.layers.ZeroPadding2D(2, dtype=dtype)(cam_in)
    cam = keras.layers.Conv2D(scaled(128, width), 8, strides=4, padding="valid", activation="sigmoid",
                              name="cam_conv", dtype=dtype)(cam_in)
    cam = ChannelAttention(name="cam", dtype=dtype)(cam)
    features = f1 + cam
    image = dec[0](features)
    depth = WideDMPHNDecoder(width, out_channels=1, name="depth_decoder", dtype=dtype)(features)
    return image, depth


def init_from_dmphn(model, dmphn):
    """Start a ``DeblurNet(width=1, dmphn_domain=True)`` from DMPHN(1-2-4) weights (e.g. the authors' GoPro preset).

    The RGB weights go to the left-view channels; the right-view and disparity
    input channels and the extra decoder outputs are zero, so without the CAM
    branch the network is exactly DMPHN on the left view. The CAM branch
    still adds its sigmoid output to the level-1 features at step 0 (we zero
    its conv, so it adds 0.5 everywhere): the start is near, not equal to,
    DMPHN on the left view. The depth decoder keeps its random initialisation.

    Example:

    >>> import hgzoo
    >>> net = DeblurNet(dmphn_domain=True)  # doctest: +SKIP
    >>> init_from_dmphn(net, hgzoo.deblur.DMPHN(pretrained=True))  # doctest: +SKIP
    """
    if getattr(model, "width", None) != 1.0:
        raise ValueError(f"init_from_dmphn needs a DeblurNet of width 1.0 (DMPHN's widths), got width="
                         f"{getattr(model, 'width', None)}")
    if not getattr(model, "dmphn_domain", False):
        raise ValueError("init_from_dmphn needs DeblurNet(dmphn_domain=True): DMPHN's weights expect views shifted "
                         "by -0.5")
    if tuple(getattr(dmphn, "levels", ())) != (1, 2, 4):
        raise ValueError(f"init_from_dmphn needs a DMPHN(levels=(1, 2, 4)), got levels={getattr(dmphn, 'levels', None)}")
    for level in (1, 2, 3):
        for kind in ("encoder", "decoder"):
            source = dmphn.get_layer(f"{kind}_lv{level}")
            target = model.get_layer(f"{kind}_lv{level}")
            for conv_name, conv in target.convs.items():
                kernel, bias = (np.asarray(v) for v in source.convs[conv_name].weights)
                new_kernel = np.zeros(tuple(conv.kernel.shape), "float32")
                new_bias = np.zeros(tuple(conv.bias.shape), "float32")
                if kind == "encoder" and conv_name == "layer1":
                    new_kernel[:, :, :3, :] = kernel
                    new_bias[:] = bias
                elif kind == "decoder" and conv_name == "layer24":
                    new_kernel[..., :3] = kernel
                    new_bias[:3] = bias
                else:
                    new_kernel, new_bias = kernel, bias
                conv.kernel.assign(new_kernel)
                conv.bias.assign(new_bias)
    cam = model.get_layer("cam_conv")
    cam.kernel.assign(np.zeros(tuple(cam.kernel.shape), "float32"))
    cam.bias.assign(np.zeros(tuple(cam.bias.shape), "float32"))
