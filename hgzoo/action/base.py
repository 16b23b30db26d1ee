"""ClipFewShotModel: the few-shot episode contract of :mod:`hgzoo.fewshot` with clips, checks and compile defaults."""

import keras
import numpy as np
from keras import ops

from hgzoo.action.episodes import (
    INPUT_NAMES,
    check_clip_episode,
    check_clip_episode_shapes,
    clip_episode_values,
)
from hgzoo.errors import InvalidEpisodeError
from hgzoo.fewshot import RelationCrossEntropy
from hgzoo.models.base import ZooModel


def clip_inputs():
    """The three symbolic inputs (B, count, T, H, W, C) with T, H, W and C left open."""
    return [keras.Input((None, None, None, None, None), name="support_clips"),
            keras.Input((None,), dtype="int32", name="support_labels"),
            keras.Input((None, None, None, None, None), name="query_clips")]


def concrete(x):
    """x as numpy when its values exist now (eager call), else None (symbolic / traced)."""
    if isinstance(x, (np.ndarray, np.generic, list, tuple, int, float)):
        return np.asarray(x)
    if keras.backend.backend() == "jax":
        import jax

        return None if isinstance(x, jax.core.Tracer) else np.asarray(x)
    numpy = getattr(x, "numpy", None)  # TensorFlow's eager tensors have it, its graph tensors do not
    return numpy() if callable(numpy) else None


class ClipFewShotModel(ZooModel):
    """Base of few-shot action models: a clip episode batch in, class scores out.

    Inputs (a dict, or a list in this order): ``support_clips`` (B, N·K, T,
    H, W, C) float in [0, 1]; ``support_labels`` (B, N·K) int, each class
    0..N-1 K times; ``query_clips`` (B, Q, T, H, W, C). Output ``scores``
    (B, Q, N). N and K come from the labels on every call (TensorFlow; on JAX,
    training needs a fixed ``n_way``). Direct calls, ``predict``,
    ``predict_on_batch``, ``evaluate``, ``fit``, ``test_on_batch`` and
    ``train_on_batch`` check arrays with
    :func:`~hgzoo.action.episodes.check_clip_episode` (shapes, labels, pixels
    in [0, 1]) and raise :class:`~hgzoo.errors.InvalidEpisodeError`;
    ``tf.data`` batches are not checked (a
    :class:`~hgzoo.action.episodes.ClipEpisodeSampler` makes valid ones).
    Compiles itself as the :mod:`hgzoo.fewshot` models do: Adam(1e-3), MSE to
    the one-hot target (``loss="cross_entropy"`` for softmax cross-entropy
    over the relation logits), categorical accuracy.

    Example:

    >>> import hgzoo
    >>> hgzoo.action.ARN(frames=4, image_size=(16, 16), filters=16, relation_filters=16).input_contract["inputs"]
    ['support_clips', 'support_labels', 'query_clips']
    """

    channels = 3

    def __init__(self, *args, n_way=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.n_way = int(n_way) if n_way else None
        self.compile()

    def __call__(self, inputs, *args, **kwargs):
        # Checked before Keras' __call__, whose error wrapping would paste the whole arrays into the message.
        if clip_episode_values(inputs) is not None:
            self._checked(inputs)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, training=None, mask=None):
        values = inputs if isinstance(inputs, dict) else dict(zip(INPUT_NAMES, inputs))
        check_clip_episode_shapes(*(values[k].shape for k in INPUT_NAMES), channels=self.channels)
        return super().call(inputs, training=training, mask=mask)

    def _check_n_way(self, n_way):
        if self.n_way and n_way != self.n_way:
            raise InvalidEpisodeError(f"this model was built with n_way={self.n_way} but the episode has "
                                      f"{n_way} classes; build it with n_way=None to take N from the labels")

    def _checked(self, x):
        values = clip_episode_values(x)
        if values is not None:
            arrays = [concrete(v) for v in values]
            if all(a is not None for a in arrays):
                self._check_n_way(check_clip_episode(*arrays, channels=self.channels)[0])
        return x

    def _run(self, method, x, *args, **kwargs):
        jax = keras.backend.backend() == "jax"
        saved = [(v, v.value) for v in self._all_variables()] if jax else None
        try:
            return method(self._checked(x), *args, **kwargs)
        except Exception:
            if jax:  # Keras' JAX trainer detaches variable values mid-loop: reattach them after an error
                self.jax_state_sync()
                self._jax_state = None
                for variable, value in saved:
                    if getattr(variable, "_value", 0) is None:
                        variable.assign(value)
            raise

    def _all_variables(self):
        optimizer = list(self.optimizer.variables) if getattr(self, "optimizer", None) is not None else []
        return list({id(v): v for v in [*self.variables, *optimizer, *self.metrics_variables]}.values())

    def predict(self, x, *args, **kwargs):
        return self._run(super().predict, x, *args, **kwargs)

    def predict_on_batch(self, x):
        return self._run(super().predict_on_batch, x)

    def evaluate(self, x=None, *args, **kwargs):
        return self._run(super().evaluate, x, *args, **kwargs)

    def test_on_batch(self, x, *args, **kwargs):
        return self._run(super().test_on_batch, x, *args, **kwargs)

    def fit(self, x=None, *args, **kwargs):
        return self._run(super().fit, x, *args, **kwargs)

    def train_on_batch(self, x, *args, **kwargs):
        return self._run(super().train_on_batch, x, *args, **kwargs)

    def compile(self, optimizer="auto", loss="auto", metrics="auto", jit_compile="auto", **kwargs):
        """Keras ``compile`` with ``"auto"`` defaults (see the class docstring); on JAX without a fixed
        ``n_way`` inference reads the class count from the labels and so runs un-jitted."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(1e-3)
        if loss in ("auto", "mse"):
            loss = "mean_squared_error"
        elif loss == "cross_entropy":
            loss = RelationCrossEntropy()
        if metrics == "auto":
            metrics = ["categorical_accuracy"]
        if jit_compile == "auto":
            jit_compile = False if keras.backend.backend() == "jax" and not self.n_way else "auto"
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit_compile, **kwargs)

    def serving_signature(self, input_dtype="float32"):
        """What :func:`hgzoo.export.export_for_serving` exports: ``support_clips``, ``support_labels``
        (int32), ``query_clips`` -> ``{"scores": (B, Q, N), "classes": (B, Q) int32}``; with
        ``input_dtype="uint8"`` the clips are 0-255."""
        if input_dtype not in ("float32", "uint8"):
            raise ValueError(f"input_dtype must be 'float32' or 'uint8', got {input_dtype!r}")
        clip = ((None, None, None, None, None, self.channels), input_dtype)

        def serve(support_clips, support_labels, query_clips):
            def scale(x):
                x = ops.cast(x, "float32")
                return x / 255.0 if input_dtype == "uint8" else x

            scores = self([scale(support_clips), support_labels, scale(query_clips)], training=False)
            return {"scores": ops.cast(scores, "float32"), "classes": ops.cast(ops.argmax(scores, axis=-1), "int32")}

        return {"support_clips": clip, "support_labels": ((None, None), "int32"), "query_clips": clip}, serve

    @property
    def input_contract(self):
        return {"range": [0.0, 1.0], "dtype": "float32", "channels": self.channels, "inputs": list(INPUT_NAMES),
                "output": "scores (B, Q, N)"}
