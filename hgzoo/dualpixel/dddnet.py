"""DDDNet: joint defocus-disparity estimation and deblurring from a dual-pixel pair (Pan et al., CVPR 2021)."""

import functools
import os

import keras
from keras import ops

from hgzoo.dualpixel.convert import convert_dddnet_checkpoint
from hgzoo.dualpixel.deblurring import DeblurNet
from hgzoo.dualpixel.disparity import DisparityNet
from hgzoo.dualpixel.losses import DualPixelLoss
from hgzoo.metrics import PSNR
from hgzoo.models.base import ZooModel
from hgzoo.models.search_space import Choice
from hgzoo.registry import register_model


@register_model(task="dualpixel", name="dddnet")
class DDDNet(ZooModel):
    """DDDNet: ``[left, right]`` -> all-in-focus image and defocus disparity, as one (B, H, W, 4) tensor.

    The disparity estimator (:class:`DisparityNet`, Estd) feeds the
    deblurring network (:class:`DeblurNet`, Esti) exactly as in the official
    test script: ``disp = Estd(L, R)``; ``image, depth = Esti(L, R, disp)``.
    Channels 0-2 of the output are the image, channel 3 Esti's depth head
    (the disparity the official code saves). The two parts are sub-models
    named ``estd`` and ``esti``.

    The authors released no training code or loss; ``compile()`` defaults to
    :class:`~hgzoo.dualpixel.losses.DualPixelLoss` (L1 image + L1 disparity
    where the target is finite + reblur through the simulator), Adam 1e-4.
    Targets for ``fit`` are (B, H, W, 4): the sharp image and the disparity
    (NaN where unknown). Disparity convention (ours): ``disparity = signed
    blur radius in pixels + (max_disparity − 1) / 2``, so 5.5 is in focus
    and the soft-argmin's range [0, 11] covers radii ±5.5.

    Args:
        width: channel multiplier for both parts (1 = published).
        max_disparity: soft-argmin planes (12 published).
        dmphn_domain: Esti works on views shifted by −0.5, as DMPHN; set it to
            start Esti from DMPHN weights with
            ``init_from_dmphn(model.get_layer("esti"), hgzoo.deblur.DMPHN(pretrained=True))``.
        pretrained: False, a ``.weights.h5`` path, or a folder holding the
            authors' ``Estd.pkl`` and ``Esti.pkl`` (converted at width 1 by
            :func:`~hgzoo.dualpixel.convert.convert_dddnet_checkpoint`; hgzoo
            ships no DDDNet weights).

    Example:

    >>> import numpy as np
    >>> model = DDDNet(width=0.125)
    >>> x = np.random.rand(1, 64, 64, 3)
    >>> tuple(model.predict([x, x], verbose=0).shape)
    (1, 64, 64, 4)
    """

    multiple_of = (8, 8)
    search_space = {"width": Choice([0.125, 0.25, 0.5, 1.0]), "max_disparity": Choice([12, 8, 16])}
    fetching_arguments = ("pretrained",)

    def __init__(self, width=1.0, max_disparity=12, dmphn_domain=False, name="dddnet", dtype=None, **kwargs):
        left = keras.Input((None, None, 3), name="left")
        right = keras.Input((None, None, 3), name="right")
        estd = DisparityNet(width=width, max_disparity=max_disparity, name="estd", dtype=dtype)
        esti = DeblurNet(width=width, dmphn_domain=dmphn_domain, name="esti", dtype=dtype)
        out = esti([left, right, estd([left, right])])
        super().__init__(inputs=[left, right], outputs=out, name=name, dtype=dtype, **kwargs)
        self.width = width
        self.max_disparity = max_disparity
        self.dmphn_domain = dmphn_domain
        self.compile()

    def get_config(self):
        return {**super().get_config(), "width": self.width, "max_disparity": self.max_disparity,
                "dmphn_domain": self.dmphn_domain}

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Keras ``compile`` with ``"auto"``: Adam(1e-4), :class:`DualPixelLoss`, PSNR of the image channels."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(1e-4)
        if loss == "auto":
            loss = DualPixelLoss(max_disparity=self.max_disparity)
        if metrics == "auto":
            metrics = [ImagePSNR()]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training)
        if isinstance(self.loss, DualPixelLoss) and self.loss.reblur_weight:
            loss = loss + ops.cast(self.loss.reblur(x[0], x[1], y_pred), loss.dtype)
        return loss

    def serving_signature(self, input_dtype="float32"):
        """``left``, ``right`` (B, H, W, 3) in [0, 1] -> ``image`` (clipped) and ``disparity``; H, W multiples of 8."""
        if input_dtype != "float32":
            raise ValueError(f"DDDNet serves float32 views in [0, 1], got input_dtype={input_dtype!r}")

        def serve(left, right):
            y = self([left, right], training=False)
            return {"image": ops.clip(y[..., :3], 0.0, 1.0), "disparity": y[..., 3:]}

        spec = ((None, None, None, 3), "float32")
        return {"left": spec, "right": spec}, serve

    @property
    def input_contract(self):
        return {"range": [0.0, 1.0], "dtype": "float32", "channels": 3, "multiple_of": list(self.multiple_of),
                "inputs": ["left", "right"]}


def _accept_checkpoint_folder(cls):
    """Let ``pretrained`` name a folder of the authors' ``Estd.pkl``/``Esti.pkl`` (the registry takes files and
    preset ids): the model is built with random weights, then converted."""
    registered_init = cls.__init__

    @functools.wraps(registered_init)
    def __init__(self, *args, pretrained=False, **kwargs):
        folder = pretrained if isinstance(pretrained, (str, os.PathLike)) and os.path.isdir(pretrained) else None
        registered_init(self, *args, pretrained=False if folder else pretrained, **kwargs)
        if folder is not None:
            convert_dddnet_checkpoint(self, folder)
            object.__setattr__(self, "pretrained_cfg", {"path": os.fspath(folder), "converter": "dddnet_torch"})

    cls.__init__ = __init__
    return cls


_accept_checkpoint_folder(DDDNet)


@keras.saving.register_keras_serializable(package="hgzoo")
class ImagePSNR(PSNR):
    """PSNR of the image channels (0-2) of a DDDNet output against those of the target.

    Example:

    >>> import numpy as np
    >>> m = ImagePSNR()
    >>> m.update_state(np.ones((1, 4, 4, 4)), np.ones((1, 4, 4, 4)) * 0.9)
    >>> round(float(m.result()), 1)
    20.0
    """

    def __init__(self, name="image_psnr", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(y_true[..., :3], y_pred[..., :3], sample_weight)
