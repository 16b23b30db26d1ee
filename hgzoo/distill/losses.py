"""IID's matching losses as Keras losses (``papers.md`` §13), each returning one scalar.

- :class:`MeanMatching` (DM): ``‖mean f(real) − mean f(syn)‖²``;
- :class:`CovarianceMatching` (IID): ``‖Σ_real − Σ_syn‖²_F`` with
  ``Σ = mean_n[(X_n − X̄)(X_n − X̄)ᵀ]`` over local maps ``X_n ∈ R^{C×L}``
  (C×C, not divided by L), the real side stopped;
- :class:`ClassCentralisation` (IID): ``Σ_i ‖g(x_i) − mean_{j∈class(i)} g(x_j)‖²``
  on the synthetic images' embeddings, summed over every class in the batch
  (the official linear form, β = 0);
- :class:`IIDObjective`: the total for one class with the official weights,
  ``"dm"`` (cov 0.01, centralisation 0.05) or ``"idm"`` (cov 0.03,
  centralisation 0.01, plus IDM's cross-entropy of the synthetic images,
  0.5). Weights 0 give plain DM / IDM.

Covariances are computed in float32 whatever the policy.

Example:

>>> import numpy as np
>>> from hgzoo.distill import MeanMatching
>>> float(MeanMatching()(np.ones((4, 3)), np.zeros((2, 3))))
3.0
"""

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export

WEIGHTS = {"dm": {"covariance": 0.01, "centralisation": 0.05, "cross_entropy": 0.0},
           "idm": {"covariance": 0.03, "centralisation": 0.01, "cross_entropy": 0.5}}


class _ScalarLoss(keras.losses.Loss):
    def __init__(self, weight=1.0, name=None, **kwargs):
        kwargs.setdefault("reduction", "sum")
        super().__init__(name=name, **kwargs)
        self.weight = float(weight)

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}


@hgzoo_export
class MeanMatching(_ScalarLoss):
    """DM: squared distance between the mean real and mean synthetic embedding; ``y_true`` real (N, D), ``y_pred`` synthetic (M, D).

    Example:

    >>> import numpy as np
    >>> float(MeanMatching()(np.array([[1.0, 0.0], [3.0, 0.0]]), np.array([[0.0, 1.0]])))
    5.0
    """

    def call(self, y_true, y_pred):
        real = ops.stop_gradient(ops.mean(ops.cast(y_true, "float32"), axis=0))
        return self.weight * ops.sum(ops.square(real - ops.mean(ops.cast(y_pred, "float32"), axis=0)))


def local_covariance(maps):
    """``mean_n[(X_n − X̄)(X_n − X̄)ᵀ]`` of local maps (N, C, L) -> (C, C), in float32."""
    maps = ops.cast(maps, "float32")
    centred = maps - ops.mean(maps, axis=0, keepdims=True)
    return ops.mean(ops.einsum("ncl,ndl->ncd", centred, centred), axis=0)


@hgzoo_export
class CovarianceMatching(_ScalarLoss):
    """IID's covariance matching: ``weight · ‖Σ_real − Σ_syn‖²_F`` over local maps (N, C, L); real side stopped.

    Example:

    >>> import numpy as np
    >>> loss = CovarianceMatching(weight=0.01)
    >>> float(loss(np.zeros((3, 4, 5)), np.zeros((2, 4, 5))))
    0.0
    """

    def __init__(self, weight=0.01, name=None, **kwargs):
        super().__init__(weight, name=name, **kwargs)

    def call(self, y_true, y_pred):
        real = ops.stop_gradient(local_covariance(y_true))
        return self.weight * ops.sum(ops.square(real - local_covariance(y_pred)))


@hgzoo_export
class ClassCentralisation(_ScalarLoss):
    """IID's class centralisation: ``weight · Σ_i ‖g_i − mean of g over i's class‖²``; ``y_true`` labels (N,), ``y_pred`` embeddings (N, D).

    Example:

    >>> import numpy as np
    >>> loss = ClassCentralisation(num_classes=2, weight=1.0)
    >>> float(loss(np.array([0, 0, 1]), np.array([[0.0], [2.0], [5.0]])))
    2.0
    """

    def __init__(self, num_classes, weight=0.05, name=None, **kwargs):
        super().__init__(weight, name=name, **kwargs)
        self.num_classes = int(num_classes)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}

    def call(self, y_true, y_pred):
        g = ops.cast(y_pred, "float32")
        onehot = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), self.num_classes)  # (N, K)
        counts = ops.maximum(ops.sum(onehot, axis=0), 1.0)
        means = ops.matmul(ops.transpose(onehot), g) / counts[:, None]
        return self.weight * ops.sum(ops.square(g - ops.matmul(onehot, means)))


@hgzoo_export
class IIDObjective:
    """The distillation loss of one class: DM (or IDM) + IID's covariance matching + class centralisation.

    ``objective(real_feature, real_local, syn_feature, syn_local, syn_embedding, syn_logits, labels)``
    returns the scalar; a term with weight 0 or whose inputs are None is left
    out (the distillation loop adds the centralisation once over all classes,
    which is the same sum). The official totals sum this over classes.

    Args:
        variant: ``"dm"`` or ``"idm"``: picks the official weights (:data:`WEIGHTS`).
        covariance, centralisation, cross_entropy: override a weight
            (0 switches a term off; ``covariance=0, centralisation=0`` is plain DM).
        num_classes: for the centralisation and the IDM cross-entropy.

    Example:

    >>> import numpy as np
    >>> objective = IIDObjective("dm", covariance=0.0, centralisation=0.0)
    >>> float(objective(np.ones((4, 3)), None, np.zeros((2, 3)), None))
    3.0
    """

    def __init__(self, variant="dm", covariance=None, centralisation=None, cross_entropy=None, num_classes=10):
        if variant not in WEIGHTS:
            raise ValueError(f"variant must be one of {sorted(WEIGHTS)}, got {variant!r}")
        given = {"covariance": covariance, "centralisation": centralisation, "cross_entropy": cross_entropy}
        self.variant = variant
        self.weights = {k: float(WEIGHTS[variant][k] if v is None else v) for k, v in given.items()}
        self.mean = MeanMatching()
        self.covariance = CovarianceMatching(self.weights["covariance"])
        self.centralisation = ClassCentralisation(num_classes, self.weights["centralisation"])
        self.cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.num_classes = int(num_classes)

    def get_config(self):
        return {"variant": self.variant, **self.weights, "num_classes": self.num_classes}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __call__(self, real_feature, real_local, syn_feature, syn_local, syn_embedding=None, syn_logits=None,
                 labels=None):
        total = self.mean(real_feature, syn_feature)
        if self.weights["covariance"] and real_local is not None:
            total = total + self.covariance(real_local, syn_local)
        if self.weights["centralisation"] and syn_embedding is not None:
            total = total + self.centralisation(labels, syn_embedding)
        if self.weights["cross_entropy"] and syn_logits is not None:
            total = total + self.weights["cross_entropy"] * self.cross_entropy(labels, ops.cast(syn_logits, "float32"))
        return total
