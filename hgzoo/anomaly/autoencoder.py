"""The dense autoencoder baseline: reconstruction error of a user-day's behaviour image."""

import keras
import numpy as np

from hgzoo.anomaly.images import IMAGE_SIZE, check_images
from hgzoo.models.base import ZooModel
from hgzoo.registry import register_model


@register_model(task="anomaly", name="behaviour_autoencoder")
class BehaviourAutoencoder(ZooModel):
    """A dense autoencoder on flattened behaviour images; the anomaly score is the mean squared error.

    The paper compares IGT with autoencoder baselines without giving their
    shape (``papers.md`` §15). Chosen: flatten - dense(``hidden[0]``, ReLU) -
    ... - dense(``code``, ReLU) - mirrored decoder - dense(H·W, sigmoid),
    trained with MSE on normal days only (``fit(images, images)``); the
    same inputs (behaviour images in [0, 1]) as IGT, so the two are compared
    on identical data. The reconstruction is float32 under mixed precision
    too (the squared errors of the score are small numbers).

    Args:
        image_size: side of the square behaviour images (12).
        hidden: encoder widths ((64,)); the decoder mirrors them.
        code: bottleneck width (16).

    Example:

    >>> import numpy as np, hgzoo
    >>> model = hgzoo.anomaly.BehaviourAutoencoder(hidden=(8,), code=4)
    >>> model.anomaly_score(np.random.rand(3, 12, 12, 1)).shape
    (3,)
    """

    def __init__(self, image_size=IMAGE_SIZE, hidden=(64,), code=16, name="behaviour_autoencoder", dtype=None,
                 **kwargs):
        hidden = [int(h) for h in hidden]
        inputs = keras.Input((image_size, image_size, 1), name="images")
        x = keras.layers.Flatten(name="flatten", dtype=dtype)(inputs)
        for i, width in enumerate(hidden):
            x = keras.layers.Dense(width, activation="relu", name=f"encoder{i + 1}", dtype=dtype)(x)
        x = keras.layers.Dense(int(code), activation="relu", name="code", dtype=dtype)(x)
        for i, width in enumerate(reversed(hidden)):
            x = keras.layers.Dense(width, activation="relu", name=f"decoder{i + 1}", dtype=dtype)(x)
        x = keras.layers.Dense(image_size * image_size, activation="sigmoid", name="reconstruction",
                               dtype="float32")(x)
        outputs = keras.layers.Reshape((image_size, image_size, 1), name="image", dtype="float32")(x)
        super().__init__(inputs=inputs, outputs=outputs, name=name, dtype=dtype, **kwargs)
        self._args = {"image_size": int(image_size), "hidden": hidden, "code": int(code)}
        self.compile()

    def get_config(self):
        return {**super().get_config(), **self._args}

    def compile(self, optimizer="auto", loss="auto", **kwargs):
        """Keras ``compile`` with ``"auto"`` defaults: Adam(1e-3), mean squared error."""
        super().compile(optimizer=keras.optimizers.Adam(1e-3) if optimizer == "auto" else optimizer,
                        loss="mse" if loss == "auto" else loss, **kwargs)

    def anomaly_score(self, images, batch_size=1024):
        """Mean squared reconstruction error of each image, (B,): higher is more anomalous."""
        images = check_images(images, self._args["image_size"])
        out = self.predict(images, batch_size=batch_size, verbose=0) if len(images) else images
        return np.mean((np.asarray(out, np.float32) - images) ** 2, axis=(1, 2, 3))
