"""DeblurModel: what every deblurring model shares (I/O contract, compile defaults)."""

import keras
from keras import ops

from hgzoo.metrics import PSNR, SSIM
from hgzoo.models.base import ZooModel
from hgzoo.weights.torch_pickle import load_torch_state_dict


class DeblurModel(ZooModel):
    """Base of deblurring models: images in [0, 1] in, images in [0, 1] out.

    Input ``image`` is (B, H, W, 3) float in [0, 1] with H and W multiples of
    :attr:`multiple_of` (use :func:`hgzoo.deblur.deblur` for any size); the
    output has the same shape, float32, unclipped. Compiles itself with the
    published loss (MSE), Adam at 1e-4 and PSNR/SSIM metrics, so
    ``model.fit(dataset)`` just works.

    Example:

    >>> import hgzoo
    >>> model = hgzoo.deblur.DMPHN(levels=(1,))
    >>> model.multiple_of
    (4, 4)
    """

    multiple_of = (4, 4)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.compile()

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Keras ``compile`` with ``"auto"`` defaults: Adam(1e-4), MSE, PSNR and SSIM."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(1e-4)
        if loss == "auto":
            loss = "mean_squared_error"
        if metrics == "auto":
            metrics = [PSNR(), SSIM()]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def serving_signature(self, input_dtype="float32"):
        """What :func:`hgzoo.export.export_for_serving` exports for this model.

        Returns ``({"image": (shape, dtype)}, fn)``; ``fn(image)`` takes any H
        and W (padded symmetrically to :attr:`multiple_of` and cropped back
        inside) and returns ``{"deblurred": image clipped to [0, 1]}``. With
        ``input_dtype="uint8"`` it takes 0-255 pixels and returns uint8 rounded
        half up.
        """
        if input_dtype not in ("float32", "uint8"):
            raise ValueError(f"input_dtype must be 'float32' or 'uint8', got {input_dtype!r}")
        mh, mw = self.multiple_of

        def serve(image):
            x = ops.cast(image, "float32")
            if input_dtype == "uint8":
                x = x / 255.0
            h, w = ops.shape(x)[1], ops.shape(x)[2]
            x = ops.pad(x, [[0, 0], [0, (-h) % mh], [0, (-w) % mw], [0, 0]], mode="symmetric")
            y = ops.clip(self(x, training=False)[:, :h, :w, :], 0.0, 1.0)
            if input_dtype == "uint8":
                y = ops.cast(ops.floor(y * 255.0 + 0.5), "uint8")
            return {"deblurred": y}

        return {"image": ((None, None, None, 3), input_dtype)}, serve

    @property
    def input_contract(self):
        mh, mw = self.multiple_of
        return {"range": [0.0, 1.0], "dtype": "float32", "channels": 3, "multiple_of": [mh, mw]}


def convert_torch_checkpoint(model, files):
    """Assign an authors' checkpoint: each file's stem names the block it fills.

    ``files`` maps paths such as ``checkpoints/SDNet4/encoder_s1_lv1.pkl`` to
    local files. Every encoder/decoder of the model must be filled exactly once.
    """
    blocks = {layer.name: layer for layer in model.layers if hasattr(layer, "assign_torch")}
    filled = set()
    for rel_path, local in files.items():
        stem = rel_path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if stem not in blocks:
            raise ValueError(f"checkpoint file {rel_path} matches no block of {model.name}")
        blocks[stem].assign_torch(load_torch_state_dict(local))
        filled.add(stem)
    missing = set(blocks) - filled
    if missing:
        raise ValueError(f"no checkpoint file for blocks {sorted(missing)} of {model.name}")
