"""FewShotModel: the episode contract, checks and compile defaults shared by few-shot models (of images, and of
clips in :mod:`hgzoo.action`)."""

import keras
import numpy as np
from keras import ops

from hgzoo.errors import InvalidEpisodeError
from hgzoo.api_export import hgzoo_export
from hgzoo.fewshot.episodes import (INPUT_NAMES, check_episode, check_episode_labels, check_episode_shapes,
                                    checked_dataset, episode_error, episode_values)
from hgzoo.models.base import ZooModel


def episode_inputs():
    """The three symbolic inputs; channels are left open so a wrong count gets hgzoo's own error."""
    return [keras.Input((None, None, None, None), name="support_images"),
            keras.Input((None,), dtype="int32", name="support_labels"),
            keras.Input((None, None, None, None), name="query_images")]


def concrete_or_none(x):
    """x as numpy when its values exist now (eager call), else None (symbolic / traced)."""
    if isinstance(x, keras.KerasTensor):
        return None
    if isinstance(x, (np.ndarray, np.generic, list, tuple, int, float)):
        return np.asarray(x)
    if keras.backend.backend() == "jax":
        import jax

        return None if isinstance(x, jax.core.Tracer) else np.asarray(x)
    numpy = getattr(x, "numpy", None)  # TensorFlow's eager tensors have it, its graph tensors do not
    return numpy() if callable(numpy) else None


@keras.saving.register_keras_serializable("hgzoo")
class RelationCrossEntropy(keras.losses.Loss):
    """Softmax cross-entropy over classes for models that output sigmoid scores.

    The scores' logits log(s / (1 - s)) are the relation network's own
    outputs, so this is cross-entropy over the relation logits. Targets are
    normalised to sum to 1 over the classes: soft targets (ARL's relative
    ones) may sum to more, and TensorFlow's softmax cross-entropy gradient
    (softmax − target) is right only for a distribution; unnormalised, it
    pushes every logit up until the scores saturate at 1.

    Example:

    >>> import numpy as np
    >>> loss = RelationCrossEntropy()
    >>> round(float(loss(np.eye(2)[None], np.array([[[0.9, 0.1], [0.1, 0.9]]]))), 4)
    0.0123
    """

    def __init__(self, epsilon=1e-6, name="relation_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.epsilon = float(epsilon)

    def call(self, y_true, y_pred):
        s = ops.clip(ops.cast(y_pred, "float32"), self.epsilon, 1.0 - self.epsilon)
        logits = ops.log(s) - ops.log(1.0 - s)
        y = ops.cast(y_true, "float32")
        y = y / ops.maximum(ops.sum(y, axis=-1, keepdims=True), self.epsilon)
        return keras.losses.categorical_crossentropy(y, logits, from_logits=True)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@hgzoo_export
class FewShotModel(ZooModel):
    """Base of few-shot models: an episode batch in, class scores out.

    Inputs (a dict, or a list in this order): ``support_images``
    (B, N·K, H, W, C) float in [0, 1]; ``support_labels`` (B, N·K) int, each
    class 0..N-1 K times; ``query_images`` (B, Q, H, W, C). Output
    ``scores`` (B, Q, N), higher for the more likely class. N and K come from
    the inputs on every call (TensorFlow; on JAX, training needs a fixed
    ``n_way``). Every entry point (a direct call, ``predict``,
    ``predict_on_batch``, ``evaluate``, ``test_on_batch``, ``fit``,
    ``train_on_batch``; arrays, or a ``tf.data.Dataset`` batch by batch;
    Python generators and ``PyDataset`` inputs are not checked)
    checks the episode with :func:`~hgzoo.fewshot.check_episode`: shapes,
    labels, and pixels (finite, in [0, 1]: 0-255 images are refused, not
    rescaled, since a guess could silently be wrong), raising
    :class:`~hgzoo.errors.InvalidEpisodeError` naming the problem.

    Compiles itself with Adam(1e-3), the model's published loss and accuracy.

    A subclass over other episode items (clips in :mod:`hgzoo.action`) sets
    the class attributes ``input_names``, ``item_dims`` (3 for (H, W, C)),
    ``check_shapes`` and ``check_arrays`` (its versions of
    :func:`~hgzoo.fewshot.episodes.check_episode_shapes` and
    :func:`~hgzoo.fewshot.check_episode`); everything else here applies.

    Example:

    >>> import hgzoo
    >>> model = hgzoo.fewshot.SoSN()
    >>> model.channels, isinstance(model, FewShotModel)
    (3, True)
    """

    channels = 3
    default_loss = "mse"
    input_names = INPUT_NAMES
    item_dims = 3
    check_shapes = staticmethod(check_episode_shapes)
    check_arrays = staticmethod(check_episode)
    extra_input_names = ()  # further dict inputs a subclass checks in `_checked` (ARL's class ids)

    def __init__(self, *args, n_way=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.n_way = int(n_way) if n_way else None
        self.compile()

    def __call__(self, inputs, *args, **kwargs):
        # Checked before Keras' __call__, whose error wrapping would paste the whole arrays into the message.
        if episode_values(inputs, self.input_names) is not None:
            self._checked(inputs)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, training=None, mask=None):
        # A subclass may pass more inputs after the three (SalNet's saliency maps).
        values = [inputs[k] for k in self.input_names] if isinstance(inputs, dict) else list(inputs)[:3]
        self.check_shapes(*(v.shape for v in values), channels=self.channels)
        arrays = [concrete_or_none(v) for v in values]
        if all(a is not None for a in arrays):
            self._check_n_way(self.check_arrays(*arrays, channels=self.channels)[0])
        elif arrays[1] is not None:
            self._check_n_way(check_episode_labels(arrays[1])[0])
        return super().call(inputs, training=training, mask=mask)

    def _check_n_way(self, n_way):
        if self.n_way and n_way != self.n_way:
            raise InvalidEpisodeError(f"this model was built with n_way={self.n_way} but the episode has "
                                      f"{n_way} classes; build it with n_way=None to take N from the labels")

    # Keras' predict / evaluate / fit run `call` traced, where label and pixel
    # values are unknown: each entry point checks the arrays it is given here,
    # as a direct call does, and checks tf.data batches as they are produced.

    def _checked(self, x):
        """``x`` after the episode checks: arrays checked now, a tf.data.Dataset batch by batch."""
        values = episode_values(x, self.input_names)
        if values is not None:
            arrays = [concrete_or_none(v) for v in values]
            if all(a is not None for a in arrays):
                self._check_n_way(self.check_arrays(*arrays, channels=self.channels)[0])
            return x
        return checked_dataset(x, self._checked, self.input_names, self.extra_input_names)

    def _all_variables(self):
        optimizer = list(self.optimizer.variables) if getattr(self, "optimizer", None) is not None else []
        return list({id(v): v for v in [*self.variables, *optimizer, *self.metrics_variables]}.values())

    def _reattach(self, saved):
        """After an error mid-loop on JAX: Keras' JAX trainer detaches variable values while it
        iterates and reattaches them only when the loop ends, so a bad batch would leave the
        model unusable. Reattach its last state, or the values from before the call."""
        self.jax_state_sync()
        self._jax_state = None
        for variable, value in saved:
            if getattr(variable, "_value", 0) is None:
                variable.assign(value)

    def _run(self, method, x, *args, **kwargs):
        jax = keras.backend.backend() == "jax"
        saved = [(v, v.value) for v in self._all_variables()] if jax else None
        try:
            return method(self._checked(x), *args, **kwargs)
        except Exception as e:
            if jax:
                self._reattach(saved)
            error = episode_error(e)
            if error is None:
                raise
            raise error from None

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
        """Keras ``compile`` with ``"auto"`` defaults.

        ``loss``: ``"auto"`` is the model's published loss (SoSN: MSE to the
        one-hot target); ``"cross_entropy"`` is softmax cross-entropy over the
        relation logits. ``jit_compile="auto"`` is Keras' choice, except on
        JAX without a fixed ``n_way``, where inference reads the class count
        from the labels and so runs un-jitted.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(1e-3)
        if loss == "auto":
            loss = self.default_loss
        if loss == "cross_entropy":
            loss = RelationCrossEntropy()
        elif loss == "mse":
            loss = "mean_squared_error"
        if metrics == "auto":
            metrics = ["categorical_accuracy"]
        if jit_compile == "auto":
            jit_compile = False if keras.backend.backend() == "jax" and not self.n_way else "auto"
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit_compile, **kwargs)

    def serving_signature(self, input_dtype="float32"):
        """What :func:`hgzoo.export.export_for_serving` exports for this model.

        Returns ``(specs, fn)``: inputs ``support_images``, ``support_labels``
        (int32) and ``query_images`` (the model's ``input_names``); ``fn``
        returns ``{"scores": (B, Q, N), "classes": (B, Q) int32}``. With
        ``input_dtype="uint8"`` the images are 0-255.
        """
        if input_dtype not in ("float32", "uint8"):
            raise ValueError(f"input_dtype must be 'float32' or 'uint8', got {input_dtype!r}")
        item = ((None,) * (self.item_dims + 1) + (self.channels,), input_dtype)
        support_name, labels_name, query_name = self.input_names

        def scale(x):
            x = ops.cast(x, "float32")
            return x / 255.0 if input_dtype == "uint8" else x

        def serve(support, support_labels, query):
            scores = self([scale(support), support_labels, scale(query)], training=False)
            return {"scores": ops.cast(scores, "float32"), "classes": ops.cast(ops.argmax(scores, axis=-1), "int32")}

        return {support_name: item, labels_name: ((None, None), "int32"), query_name: item}, serve

    @property
    def input_contract(self):
        return {"range": [0.0, 1.0], "dtype": "float32", "channels": self.channels,
                "inputs": list(self.input_names), "output": "scores (B, Q, N)"}
