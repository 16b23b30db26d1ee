"""ZSKL: Zero-Shot Kernel Learning (Zhang and Koniusz, CVPR 2018), as its released MATLAB code trains it."""

import keras
import numpy as np
from keras import ops

from hgzoo.api_export import hgzoo_export
from hgzoo.models.base import ZooModel
from hgzoo.models.search_space import Choice, Float
from hgzoo.registry import register_model
from hgzoo.zeroshot.kernels import KERNELS, KernelCompatibility
from hgzoo.zeroshot.optimizers import VLFeatRMSprop


def zskl_loss(kernels, labels, beta=1.0):
    """The released loss (``rbf_ort_loss.m``) per sample, (B,).

    ``kernels`` (B, N, 2) = [k1, k2] over the N training classes, ``labels``
    (B,) int: (k1(y)−1)² + (k2(y)−1)² + β/(N−1)·Σ_{c≠y} (k1(c)² + k2(c)²).

    Example:

    >>> import numpy as np
    >>> k = np.array([[[1.0, 1.0], [0.5, 0.0], [0.0, 0.5]]])  # true class 0 perfect, others half-wrong
    >>> float(zskl_loss(k, np.array([0]), beta=1.0)[0])
    0.25
    """
    kernels = ops.convert_to_tensor(kernels)
    kernels = kernels if kernels.dtype == "float64" else ops.cast(kernels, "float32")
    n = kernels.shape[1]
    onehot = ops.cast(ops.one_hot(ops.cast(labels, "int32"), n), kernels.dtype)[..., None]
    weight = beta / max(n - 1, 1)
    terms = onehot * ops.square(kernels - 1.0) + (1.0 - onehot) * weight * ops.square(kernels)
    return ops.sum(terms, axis=(1, 2))


def energies(kernels):
    """(B, C) (k1−1)² + (k2−1)²: the released prediction takes the class of least energy."""
    return ops.sum(ops.square(kernels - 1.0), axis=-1)


@register_model(task="zeroshot", name="zskl")
class ZSKL(ZooModel):
    """Zero-shot kernel learning: image features (B, D) in, class scores (B, C) out.

    The model learns one projection W (D×A) between image features and class
    embeddings (attributes, or sentence embeddings of class names) and
    compares them both ways round with a kernel (see
    :mod:`hgzoo.zeroshot.kernels`). ``scores`` = −[(k1−1)² + (k2−1)²], so the
    arg-max is the released prediction rule (arg-min energy, first class on
    ties). The C classes are the rows of the class-embedding matrix, a
    non-trainable variable: the training classes for ``fit``, any other
    classes at test time via :meth:`with_classes` (or
    :meth:`set_class_embeddings` for the same count). Inputs must be
    pre-processed as the official code does
    (:func:`~hgzoo.zeroshot.normalise_features`,
    :func:`~hgzoo.zeroshot.normalise_attributes`; :class:`~hgzoo.zeroshot.ZSLData`
    does both).

    Training (``fit(features, labels)``, labels indexing the current classes)
    minimises the released loss (:func:`zskl_loss`) with the released
    recipe: :class:`~hgzoo.zeroshot.VLFeatRMSprop` (lr 8e-4, ρ 0.99, ε 1e-2),
    batch 1, 12,000 iterations (:func:`~hgzoo.zeroshot.train_zskl`). The
    parity test against the official code's outputs is
    ``tests/zeroshot/test_zskl_parity.py``. Facts: ``papers.md`` §10.

    **Orthogonality.** The paper constrains W to orthonormal columns, but the
    released loss has no such term (its solver folder is missing). The default
    ``orthogonality="none"`` is the released code; ``"penalty"`` adds
    ``orthogonality_weight``·‖WᵀW − I‖²_F to the loss (a soft constraint, any
    optimizer); ``"retraction"`` maps W back onto orthonormal columns (QR)
    after every optimizer step (a hard constraint, a retraction on the
    Stiefel manifold; orthonormal rows instead when D < A, e.g. 384-d text
    embeddings of 128-d features). Neither is the authors' solver.

    Args:
        feature_dim: D (2048 for the GBU ResNet-101 features).
        attribute_dim: A.
        num_classes: C, rows of the class-embedding matrix.
        class_embeddings: optional (C, A) array assigned at construction
            (pre-processed; not part of the config: it is saved as a weight).
        kernel: ``"gaussian"`` (released), ``"polynomial"``, ``"cauchy"``.
        sigma: kernel width σ (0.8). beta: weight β of the negatives (1).
        offset, degree: the polynomial kernel's c (1) and p (2).
        orthogonality: ``"none"``, ``"penalty"`` or ``"retraction"``.
        orthogonality_weight: λ of the penalty (1e-2).
        seed: seed of W's initialisation.

    Example:

    >>> import numpy as np, hgzoo
    >>> att = hgzoo.zeroshot.normalise_attributes(np.random.rand(5, 4))
    >>> model = hgzoo.zeroshot.ZSKL(feature_dim=16, attribute_dim=4, num_classes=5, class_embeddings=att)
    >>> x = hgzoo.zeroshot.normalise_features(np.random.rand(3, 16))
    >>> tuple(model.predict_on_batch(x).shape)
    (3, 5)
    >>> history = model.fit(x, np.array([0, 1, 2]), batch_size=1, epochs=1, verbose=0)
    >>> unseen = model.with_classes(att[:2])
    >>> tuple(unseen.predict_on_batch(x).shape)
    (3, 2)
    """

    search_space = {
        "kernel": Choice(list(KERNELS)),
        "sigma": Float(0.2, 3.0, sampling="log"),
        "beta": Float(0.1, 10.0, sampling="log"),
        "orthogonality": Choice(["none", "penalty", "retraction"]),
    }

    def __init__(self, feature_dim, attribute_dim, num_classes, class_embeddings=None, kernel="gaussian",
                 sigma=0.8, beta=1.0, offset=1.0, degree=2, orthogonality="none", orthogonality_weight=1e-2,
                 seed=None, name="zskl", dtype=None, **kwargs):
        features = keras.Input((int(feature_dim),), name="features")
        compatibility = KernelCompatibility(num_classes, attribute_dim, kernel=kernel, sigma=sigma, offset=offset,
                                            degree=degree, orthogonality=orthogonality, seed=seed,
                                            name="compatibility", dtype=dtype)
        kernels = compatibility(features)
        scores = _Scores(name="scores", dtype=compatibility._inner)(kernels)
        super().__init__(inputs=features, outputs=scores, name=name, dtype=dtype, **kwargs)
        self.compatibility = compatibility
        self._args = {"feature_dim": int(feature_dim), "attribute_dim": int(attribute_dim),
                      "num_classes": int(num_classes), "kernel": kernel, "sigma": float(sigma), "beta": float(beta),
                      "offset": float(offset), "degree": int(degree), "orthogonality": orthogonality,
                      "orthogonality_weight": float(orthogonality_weight), "seed": seed}
        if class_embeddings is not None:
            self.set_class_embeddings(class_embeddings)
        self.compile()

    def get_config(self):
        return {**super().get_config(), **self._args}

    def compile(self, optimizer="auto", metrics="auto", **kwargs):
        """Keras ``compile`` with the released recipe: :class:`VLFeatRMSprop` (lr 8e-4, ρ 0.99, ε 1e-2),
        the released loss (built in: :meth:`compute_loss`; ``loss=`` is not taken), accuracy."""
        if kwargs.get("loss") is not None:
            raise ValueError("ZSKL trains with its released loss (zskl_loss); compile(loss=...) is not taken")
        kwargs.pop("loss", None)
        if optimizer == "auto":
            optimizer = VLFeatRMSprop()
        if metrics == "auto":
            metrics = ["sparse_categorical_accuracy"]
        super().compile(optimizer=optimizer, metrics=metrics, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The released loss of the batch (mean over samples), plus the orthogonality penalty if chosen."""
        one_hot = len(y.shape) == 2 and y.shape[-1] not in (None, 1)
        labels = ops.argmax(y, axis=-1) if one_hot else ops.reshape(y, (-1,))
        per_sample = zskl_loss(self.compatibility(x), labels, self._args["beta"])
        if sample_weight is not None:
            per_sample = per_sample * ops.cast(ops.reshape(sample_weight, (-1,)), per_sample.dtype)
        loss = ops.mean(per_sample)
        if self._args["orthogonality"] == "penalty":
            loss = loss + self._args["orthogonality_weight"] * self.compatibility.orthogonality_penalty()
        return loss

    def set_class_embeddings(self, class_embeddings):
        """Assign a (C, A) class-embedding matrix of this model's C and A in place."""
        a = _checked_embeddings(class_embeddings, self._args["attribute_dim"], self._args["num_classes"])
        self.compatibility.set_class_embeddings(a)

    @property
    def class_embeddings(self):
        """The current (C, A) class-embedding matrix, as numpy."""
        return np.asarray(keras.ops.convert_to_numpy(self.compatibility.class_embeddings))

    def with_classes(self, class_embeddings):
        """A ZSKL sharing nothing but a copy of this one's W, scoring the classes of ``class_embeddings`` (C', A)."""
        a = _checked_embeddings(class_embeddings, self._args["attribute_dim"])
        config = {**self.get_config(), "num_classes": len(a)}
        config.pop("trainable", None)
        model = type(self).from_config(config)
        model.compatibility.projection.assign(keras.ops.convert_to_numpy(self.compatibility.projection))
        model.set_class_embeddings(a)
        return model

    def score_classes(self, features, class_embeddings, batch_size=4096):
        """(N, C') scores of ``features`` against any (C', A) ``class_embeddings``, eagerly and without
        building a model (what evaluation over changing class sets uses)."""
        a = _checked_embeddings(class_embeddings, self._args["attribute_dim"])
        x = np.asarray(features, np.float32)
        parts = [keras.ops.convert_to_numpy(-energies(self.compatibility.kernels_for(x[i:i + batch_size], a)))
                 for i in range(0, len(x), batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, len(a)), np.float32)

    def serving_signature(self, input_dtype="float32"):
        """Input ``features`` (B, D) float32 (pre-processed); outputs ``scores`` (B, C) and ``classes`` (B,)
        int32. The class-embedding matrix is a variable of the export: export ``with_classes(new)`` as a new
        version to serve other classes with the same W."""
        if input_dtype != "float32":
            raise ValueError(f"ZSKL serves float32 features, got input_dtype={input_dtype!r}")

        def serve(features):
            scores = self(features, training=False)
            return {"scores": scores, "classes": ops.cast(ops.argmax(scores, axis=-1), "int32")}

        return {"features": ((None, self._args["feature_dim"]), "float32")}, serve

    @property
    def input_contract(self):
        return {"inputs": ["features"], "preprocessing": "features minus the trainval mean, rows l2-normalised",
                "classes": self._args["num_classes"], "output": "scores (B, C), higher is better"}


@hgzoo_export
class _Scores(keras.layers.Layer):
    """−energy per class, float32."""

    def call(self, kernels):
        return -energies(kernels)

    def compute_output_spec(self, kernels):
        return keras.KerasTensor(kernels.shape[:2], kernels.dtype)


def _checked_embeddings(class_embeddings, attribute_dim, num_classes=None):
    a = np.asarray(keras.ops.convert_to_numpy(class_embeddings), np.float32)
    if a.ndim != 2 or a.shape[1] != attribute_dim or (num_classes is not None and a.shape[0] != num_classes):
        want = f"({num_classes if num_classes is not None else 'C'}, {attribute_dim})"
        raise ValueError(f"class_embeddings must be a {want} matrix (classes × attributes), got shape {a.shape}"
                         + ("; for another class count use model.with_classes(...)" if num_classes else ""))
    if not np.isfinite(a).all():
        raise ValueError("class_embeddings contain NaN or infinite values")
    return a
