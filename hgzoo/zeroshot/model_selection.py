"""Model selection for generalised zero-shot learning (Zhang and Koniusz, 2018): a gate routes each
sample to a seen-class expert or an unseen-class expert.

In GZSL a test sample may belong to any class, seen or unseen; one classifier
over all classes is biased towards the seen classes it was trained on. Here a
seen/unseen gate, trained on real seen-class features against features of
the unseen classes synthesised by a conditional generator
(:mod:`hgzoo.zeroshot.generator`), picks the expert: a classifier of the seen
classes (trained on real features), or ZSKL over the unseen classes.

The paper has no code; the choices below are written down here:

- the gate is a one-hidden-layer MLP with a sigmoid, p(unseen | x), trained
  with balanced binary cross-entropy; a sample goes to the unseen expert when
  p > ``threshold`` (0.5);
- the seen expert is a one-hidden-layer softmax MLP on real seen features;
- the unseen expert is ZSKL's kernel compatibility with the unseen class
  embeddings (its W trained on the seen classes, as ZSKL trains);
- all three read the features after ZSKL's official pre-processing (minus
  the seen (trainval) mean, ℓ2-normalised), done inside the model, so it
  takes raw features;
- selection is hard (the paper's "model selection"): the output is the
  chosen expert's class probabilities, zero for the other expert's classes.

Example:

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> model = GZSLModelSelection(feature_dim=6, attribute_dim=3, seen_classes=[0, 1, 2], unseen_classes=[3, 4],
...                            hidden=8)
>>> model.set_class_embeddings(rng.random((5, 3)))
>>> probabilities = model.predict_on_batch(rng.random((4, 6)))
>>> probabilities.shape, bool(np.allclose(probabilities.sum(1), 1.0, atol=1e-5))
((4, 5), True)
"""

import keras
import numpy as np
from keras import ops

from hgzoo.api_export import hgzoo_export
from hgzoo.models.base import ZooModel
from hgzoo.registry import register_model
from hgzoo.zeroshot.kernels import KernelCompatibility
from hgzoo.zeroshot.zskl import energies


@hgzoo_export
class FeatureNormalisation(keras.layers.Layer):
    """ZSKL's feature pre-processing as a layer: x − mean (a non-trainable variable), rows ℓ2-normalised.

    Example:

    >>> import numpy as np
    >>> layer = FeatureNormalisation()
    >>> y = np.asarray(layer(np.array([[3.0, 4.0]], "float32")))
    >>> [round(float(v), 4) for v in y[0]]
    [0.6, 0.8]
    """

    def build(self, input_shape):
        self.mean = self.add_weight((int(input_shape[-1]),), "zeros", name="mean", trainable=False)

    def call(self, x):
        x = ops.cast(x, "float32") - ops.cast(self.mean, "float32")
        norm = ops.sqrt(ops.sum(ops.square(x), axis=-1, keepdims=True))
        return ops.cast(x / ops.where(norm > 0, norm, 1.0), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape


def _mlp(x, hidden, units, activation, name, dtype):
    x = keras.layers.Dense(hidden, activation="relu", name=f"{name}_hidden", dtype=dtype)(x)
    x = keras.layers.Dense(units, name=f"{name}_logits", dtype=dtype)(x)
    return keras.layers.Activation(activation, name=f"{name}_output", dtype="float32")(x)


@hgzoo_export
class ExpertRouting(keras.layers.Layer):
    """Hard model selection: p_unseen (B,1), seen probs (B,S), unseen probs (B,U) → (B, C) probabilities
    in class order (``order``: the class id of each of the S + U columns).

    Example:

    >>> import numpy as np
    >>> route = ExpertRouting(order=[0, 2, 1], threshold=0.5)
    >>> out = route(np.array([[0.2], [0.9]]), np.array([[0.7, 0.3], [0.6, 0.4]]), np.array([[1.0], [1.0]]))
    >>> [[round(float(v), 2) for v in row] for row in np.asarray(out)]
    [[0.7, 0.0, 0.3], [0.0, 1.0, 0.0]]
    """

    def __init__(self, order, threshold=0.5, **kwargs):
        super().__init__(**kwargs)
        self.order, self.threshold = [int(c) for c in order], float(threshold)
        self._columns = np.argsort(self.order)  # output class c <- input column _columns[c]

    def call(self, gate, seen, unseen):
        gate, seen, unseen = (ops.cast(t, "float32") for t in (gate, seen, unseen))
        unseen_chosen = ops.cast(gate > self.threshold, "float32")
        joined = ops.concatenate([(1.0 - unseen_chosen) * seen, unseen_chosen * unseen], axis=-1)
        return ops.take(joined, self._columns, axis=1)

    def compute_output_shape(self, gate_shape, seen_shape, unseen_shape):
        return (gate_shape[0], len(self.order))

    def get_config(self):
        return {**super().get_config(), "order": self.order, "threshold": self.threshold}


@register_model(task="zeroshot", name="gzsl_model_selection")
class GZSLModelSelection(ZooModel):
    """GZSL by model selection: raw features (B, D) in, probabilities over all C classes (B, C) out.

    See the module docstring for the method and the choices made. Train the
    parts with :func:`train_model_selection`; its three outputs are also
    reachable: :meth:`gate_probability`, and :meth:`experts` (seen / unseen
    predictions).

    Args:
        feature_dim: D. attribute_dim: A.
        seen_classes, unseen_classes: class ids (disjoint; together 0..C−1).
        hidden: width of the gate's and the seen expert's hidden layer.
        threshold: route to the unseen expert when p(unseen | x) > threshold.
        kernel, sigma: the unseen ZSKL expert's kernel.

    Example:

    >>> model = GZSLModelSelection(feature_dim=6, attribute_dim=3, seen_classes=[0, 2], unseen_classes=[1], hidden=4)
    >>> model.output_shape
    (None, 3)
    """

    def __init__(self, feature_dim, attribute_dim, seen_classes, unseen_classes, hidden=256, threshold=0.5,
                 kernel="gaussian", sigma=0.8, name="gzsl_model_selection", dtype=None, **kwargs):
        seen, unseen = [int(c) for c in seen_classes], [int(c) for c in unseen_classes]
        if set(seen) & set(unseen):
            raise ValueError(f"seen and unseen classes overlap: {sorted(set(seen) & set(unseen))}")
        if sorted(seen + unseen) != list(range(len(seen) + len(unseen))):
            raise ValueError("seen_classes and unseen_classes together must be the class ids 0..C-1")
        features = keras.Input((int(feature_dim),), name="features")
        x = FeatureNormalisation(name="normalisation", dtype=dtype)(features)
        gate = _mlp(x, int(hidden), 1, "sigmoid", "gate", dtype)
        seen_probs = _mlp(x, int(hidden), len(seen), "softmax", "seen_expert", dtype)
        compatibility = KernelCompatibility(len(unseen), int(attribute_dim), kernel=kernel, sigma=sigma,
                                            name="unseen_expert", dtype=dtype)
        unseen_probs = _EnergySoftmax(name="unseen_expert_output")(compatibility(x))
        out = ExpertRouting(seen + unseen, threshold, name="routing")(gate, seen_probs, unseen_probs)
        super().__init__(inputs=features, outputs=out, name=name, dtype=dtype, **kwargs)
        self._args = {"feature_dim": int(feature_dim), "attribute_dim": int(attribute_dim), "seen_classes": seen,
                      "unseen_classes": unseen, "hidden": int(hidden), "threshold": float(threshold),
                      "kernel": kernel, "sigma": float(sigma)}
        self.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                     metrics=["sparse_categorical_accuracy"])

    def get_config(self):
        return {**super().get_config(), **self._args}

    def part(self, name):
        """A Keras model from the raw features to one part's output: ``"gate"``, ``"seen_expert"``,
        ``"unseen_expert"`` (sharing this model's layers and weights)."""
        return keras.Model(self.inputs, self.get_layer(f"{name}_output").output, name=f"{self.name}_{name}")

    def set_class_embeddings(self, class_embeddings):
        """The (C, A) pre-processed class embeddings of all classes; the unseen expert keeps the unseen rows."""
        a = np.asarray(class_embeddings, np.float32)
        want = (len(self._args["seen_classes"]) + len(self._args["unseen_classes"]), self._args["attribute_dim"])
        if a.shape != want or not np.isfinite(a).all():
            raise ValueError(f"class_embeddings must be a finite (C, A) = {want} matrix, got shape {a.shape}")
        self.get_layer("unseen_expert").set_class_embeddings(a[self._args["unseen_classes"]])

    def gate_probability(self, features):
        """(N,) p(unseen | x)."""
        return np.asarray(self.part("gate").predict(np.asarray(features, np.float32), verbose=0))[:, 0]


@hgzoo_export
class _EnergySoftmax(keras.layers.Layer):
    """softmax(−energy / 0.1) over classes: ZSKL's scores as probabilities (the arg-max is ZSKL's rule)."""

    def call(self, kernels):
        return ops.softmax(-energies(ops.cast(kernels, "float32")) / 0.1, axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape[:2]


def _fit_part(part, x, y, loss, epochs, batch_size, sample_weight=None, seed=None):
    part.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    order = np.random.default_rng(seed).permutation(len(x))
    weights = None if sample_weight is None else sample_weight[order]
    part.fit(x[order], y[order], sample_weight=weights, epochs=epochs, batch_size=batch_size, verbose=0)


def train_model_selection(model, seen_features, seen_labels, class_embeddings, generator, zskl, per_class=200,
                          epochs=20, batch_size=128, seed=None):
    """Train a :class:`GZSLModelSelection`'s parts; returns the model.

    Args:
        model: the model to train (its seen / unseen classes say which is which).
        seen_features, seen_labels: real training (trainval) features (N, D), raw, and their class ids.
        class_embeddings: (C, A) embeddings of all classes, as ``generator`` and ``zskl`` were given them
            (ZSKL's pre-processed attributes).
        generator: a trained :class:`~hgzoo.zeroshot.FeatureGenerator` (raw feature space).
        zskl: a :class:`~hgzoo.zeroshot.ZSKL` trained on the seen classes (its W becomes the unseen expert's).
        per_class: generated features per unseen class for the gate.
        epochs, batch_size: of the gate's and the seen expert's training (Adam 1e-3).
    """
    cfg = model.get_config()
    seen, unseen = np.asarray(cfg["seen_classes"]), np.asarray(cfg["unseen_classes"])
    x = np.asarray(seen_features, np.float32)
    y = np.asarray(seen_labels).reshape(-1)
    if not np.isin(y, seen).all():
        raise ValueError(f"seen_labels hold classes {sorted(set(y.tolist()) - set(seen.tolist()))} that are not "
                         "the model's seen_classes")
    att = np.asarray(class_embeddings, np.float32)
    model.get_layer("normalisation").mean.assign(x.mean(axis=0))
    model.set_class_embeddings(att)
    model.get_layer("unseen_expert").projection.assign(keras.ops.convert_to_numpy(zskl.compatibility.projection))
    fake = generator.generate(att[unseen], per_class, seed=seed)
    gate_x = np.concatenate([x, fake])
    gate_y = np.concatenate([np.zeros(len(x)), np.ones(len(fake))]).astype(np.float32)
    balance = np.concatenate([np.full(len(x), 0.5 / len(x)), np.full(len(fake), 0.5 / len(fake))]) * len(gate_x)
    _fit_part(model.part("gate"), gate_x, gate_y, "binary_crossentropy", epochs, batch_size, balance, seed)
    _fit_part(model.part("seen_expert"), x, np.searchsorted(seen, y), "sparse_categorical_crossentropy", epochs,
              batch_size, seed=seed)
    return model


def evaluate_model_selection(model, data, batch_size=4096):
    """The GBU numbers of a trained :class:`GZSLModelSelection` on ``data`` (a :class:`~hgzoo.zeroshot.ZSLData`
    with raw features: the model pre-processes them itself): GZSL ``u``, ``s``, ``H`` from its routed
    predictions over all classes, and ``zsl``, the unseen expert's per-class accuracy on test-unseen among
    the unseen classes (conventional ZSL, no gate)."""
    from hgzoo.zeroshot.metrics import gzsl_metrics, per_class_accuracy

    unseen = np.asarray(model.get_config()["unseen_classes"])
    x_u, y_u = data.split("test_unseen")
    x_s, y_s = data.split("test_seen")
    x_u, x_s = np.asarray(x_u, np.float32), np.asarray(x_s, np.float32)
    expert = model.part("unseen_expert").predict(x_u, batch_size=batch_size, verbose=0)
    result = {"zsl": per_class_accuracy(y_u, unseen[np.argmax(expert, axis=1)])}
    result.update(gzsl_metrics(y_u, np.argmax(model.predict(x_u, batch_size=batch_size, verbose=0), axis=1),
                               y_s, np.argmax(model.predict(x_s, batch_size=batch_size, verbose=0), axis=1)))
    return result
