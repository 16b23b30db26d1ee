"""EventMPN: event-guided multi-patch deblurring (Zhang et al., IJCV 2022), hgzoo's reimplementation.

No official code exists (``papers.md`` §2); the paper's idea is kept and
every choice is documented on :class:`EventMPN`.
"""

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export
from hgzoo.deblur.base import MultiStageDeblurModel, check_serving_dtype, convert_torch_checkpoint
from hgzoo.deblur.dmphn import DMPHN, image_input, shift_in, shift_out
from hgzoo.deblur.hierarchy import Hierarchy, multiple_of, validate_levels
from hgzoo.models.search_space import Choice, Float, Int
from hgzoo.registry import register_model


@hgzoo_export
class EventEncoder(keras.layers.Layer):
    """Event voxels (B, H, W, bins) -> (B, H/4, W/4, 128), the shape of a DMPHN encoder's features.

    Conv 3×3 to 32 + ReLU, stride-2 conv to 64 + ReLU, stride-2 conv to 128
    (PyTorch-style padding, as DMPHN's encoder). With ``zero_init=True``
    (the default) the last convolution starts at zero, so an EventMPN
    initialised from DMPHN weights starts out computing exactly DMPHN and
    learns what the events add.

    Example:

    >>> import numpy as np
    >>> tuple(EventEncoder()(np.zeros((1, 16, 24, 6), "float32")).shape)
    (1, 4, 6, 128)
    """

    def __init__(self, filters=(32, 64, 128), zero_init=True, **kwargs):
        super().__init__(**kwargs)
        self.filters = [int(f) for f in filters]
        self.zero_init = bool(zero_init)
        last = len(self.filters) - 1
        self.convs = [keras.layers.Conv2D(f, 3, strides=1 if i == 0 else 2, padding="same" if i == 0 else "valid",
                                          kernel_initializer="zeros" if i == last and zero_init else "he_normal",
                                          name=f"conv{i + 1}", dtype=self.dtype_policy)
                      for i, f in enumerate(self.filters)]

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(f"EventEncoder needs (B, H, W, bins) voxels with known bins, got {input_shape}")
        channels = input_shape[-1]
        for conv, filters in zip(self.convs, self.filters):
            conv.build((None, None, None, channels))
            channels = filters

    def call(self, x):
        for i, conv in enumerate(self.convs):
            if i:
                x = conv(ops.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))))
            else:
                x = conv(x)
            if i < len(self.convs) - 1:
                x = ops.relu(x)
        return x

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape
        quarter = lambda n: None if n is None else (n + 3) // 4  # noqa: E731
        return (b, quarter(h), quarter(w), self.filters[-1])

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "zero_init": self.zero_init}


@hgzoo_export
class EventDropout(keras.layers.Layer):
    """In training, zero a whole sample's event voxels with probability ``rate``; identity at inference.

    Trains EventMPN to deblur without events too, so a missing event stream
    (all-zero voxels) degrades it to an image-only model instead of
    breaking it.

    Example:

    >>> import numpy as np
    >>> layer = EventDropout(1.0)
    >>> float(layer(np.ones((2, 4, 4, 3), "float32"), training=True).numpy().sum())
    0.0
    """

    def __init__(self, rate=0.2, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= float(rate) <= 1.0:
            raise ValueError(f"EventDropout rate must lie in [0, 1], got {rate}")
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        if not training or self.rate == 0.0:
            return x
        keep = keras.random.uniform((ops.shape(x)[0], 1, 1, 1), seed=self.seed_generator) >= self.rate
        return x * ops.cast(keep, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@register_model(task="deblur", name="event_mpn")
class EventMPN(MultiStageDeblurModel):
    """Event-guided multi-patch network: DMPHN levels whose features also see the exposure's events.

    Inputs (a dict, or a list in this order): ``image`` (B, H, W, 3) in [0, 1]
    and ``events`` (B, H, W, bins),
    the events recorded during the exposure as a polarity-signed voxel grid
    (:func:`hgzoo.deblur.data.events.voxel_grid`, bins spread over the exposure).
    Output: the sharp image, as DMPHN.

    Design (the paper publishes no code; ``papers.md`` §2):

    - The image path is DMPHN(``levels``) unchanged (its layer names match
      the authors' checkpoints, so ``init_from="dmphn_1_2_4_gopro"`` loads
      their GoPro weights into it).
    - The events are cut into the same patches as the image at every level
      and each level has its own :class:`EventEncoder`, whose features are
      added to that level's image-encoder features before the finer level's
      features are merged in: the motion cues reach every scale, and the
      cost is three small convolutions per patch.
    - The event encoders' last layer starts at zero, so training starts from
      exactly the image model.
    - Missing events: pass zeros (or call :meth:`deblur_image`). Training
      drops each sample's events with probability ``event_dropout``, so the
      model has learnt that case and falls back to image-only deblurring.
    - ``num_stages > 1`` stacks hierarchies as StackMPN does (stage features
      passed on, every stage sees the events, deep supervision in ``fit``).

    Args:
        levels: ``(1,)``, ``(1, 2)``, ``(1, 2, 4)`` (default) or ``(1, 2, 4, 8)``.
        event_bins: voxel-grid bins (channels of ``events``), 6 by default.
        num_stages: 1 (EventMPN) or more (the stacked variant).
        event_dropout: training-time probability of hiding a sample's events.
        init_from: None, or a DMPHN preset id / ``.weights.h5`` path whose
            weights initialise the image path of every stage.

    Example:

    >>> import numpy as np, hgzoo
    >>> model = hgzoo.deblur.EventMPN(levels=(1, 2), event_bins=4)
    >>> out = model.predict({"image": np.random.rand(1, 32, 32, 3), "events": np.zeros((1, 32, 32, 4))}, verbose=0)
    >>> out.shape
    (1, 32, 32, 3)
    """

    converters = {"dmphn_torch": (1, convert_torch_checkpoint)}
    search_space = {"levels": Choice([[1, 2], [1, 2, 4]]), "event_bins": Int(3, 12),
                    "event_dropout": Float(0.0, 0.5)}

    def __init__(self, levels=(1, 2, 4), event_bins=6, num_stages=1, event_dropout=0.2, init_from=None,
                 name="event_mpn", dtype=None, **kwargs):
        levels = validate_levels(levels)
        if int(event_bins) < 1 or int(num_stages) < 1:
            raise ValueError(f"event_bins and num_stages must be positive, got {event_bins} and {num_stages}")
        image = image_input()
        events = keras.Input((None, None, int(event_bins)), name="events")
        voxels = EventDropout(event_dropout, name="event_dropout", dtype=dtype)(events)
        u, features, outputs = shift_in(image, dtype), None, []
        for k in range(1, int(num_stages) + 1):
            tag = "" if num_stages == 1 else f"_s{k}"
            stage = Hierarchy(len(levels), tag=tag, dtype=dtype)
            guidance = [EventEncoder(name=f"event_encoder{tag}_lv{i + 1}", dtype=dtype)(patches)
                        for i, patches in enumerate(stage.split_all(voxels))]
            u, features = stage(u, previous=features, guidance=guidance)
            outputs.append(shift_out(u, "deblurred" if k == num_stages else f"stage{k}"))
        super().__init__(inputs=[image, events],
                         outputs=outputs[0] if len(outputs) == 1 else outputs, name=name, dtype=dtype, **kwargs)
        self.levels, self.event_bins, self.num_stages = levels, int(event_bins), int(num_stages)
        self.event_dropout, self.init_from = float(event_dropout), init_from
        self.multiple_of = multiple_of(levels)
        if init_from:
            self._load_image_path(init_from)

    def call(self, inputs, training=None, mask=None):
        events = inputs["events"] if isinstance(inputs, dict) else inputs[1]
        if events.shape[-1] != self.event_bins:
            raise ValueError(f"EventMPN was built for {self.event_bins} event bins, got events of shape "
                             f"{tuple(events.shape)}; bin the events with voxel_grid(events, bins={self.event_bins})")
        return super().call(inputs, training=training, mask=mask)

    def _load_image_path(self, source):
        dmphn = DMPHN(levels=self.levels, pretrained=source)
        for layer in dmphn.layers:
            if hasattr(layer, "assign_torch"):
                names = [layer.name] if self.num_stages == 1 else [
                    layer.name.replace("_lv", f"_s{k}_lv") for k in range(1, self.num_stages + 1)]
                for name in names:
                    for target, value in zip(self.get_layer(name).weights, layer.weights):
                        target.assign(value)

    fetching_arguments = ("pretrained", "init_from")

    def get_config(self):
        # init_from is not kept: the initial weights are part of what is saved, and a reload must not refetch them.
        return {**super().get_config(), "levels": list(self.levels), "event_bins": self.event_bins,
                "num_stages": self.num_stages, "event_dropout": self.event_dropout, "init_from": None}

    def deblur_image(self, image, events=None):
        """Deblur a (B, H, W, 3) batch; ``events=None`` uses empty voxels (the image-only fallback)."""
        image = ops.convert_to_tensor(image, "float32")
        if events is None:
            shape = ops.shape(image)
            events = ops.zeros((shape[0], shape[1], shape[2], self.event_bins), "float32")
        return self({"image": image, "events": events}, training=False)

    def serving_signature(self, input_dtype="float32"):
        """Inputs ``image`` (float32 in [0, 1] or uint8) and ``events`` (float32 voxels, same H, W);
        output ``deblurred``. Sizes are padded to :attr:`multiple_of` inside and cropped back."""
        check_serving_dtype(input_dtype)

        def serve(image, events):
            return self.serve_padded(image, input_dtype, lambda x, pad: self(
                {"image": x, "events": ops.pad(ops.cast(events, "float32"), pad)}, training=False))

        return {"image": ((None, None, None, 3), input_dtype),
                "events": ((None, None, None, self.event_bins), "float32")}, serve

    @property
    def input_contract(self):
        return {**super().input_contract, "inputs": ["image", "events"], "event_bins": self.event_bins}
