"""IGT: image-based insider-threat detection via geometric transformations (Security and Communication
Networks 2021; arXiv 2108.10567)."""

import keras
import numpy as np
from keras import ops

from hgzoo.anomaly.images import IMAGE_SIZE, check_images
from hgzoo.anomaly.transforms import NUM_TRANSFORMS, transform_ops, transformation_dataset
from hgzoo.models.base import ZooModel
from hgzoo.registry import register_model


@register_model(task="anomaly", name="igt")
class IGT(ZooModel):
    """IGT's transformation classifier: which of the 24 transformations was applied to a behaviour image?

    Trained with ``fit`` on the transformed images of normal user-days only
    (:meth:`transformation_data`); :meth:`normality` is the classifier's
    softmax probability of the applied transformation, summed over all
    transformations (in [0, K], high for days like the training ones); the
    anomaly score is ``K - normality``. Decisions with the τ and κ thresholds
    are in :mod:`hgzoo.anomaly.decisions`. The logits are float32 under
    mixed precision too (the softmax of the score is taken in float32).

    What the paper says and what hgzoo chose (``papers.md`` §15):

    - classifier: "a classifier" on grayscale behaviour images, architecture
      unpublished. Chosen: a small CNN, 3×3 conv(``filters``) - conv(2 ×
      ``filters``) - 2×2 max-pool - conv(2 × ``filters``) - flatten - dense
      (``hidden``) - dropout - dense(K) logits; 12×12 images need no more, and
      flattening (not global pooling) keeps where in the layout activity
      sits, which is what tells rotations and shifts apart;
    - transformation set: unpublished (rotations/flips/translations in GEOM
      style). Chosen: :mod:`hgzoo.anomaly.transforms`, K = 24;
    - image size and scaling: unpublished. Chosen: :mod:`hgzoo.anomaly.images`;
    - normality score: GEOM's simplified score, the summed probability of the
      applied transformation (the Dirichlet-based score of GEOM is not used);
    - training: cross-entropy, Adam(1e-3) by default; the epochs are the
      caller's (the CLI and benchmark use 10).

    Args:
        image_size: side of the square behaviour images (12 for Table-1).
        filters: width of the first conv (32).
        hidden: width of the dense layer (64).
        dropout: before the logits (0.3).
        pretrained: False (hgzoo ships no IGT weights: train on your organisation's normal days).

    Example:

    >>> import numpy as np, hgzoo
    >>> model = hgzoo.anomaly.IGT(filters=4, hidden=8)
    >>> x, y = model.transformation_data(np.random.rand(2, 12, 12, 1))
    >>> x.shape, model.predict(x, verbose=0).shape, model.normality(np.random.rand(3, 12, 12, 1)).shape
    ((48, 12, 12, 1), (48, 24), (3,))
    """

    def __init__(self, image_size=IMAGE_SIZE, filters=32, hidden=64, dropout=0.3, name="igt", dtype=None, **kwargs):
        if int(image_size) < 6 or int(image_size) % 3:
            raise ValueError(f"image_size must be a multiple of 3 (the shifts move a third) and >= 6, "
                             f"got {image_size}")
        inputs = keras.Input((image_size, image_size, 1), name="images")
        conv = {"padding": "same", "activation": "relu", "dtype": dtype}
        x = keras.layers.Conv2D(filters, 3, name="conv1", **conv)(inputs)
        x = keras.layers.Conv2D(2 * filters, 3, name="conv2", **conv)(x)
        x = keras.layers.MaxPooling2D(2, name="pool", dtype=dtype)(x)
        x = keras.layers.Conv2D(2 * filters, 3, name="conv3", **conv)(x)
        x = keras.layers.Flatten(name="flatten", dtype=dtype)(x)
        x = keras.layers.Dense(hidden, activation="relu", name="fc", dtype=dtype)(x)
        x = keras.layers.Dropout(dropout, name="dropout", dtype=dtype)(x)
        logits = keras.layers.Dense(NUM_TRANSFORMS, name="logits", dtype="float32")(x)
        super().__init__(inputs=inputs, outputs=logits, name=name, dtype=dtype, **kwargs)
        self._args = {"image_size": int(image_size), "filters": int(filters), "hidden": int(hidden),
                      "dropout": float(dropout)}
        self.compile()

    def get_config(self):
        return {**super().get_config(), **self._args}

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Keras ``compile`` with ``"auto"`` defaults: Adam(1e-3), cross-entropy on the logits, accuracy."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(1e-3)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = ["sparse_categorical_accuracy"]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def transformation_data(self, images):
        """``(x, y)`` to ``fit`` on: every (normal) image under every transformation, labelled by its index."""
        return transformation_dataset(check_images(images, self._args["image_size"]))

    def _normality(self, images):
        total = 0.0
        for k in range(NUM_TRANSFORMS):
            probabilities = ops.softmax(ops.cast(self(transform_ops(images, k), training=False), "float32"), axis=-1)
            total = total + probabilities[:, k]
        return total

    def normality(self, images, batch_size=1024):
        """IGT's normality score of each image, (B,) in [0, K]: higher is more like the training days."""
        images = check_images(images, self._args["image_size"])
        return np.concatenate([np.asarray(ops.convert_to_numpy(self._normality(images[i:i + batch_size])))
                               for i in range(0, len(images), batch_size)] or [np.zeros(0, np.float32)])

    def anomaly_score(self, images):
        """``K - normality``: higher is more anomalous (the convention of every detector here)."""
        return NUM_TRANSFORMS - self.normality(images)

    def serving_signature(self, input_dtype="float32"):
        """Input ``images`` (B, 12, 12, 1) float32 in [0, 1]; outputs ``normality`` (B,) and ``anomaly_score`` (B,)."""
        if input_dtype != "float32":
            raise ValueError(f"IGT serves float32 behaviour images, got input_dtype={input_dtype!r}")
        size = self._args["image_size"]

        def serve(images):
            normality = self._normality(images)
            return {"normality": normality, "anomaly_score": NUM_TRANSFORMS - normality}

        return {"images": ((None, size, size, 1), "float32")}, serve
