"""ARL: Rethinking Class Relations: Absolute-relative Supervised and Unsupervised Few-shot Learning
(CVPR 2021; facts: ``papers.md`` §6), as a wrapper over any hgzoo few-shot model."""

import keras
import numpy as np
from keras import ops

from hgzoo.errors import InvalidEpisodeError
from hgzoo.fewshot.base import FewShotModel, concrete_or_none
from hgzoo.fewshot.class_embeddings import check_class_embeddings
from hgzoo.models.search_space import Float
from hgzoo.registry import register_model

CLASS_IDS = "class_ids"


def _feature_layer(base, name):
    """The per-image feature layer: ``name``, the base's ``feature_layer``, or its last backbone block."""
    candidates = [name] if name else [getattr(base, "feature_layer", None), "encoder4_relu", "encoder4_pool"]
    for candidate in candidates:
        if candidate and any(layer.name == candidate for layer in base.layers):
            return candidate
    raise ValueError(
        f"{type(base).__name__} has no layer {name or candidates[1:]!r} of per-image features for the "
        "absolute heads: pass feature_layer=<layer name> (its output (images, h, w, c), support "
        "images then query images), or absolute_weight=0"
    )


def _base_inputs(base, episode):
    """What ``base``'s graph takes for the three episode inputs: SalNet adds its saliency maps, computed from them."""
    return base.with_saliency(episode) if hasattr(base, "with_saliency") else episode


@register_model(task="fewshot", name="arl")
class ARL(FewShotModel):
    """Absolute-relative learning around a few-shot model: soft relation targets and class heads.

    Wraps ``base`` (:class:`~hgzoo.fewshot.SoSN`, :class:`~hgzoo.fewshot.SalNet`,
    :class:`~hgzoo.fewshot.MlSo`, or any hgzoo few-shot model) and changes
    only how it is meta-trained; its outputs, serving signature and episode
    contract are the base's. Training episodes carry ``class_ids`` (B, N),
    the training-pool class of each episode label
    (``EpisodeSampler(..., class_ids=True)``); without
    them ARL trains as the base.

    - *Relative*: the relation target of (query q, class n) is
      ``(1 − relative_weight)·[q ∈ n] + relative_weight·max(0, cos(e_q, e_n))``
      with e the rows of ``class_embeddings``, in place of 0/1.
    - *Absolute*: a head on the base's per-image features (global average
      pool, then Dense) predicts each support and query image's class among
      all ``num_classes`` training classes (cross-entropy), and, when
      embeddings are given, a second Dense its class embedding (1 − cosine);
      both weighted by ``absolute_weight``. Used in meta-training only.
    - *Unsupervised*: :class:`~hgzoo.fewshot.data.class_id_episodes.PseudoClassSampler`
      episodes (each class one image, shots and queries its augmentations,
      ``class_ids`` the image indices) with ``num_classes=len(pool)`` and no
      embeddings: 0/1 relative targets and an instance-level absolute head.

    Bases whose per-image features are not one layer of their graph (SalNet
    fuses a foreground and a background encoder) take the relative part only
    (``absolute_weight=0``) unless ``feature_layer`` names one. ARL compiles
    with Adam(1e-3) and the base's loss, not the base's own optimizer (e.g.
    SalNet's per-module clipping): pass ``compile(optimizer=...)`` for that.

    ``relative_weight=0`` and ``absolute_weight=0`` switch ARL off: it is then
    the base model exactly (same outputs, same training steps).

    Design choices (the paper, ``papers.md`` §6, has no public code; only its
    abstract is known):

    - *Soft targets*: the paper replaces binary relation labels by semantic
      similarity; chose the cosine of class embeddings clipped at 0 and mixed
      with the one-hot label by ``relative_weight`` (0.5), because clipping
      keeps MSE / cross-entropy targets in [0, 1] and the mix keeps the true
      class the unique maximum even when unrelated names have cosines near
      those of related ones (sentence embeddings do).
    - *Absolute heads*: the paper predicts class labels and class embeddings
      from the encoder; chose a linear label head and a linear embedding head
      after global average pooling of the layer ``feature_layer`` (the base's
      last backbone block by default), since the few-shot encoders have no
      pooled vector of their own; weight 0.1, an auxiliary term.
    - *Class ids*: episodes name their pool classes by an extra input
      ``class_ids`` read only by the loss, so inference and serving keep the
      three-input contract.
    - *Unsupervised*: the paper trains without labels from augmented single
      images; chose shifts, 90° turns and flips as the augmentations and
      instance ids as the absolute labels (exemplar-style), since no class
      semantics exist there.
    - *Embeddings*: attributes when a dataset has them, else MiniLM sentence
      embeddings of class names (:func:`~hgzoo.fewshot.class_embeddings.sentence_embeddings`),
      else a user matrix; Omniglot: alphabet structure
      (:func:`~hgzoo.fewshot.class_embeddings.alphabet_embeddings`). They are
      stored as a non-trainable weight, so a saved model keeps them.

    Args:
        base: the few-shot model to train (a built hgzoo few-shot model).
        class_embeddings: (num_classes, D) matrix, row i the embedding of pool
            class i; None for no relative targets and no embedding head.
        num_classes: training classes (the label head's size); defaults to the
            embedding rows, and must equal them when both are given.
        relative_weight: the soft targets' share in [0, 1] (default 0.5 with
            embeddings, 0 without).
        absolute_weight: weight of the absolute heads' loss (0.1; 0: no heads).
        feature_layer: name of the base's per-image feature layer.

    Example:

    >>> import numpy as np, hgzoo
    >>> base = hgzoo.fewshot.SoSN(image_size=(28, 28), channels=1)
    >>> model = hgzoo.fewshot.ARL(base, class_embeddings=np.eye(10, 4))
    >>> episode = {"support_images": np.random.rand(1, 5, 28, 28, 1),
    ...            "support_labels": np.arange(5)[None],
    ...            "query_images": np.random.rand(1, 3, 28, 28, 1)}
    >>> bool(np.array_equal(model.predict_on_batch(episode), base.predict_on_batch(episode)))
    True
    """

    search_space = {
        "relative_weight": Float(0.0, 1.0),
        "absolute_weight": Float(0.01, 1.0, sampling="log"),
    }

    extra_input_names = (CLASS_IDS,)

    def __init__(
        self,
        base,
        class_embeddings=None,
        num_classes=None,
        relative_weight=None,
        absolute_weight=0.1,
        feature_layer=None,
        embedding_dim=None,
        name="arl",
        dtype=None,
        **kwargs,
    ):
        if isinstance(base, dict):  # a serialized base (from get_config): built under ARL's dtype policy
            config = {k: v for k, v in base.get("config", {}).items() if k != "dtype"}
            base = keras.saving.deserialize_keras_object({**base, "config": {**config, "dtype": dtype}})
        if not isinstance(base, FewShotModel):
            raise TypeError(f"base must be an hgzoo few-shot model, got {type(base).__name__}")
        if class_embeddings is not None:
            class_embeddings = check_class_embeddings(class_embeddings, num_classes)
            num_classes, embedding_dim = class_embeddings.shape
        relative_weight = (
            (0.5 if embedding_dim else 0.0) if relative_weight is None else float(relative_weight)
        )
        absolute_weight = float(absolute_weight)
        if not 0.0 <= relative_weight <= 1.0:
            raise ValueError(f"relative_weight must be in [0, 1], got {relative_weight}")
        if relative_weight > 0 and not embedding_dim:
            raise ValueError(
                "relative_weight > 0 needs class_embeddings (the similarities the soft targets come from)"
            )
        if absolute_weight < 0:
            raise ValueError(f"absolute_weight must be >= 0, got {absolute_weight}")
        if absolute_weight > 0 and not num_classes:
            raise ValueError(
                "absolute_weight > 0 needs the number of training classes: pass class_embeddings "
                "or num_classes"
            )
        # The base's own inputs (images, or clips for hgzoo.action models), the three episode ones.
        inputs = [
            keras.Input(batch_shape=tuple(t.shape), dtype=t.dtype, name=name)
            for t, name in zip(base.inputs, base.input_names)
        ]
        train_outputs = None
        if absolute_weight > 0:
            feature_layer = _feature_layer(base, feature_layer)
            joint = keras.Model(
                base.inputs,
                [base.outputs[0], base.get_layer(feature_layer).output],
                name=f"{base.name}_joint",
            )
            scores, features = joint(_base_inputs(base, inputs))
            pooled = keras.layers.GlobalAveragePooling2D(name="arl_pool", dtype=dtype)(features)
            train_outputs = [scores, keras.layers.Dense(num_classes, name="arl_label", dtype=dtype)(pooled)]
            if embedding_dim:
                train_outputs.append(
                    keras.layers.Dense(embedding_dim, name="arl_embedding", dtype=dtype)(pooled)
                )
            # The heads' outputs ride along (unused) at inference, so the heads are part of the saved graph.
            outputs = _First(name="arl_scores", dtype="float32")(train_outputs)
        else:
            feature_layer = None
            # Keras' own __call__: FewShotModel's checks values and on JAX would read these placeholders.
            outputs = keras.layers.Layer.__call__(base, _base_inputs(base, inputs))
        object.__setattr__(self, "_base_loss", base.default_loss)
        super().__init__(inputs=inputs, outputs=outputs, n_way=base.n_way, name=name, dtype=dtype, **kwargs)
        object.__setattr__(
            self, "_train_model", keras.Model(inputs, train_outputs) if train_outputs else None
        )
        self.base = base
        self.channels = base.channels
        for attribute in ("input_names", "item_dims", "check_shapes", "check_arrays"):
            object.__setattr__(self, attribute, getattr(base, attribute))
        self.num_classes = int(num_classes) if num_classes else None
        self.relative_weight, self.absolute_weight = relative_weight, absolute_weight
        if embedding_dim:
            self.class_embeddings = self.add_weight(
                name="class_embeddings",
                shape=(int(num_classes), int(embedding_dim)),
                trainable=False,
                initializer="zeros"
                if class_embeddings is None
                else keras.initializers.Constant(class_embeddings),
                dtype="float32",
            )
        self._args = {
            "base": keras.saving.serialize_keras_object(base),
            "num_classes": self.num_classes,
            "relative_weight": relative_weight,
            "absolute_weight": absolute_weight,
            "feature_layer": feature_layer,
            "embedding_dim": int(embedding_dim) if embedding_dim else None,
        }

    def get_config(self):
        return {**super().get_config(), **self._args}

    @property
    def default_loss(self):
        return getattr(self, "_base_loss", "mse")

    @property
    def switched_off(self):
        return self.relative_weight == 0 and self.absolute_weight == 0

    # --- inputs: the episode plus optional class ids --------------------------------------------------

    def _split(self, inputs):
        if isinstance(inputs, dict) and CLASS_IDS in inputs:
            return {k: inputs[k] for k in self.input_names}, inputs[CLASS_IDS]
        return inputs, None

    def _check_class_ids(self, class_ids, support_labels):
        ids, labels = np.asarray(class_ids), np.asarray(support_labels)
        n_way = int(labels.max()) + 1 if labels.size else 0
        if ids.ndim != 2 or ids.shape != (labels.shape[0], n_way):
            raise InvalidEpisodeError(
                f"class_ids must be (B, N) = {(labels.shape[0], n_way)}, one pool class per "
                f"episode class; got shape {ids.shape}"
            )
        limit = self.num_classes or np.inf
        if not np.issubdtype(ids.dtype, np.integer) or ids.min() < 0 or ids.max() >= limit:
            raise InvalidEpisodeError(
                f"class_ids must be integers in [0, {self.num_classes}) (the training classes); "
                f"got values in [{ids.min()}, {ids.max()}]"
            )
        return class_ids

    def _checked(self, x):
        if isinstance(x, dict) and CLASS_IDS in x:
            episode, class_ids = self._split(x)
            super()._checked(episode)
            values = [concrete_or_none(class_ids), concrete_or_none(episode[self.input_names[1]])]
            if all(v is not None for v in values):
                self._check_class_ids(*values)
            return x
        return super()._checked(x)  # a tf.data.Dataset comes back here batch by batch, class ids included

    def __call__(self, inputs, *args, **kwargs):
        episode, class_ids = self._split(inputs)
        if class_ids is not None:
            self._checked(inputs)
        return super().__call__(episode, *args, **kwargs)

    def call(self, inputs, training=None, mask=None):
        episode, _ = self._split(inputs)
        if training and self._train_model is not None:
            return tuple(self._train_model(episode, training=True))
        return super().call(episode, training=training, mask=mask)

    def compute_output_spec(self, inputs, training=None, mask=None):
        return super().compute_output_spec(self._split(inputs)[0], training=False, mask=mask)

    # --- training ------------------------------------------------------------------------------------

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        heads = ()
        if isinstance(y_pred, (list, tuple)):
            y_pred, *heads = y_pred
        class_ids = x.get(CLASS_IDS) if isinstance(x, dict) else None
        if class_ids is None or not training or self.switched_off:
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        class_ids = ops.cast(class_ids, "int32")
        y = ops.cast(y, "float32")
        target = y
        if self.relative_weight > 0:
            e = ops.take(self._unit_embeddings(), class_ids, axis=0)  # (B, N, D)
            similarity = ops.clip(ops.einsum("bnd,bmd->bnm", e, e), 0.0, 1.0)
            target = (1.0 - self.relative_weight) * y + self.relative_weight * ops.einsum(
                "bqn,bnm->bqm", y, similarity
            )
        loss = super().compute_loss(x, target, y_pred, sample_weight, training)
        if heads:
            loss = loss + ops.cast(
                self.absolute_weight * self._absolute_loss(x, y, class_ids, heads), loss.dtype
            )
        return loss

    def _unit_embeddings(self):
        e = ops.cast(self.class_embeddings, "float32")
        return e / ops.maximum(ops.sqrt(ops.sum(e * e, axis=-1, keepdims=True)), 1e-12)

    def _absolute_loss(self, x, y, class_ids, heads):
        """Cross-entropy of each image's pool class (+ 1 − cos to its embedding), support then queries."""
        support = ops.take_along_axis(class_ids, ops.cast(x[self.input_names[1]], "int32"), axis=1)
        query = ops.take_along_axis(class_ids, ops.cast(ops.argmax(y, axis=-1), "int32"), axis=1)
        ids = ops.concatenate([ops.reshape(support, (-1,)), ops.reshape(query, (-1,))], axis=0)
        logits = ops.cast(heads[0], "float32")
        loss = ops.mean(keras.losses.sparse_categorical_crossentropy(ids, logits, from_logits=True))
        if len(heads) > 1:
            predicted = ops.cast(heads[1], "float32")
            predicted = predicted / ops.maximum(
                ops.sqrt(ops.sum(predicted * predicted, -1, keepdims=True)), 1e-12
            )
            loss = loss + ops.mean(
                1.0 - ops.sum(predicted * ops.take(self._unit_embeddings(), ids, axis=0), -1)
            )
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if isinstance(y_pred, (list, tuple)):
            y_pred = y_pred[0]
        return super().compute_metrics(x, y, y_pred, sample_weight)


@keras.saving.register_keras_serializable("hgzoo")
class _First(keras.layers.Layer):
    """[scores, head outputs...] -> scores: keeps the heads in the graph (and the saved file) at no cost."""

    def call(self, inputs):
        return inputs[0]

    def compute_output_shape(self, input_shapes):
        return input_shapes[0]
