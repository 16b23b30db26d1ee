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

    def compile(self, optimizer="auto", loss="auto", metrics="auto", self_supervision=None, **kwargs):
        """Keras ``compile`` with ``"auto"`` defaults: Adam(1e-4), MSE, PSNR and SSIM.

        ``self_supervision``: None (off), True (defaults) or a
        :class:`~hgzoo.deblur.SelfSupervision`: adds its rotation/rescaling
        equivariance and noise invariance losses to the training loss.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(1e-4)
        if loss == "auto":
            loss = "mean_squared_error"
        if metrics == "auto":
            metrics = [PSNR(), SSIM()]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)
        from hgzoo.deblur.self_supervision import SelfSupervision

        self.self_supervision = SelfSupervision.get(self_supervision)
        if self.self_supervision is not None:
            self.self_supervision.attach(self)

    def get_compile_config(self):
        config = super().get_compile_config()
        if config is not None and getattr(self, "self_supervision", None) is not None:
            config["self_supervision"] = self.self_supervision.get_config()
        return config

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training)
        if training and getattr(self, "self_supervision", None) is not None:
            loss = loss + self.self_supervision.loss(self, x, y_pred)
        return loss

    def serving_signature(self, input_dtype="float32"):
        """What :func:`hgzoo.export.export_for_serving` exports for this model.

        Returns ``({"image": (shape, dtype)}, fn)``; ``fn(image)`` takes any H
        and W (padded symmetrically to :attr:`multiple_of` and cropped back
        inside) and returns ``{"deblurred": image clipped to [0, 1]}``. With
        ``input_dtype="uint8"`` it takes 0-255 pixels and returns uint8 rounded
        half up.
        """
        check_serving_dtype(input_dtype)

        def serve(image):
            return self.serve_padded(image, input_dtype, lambda x, pad: self(x, training=False))

        return {"image": ((None, None, None, 3), input_dtype)}, serve

    def serve_padded(self, image, input_dtype, run):
        """The serving body shared by deblurring models: scale, pad, ``run(x, pad)``, crop, clip, quantise.

        ``image`` is (B, H, W, 3) pixels in ``input_dtype``, any H, W >= 1; it
        is padded to :attr:`multiple_of` by mirroring (repeatedly when the
        image is smaller than the padding, as :func:`hgzoo.deblur.deblur`
        pads); ``pad`` is the pad list, for padding other inputs alike (with
        zeros). ``run`` returns the model output, which is cropped back and
        clipped to [0, 1] (uint8 rounded half up when the input was uint8).
        A wrong rank or channel count is a clear error (in an exported graph,
        from the export's shape check); so is an empty image whose size is
        known when tracing.
        """
        mh, mw = self.multiple_of
        x = ops.cast(check_serving_image(image), "float32")
        if input_dtype == "uint8":
            x = x / 255.0
        h, w = ops.shape(x)[1], ops.shape(x)[2]
        pad = [[0, 0], [0, (-h) % mh], [0, (-w) % mw], [0, 0]]
        padded = ops.take(ops.take(x, mirrored_indices(h, h + pad[1][1]), axis=1),
                          mirrored_indices(w, w + pad[2][1]), axis=2)
        y = ops.clip(run(padded, pad)[:, :h, :w, :], 0.0, 1.0)
        if input_dtype == "uint8":
            y = ops.cast(ops.floor(y * 255.0 + 0.5), "uint8")
        return {"deblurred": y}

    @property
    def input_contract(self):
        mh, mw = self.multiple_of
        return {"range": [0.0, 1.0], "dtype": "float32", "channels": 3, "multiple_of": [mh, mw]}


def mirrored_indices(size, padded_size):
    """Indices extending ``range(size)`` to ``padded_size`` by mirroring, again and again when the padding is
    longer than ``size``: numpy's ``"symmetric"`` padding (TF's MirrorPad refuses a pad longer than the image)."""
    i = ops.arange(padded_size) % (2 * size)
    return ops.where(i < size, i, 2 * size - 1 - i)


def check_serving_image(image, name="image"):
    """``image`` if it is a non-empty (B, H, W, 3) batch as far as its static shape tells, else a clear error.

    Shapes known only when the graph runs are checked there by
    :func:`hgzoo.export.export_for_serving` (against the signature's shapes).
    """
    shape = tuple(image.shape)
    if len(shape) != 4:
        raise ValueError(f"{name} must be (B, H, W, 3): rank 4, got shape {shape}")
    if shape[3] is not None and shape[3] != 3:
        raise ValueError(f"{name} must be (B, H, W, 3) with 3 channels (RGB), got shape {shape}")
    if 0 in shape[1:3]:
        raise ValueError(f"{name} must be (B, H, W, 3) and not empty, got shape {shape}")
    return image


def check_serving_dtype(input_dtype):
    """Raise a clear error unless ``input_dtype`` is one deblurring models serve (float32 or uint8)."""
    if input_dtype not in ("float32", "uint8"):
        raise ValueError(f"input_dtype must be 'float32' or 'uint8', got {input_dtype!r}")


class MultiStageDeblurModel(DeblurModel):
    """A deblurring model whose functional graph has one output per stage (deep supervision).

    In ``fit`` (``training=True``) the model returns the list of stage
    outputs and the loss is summed over stages; metrics, ``predict`` and
    ``evaluate`` see the last stage. With a single stage it is a plain
    :class:`DeblurModel`.

    Example:

    >>> import hgzoo
    >>> isinstance(hgzoo.deblur.StackMPN(num_stages=2), MultiStageDeblurModel)
    True
    """

    def call(self, inputs, training=None, mask=None):
        stages = super().call(inputs, training=training, mask=mask)
        if not isinstance(stages, (list, tuple)):
            return stages
        return list(stages) if training else stages[-1]

    def compute_output_spec(self, inputs, training=None, mask=None):
        spec = super().compute_output_spec(inputs, training=training, mask=mask)
        return spec[-1] if isinstance(spec, (list, tuple)) else spec

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)
        self.stage_loss = keras.losses.get("mean_squared_error" if loss == "auto" else loss)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not isinstance(y_pred, (list, tuple)):
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        total = super().compute_loss(x, y, y_pred[-1], sample_weight, training)
        for stage_output in y_pred[:-1]:
            total = total + keras.ops.mean(self.stage_loss(y, stage_output))
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if isinstance(y_pred, (list, tuple)):
            y_pred = y_pred[-1]
        return super().compute_metrics(x, y, y_pred, sample_weight)


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
