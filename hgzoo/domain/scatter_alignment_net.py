"""ScatterAlignmentNet: a two-stream classifier trained with So-HoT scatter alignment (``papers.md`` §11)."""

import keras
import numpy as np
from keras import ops

from hgzoo.domain.divergences import DIVERGENCES, check_divergence
from hgzoo.domain.scatter import DEFAULT_RIDGE, check_labels, scatter_alignment_loss
from hgzoo.domain.training import StopOnNonFiniteLoss
from hgzoo.models.base import ZooModel
from hgzoo.models.search_space import Choice, Float
from hgzoo.registry import register_model

LOSS_SCALE = 2.0 ** 8  # initial dynamic loss scale under mixed_float16


def _conv_block(filters, name, dtype):
    return [keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv", dtype=dtype),
            keras.layers.MaxPooling2D(2, name=f"{name}_pool", dtype=dtype)]


def _apply(layers, x):
    for layer in layers:
        x = layer(x)
    return x


@register_model(task="domain", name="scatter_alignment_net")
class ScatterAlignmentNet(ZooModel):
    """Two network streams, source and target, whose class scatters are aligned while both classify.

    Supervised domain adaptation as in So-HoT / Open MIC (Koniusz et al.): a
    source stream sees labelled source images, a target stream the few
    labelled target images; both end in the same classifier; the loss is the
    cross-entropy of both streams plus :func:`~hgzoo.domain.scatter.scatter_alignment_loss`
    on their features (per-class scatter matrices aligned by an SPD
    divergence, class means aligned, other classes pushed apart).

    The streams are ``len(filters)`` blocks of Conv 3×3 + ReLU + MaxPool 2,
    then Flatten, Dense(``feature_dim``) + LayerNormalization (the features
    whose scatters are aligned) and the Dense classifier. The normalisation
    keeps the features at unit scale: the log-determinant and Riemannian
    divergences have gradients of order 1/λ, which on tiny features
    drowned the classification loss in our digit runs. The first ``unshared_blocks``
    conv blocks have separate weights per stream (the papers' partially
    shared streams); the rest, the feature layer and the classifier are
    shared. The papers use ImageNet backbones; these small streams are the
    choice for the offline digit benchmark.

    Inputs: ``[source_images, target_images]``, each ``(B, h, w, channels)``
    in [0, 1], the same batch size. Output: ``(B, 2, num_classes + feature_dim)``
    float32: per stream (0 source, 1 target) the logits followed by the
    features, packed in one tensor because ``fit`` hands the loss one
    prediction. Labels for ``fit``: ``(B, 2)`` integers, the source and target
    label of each row, ``-1`` for padding rows (see
    :func:`hgzoo.domain.data.supervised_da_dataset`). For predictions use
    :meth:`target_classifier` (or :meth:`predict_target`); export serves it.

    Training stops with an error at the first non-finite loss
    (:class:`~hgzoo.domain.training.StopOnNonFiniteLoss`).

    Args:
        num_classes: classes shared by both domains.
        image_size, channels: the streams' input images.
        filters: conv widths, one block each.
        feature_dim: width of the aligned features.
        unshared_blocks: leading conv blocks with per-stream weights (0: fully shared).
        divergence: SPD divergence for the scatter term, or ``"none"`` (no scatter term).
        scatter_weight, mean_weight, separation_weight, margin, eps: the loss's
            weights, hinge margin and ridge (see ``scatter_alignment_loss``).
        classify_source: also train the classifier on the source stream (the default, as in So-HoT).

    Example:

    >>> import numpy as np, hgzoo
    >>> model = hgzoo.domain.ScatterAlignmentNet(num_classes=3, image_size=(8, 8), filters=(4,), feature_dim=4)
    >>> images = np.random.rand(6, 8, 8, 1).astype("float32")
    >>> tuple(model([images, images]).shape)
    (6, 2, 7)
    >>> labels = np.stack([np.arange(6) % 3, np.arange(6) % 3], axis=1)
    >>> history = model.fit([images, images], labels, epochs=1, verbose=0)
    >>> model.predict_target(images).shape
    (6, 3)
    """

    search_space = {
        "divergence": Choice(list(DIVERGENCES)),
        "scatter_weight": Float(0.01, 10.0, sampling="log"),
        "mean_weight": Float(0.01, 10.0, sampling="log"),
        "separation_weight": Float(0.001, 1.0, sampling="log"),
    }

    def __init__(self, num_classes=10, image_size=(16, 16), channels=1, filters=(32, 64), feature_dim=32,
                 unshared_blocks=0, divergence="log_euclidean", scatter_weight=0.1, mean_weight=1.0,
                 separation_weight=0.1, margin=1.0, eps=DEFAULT_RIDGE, classify_source=True,
                 name="scatter_alignment_net", dtype=None, **kwargs):
        if int(num_classes) < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}")
        if not filters:
            raise ValueError("filters must list at least one conv block width")
        if not 0 <= int(unshared_blocks) <= len(filters):
            raise ValueError(f"unshared_blocks must lie in [0, {len(filters)}] (one per conv block), "
                             f"got {unshared_blocks}")
        if divergence != "none":
            check_divergence(divergence)
        for key, value in (("scatter_weight", scatter_weight), ("mean_weight", mean_weight),
                           ("separation_weight", separation_weight), ("margin", margin), ("eps", eps)):
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{key} must be finite and >= 0, got {value}")
        h, w = (int(s) for s in image_size)
        source = keras.Input((h, w, int(channels)), name="source_images")
        target = keras.Input((h, w, int(channels)), name="target_images")
        unshared = int(unshared_blocks)
        blocks = {stream: [layer for i, f in enumerate(filters[:unshared])
                           for layer in _conv_block(int(f), f"{stream}_block{i + 1}", dtype)]
                  for stream in ("source", "target")}
        shared = [layer for i, f in enumerate(filters[unshared:], start=unshared + 1)
                  for layer in _conv_block(int(f), f"block{i}", dtype)]
        shared += [keras.layers.Flatten(name="flatten", dtype=dtype),
                   keras.layers.Dense(int(feature_dim), name="features", dtype=dtype),
                   keras.layers.LayerNormalization(name="features_norm", dtype=dtype)]
        classifier = keras.layers.Dense(int(num_classes), name="logits", dtype="float32")
        streams = []
        for stream, images in (("source", source), ("target", target)):
            features = _apply(shared, _apply(blocks[stream], images))
            features = keras.layers.Activation("linear", name=f"{stream}_features", dtype="float32")(features)
            streams.append(keras.layers.Concatenate(name=f"{stream}_outputs", dtype="float32")(
                [classifier(features), features]))
        width = int(num_classes) + int(feature_dim)
        packed = keras.layers.Concatenate(name="both_streams", dtype="float32")(streams)
        packed = keras.layers.Reshape((2, width), name="streams", dtype="float32")(packed)
        super().__init__(inputs=[source, target], outputs=packed, name=name, dtype=dtype, **kwargs)
        self._args = {"num_classes": int(num_classes), "image_size": [h, w], "channels": int(channels),
                      "filters": [int(f) for f in filters], "feature_dim": int(feature_dim),
                      "unshared_blocks": unshared, "divergence": divergence,
                      "scatter_weight": float(scatter_weight), "mean_weight": float(mean_weight),
                      "separation_weight": float(separation_weight), "margin": float(margin), "eps": float(eps),
                      "classify_source": bool(classify_source)}
        self.num_classes = int(num_classes)
        self.compile()

    def get_config(self):
        return {**super().get_config(), **self._args}

    def compile(self, optimizer="auto", **kwargs):
        """Keras ``compile`` with Adam(1e-3) by default; the loss is the model's own (:meth:`compute_loss`)."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(1e-3)
        float16 = self.layers_dtype_policy.name == "mixed_float16"
        if float16 and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            # The log-determinant and Riemannian terms have gradients of order 1/λ: Keras' default first loss
            # scale (2^15) overflows float16 and skips the first steps; a smaller start loses nothing.
            optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.get(optimizer),
                                                            initial_scale=LOSS_SCALE)
        kwargs.pop("loss", None)
        super().compile(optimizer=optimizer, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Cross-entropy of both streams (source optional) plus the scatter alignment loss."""
        c, a = self.num_classes, self._args
        if y is None:
            return None
        if not _symbolic(y):
            check_labels(y, c, "labels")
        y = ops.cast(y, "int32")
        if len(y.shape) != 2 or (y.shape[-1] is not None and y.shape[-1] != 2):
            raise ValueError(f"labels must be (batch, 2): the source and the target label of each row, got "
                             f"shape {tuple(y.shape)}")
        logits, features = y_pred[..., :c], y_pred[..., c:]
        streams = (0, 1) if a["classify_source"] else (1,)
        loss = sum(_masked_cross_entropy(y[:, s], logits[:, s]) for s in streams) / len(streams)
        loss = loss + scatter_alignment_loss(
            features[:, 0], y[:, 0], features[:, 1], y[:, 1], c,
            divergence="frobenius" if a["divergence"] == "none" else a["divergence"],
            scatter_weight=0.0 if a["divergence"] == "none" else a["scatter_weight"],
            mean_weight=a["mean_weight"], separation_weight=a["separation_weight"], margin=a["margin"], eps=a["eps"])
        for extra in self.losses:
            loss = loss + ops.cast(ops.sum(extra), "float32")
        return loss

    def fit(self, *args, callbacks=None, **kwargs):
        """Keras ``fit``, stopping with :class:`~hgzoo.errors.HgzooError` at the first non-finite loss."""
        callbacks = list(callbacks or [])
        if not any(isinstance(c, StopOnNonFiniteLoss) for c in callbacks):
            callbacks.append(StopOnNonFiniteLoss())
        x = args[0] if args else kwargs.get("x")
        if not isinstance(x, (np.ndarray, list, tuple, dict)):
            kwargs.setdefault("shuffle", False)  # a dataset or generator orders itself (Keras warns otherwise)
        return super().fit(*args, callbacks=callbacks, **kwargs)

    def target_classifier(self):
        """The adapted target stream as a Keras model: ``target_images`` → logits ``(B, num_classes)``."""
        logits = self.get_layer("logits")(self.get_layer("target_features").output)
        return keras.Model(self.get_layer("target_images").output, logits, name=f"{self.name}_target")

    def predict_target(self, images, batch_size=256):
        """Logits ``(N, num_classes)`` of the target stream for target-domain images ``(N, h, w, channels)``."""
        images = np.asarray(images, np.float32)
        expected = (*self._args["image_size"], self._args["channels"])
        if images.ndim != 4 or images.shape[1:] != expected:
            raise ValueError(f"images must be (N, {', '.join(map(str, expected))}), got shape {images.shape}")
        if not np.all(np.isfinite(images)):
            raise ValueError("images contain NaN or infinite values")
        out = self.predict([images, images], batch_size=batch_size, verbose=0)
        return out[:, 1, :self.num_classes]

    def serving_signature(self, input_dtype="float32"):
        """Serves the target classifier: input ``images`` (B, h, w, channels) float32 in [0, 1];
        outputs ``probabilities`` (B, classes) and ``classes`` (B,) int32."""
        if input_dtype != "float32":
            raise ValueError(f"ScatterAlignmentNet serves float32 images in [0, 1], got input_dtype={input_dtype!r}")
        h, w = self._args["image_size"]
        classifier = self.target_classifier()

        def serve(images):
            logits = classifier(images, training=False)
            return {"probabilities": ops.softmax(logits, axis=-1), "classes": ops.cast(ops.argmax(logits, -1), "int32")}

        return {"images": ((None, h, w, self._args["channels"]), "float32")}, serve

    @property
    def input_contract(self):
        return {"inputs": ["source_images", "target_images"], "range": [0, 1],
                "output": "(B, 2, num_classes + feature_dim): logits then features per stream"}


def _symbolic(x):
    """Whether ``x`` is a traced tensor (inside a compiled fit step), whose values cannot be read yet."""
    try:
        keras.ops.convert_to_numpy(x)
        return False
    except Exception:  # noqa: BLE001 - each backend raises its own type for a traced tensor
        return True


def _masked_cross_entropy(labels, logits):
    """Mean sparse cross-entropy over rows whose label is not -1 (padding)."""
    valid = ops.cast(labels >= 0, "float32")
    per_row = keras.losses.sparse_categorical_crossentropy(ops.maximum(labels, 0), logits, from_logits=True)
    return ops.sum(per_row * valid) / ops.maximum(ops.sum(valid), 1.0)
