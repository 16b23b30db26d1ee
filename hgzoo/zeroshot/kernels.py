"""ZSKL's kernel compatibility between projected image features and class embeddings.

For a feature x (D), the projection W (D×A) and a class embedding a_c (A),
ZSKL compares the two ways round (``rbf_ort_loss.m``):

- k1(c) = k(Wᵀx, a_c): the feature projected into attribute space;
- k2(c) = k(W a_c, x): the class embedding projected into feature space.

Kernels (the paper's three; the released code has only the Gaussian):

- ``"gaussian"``: exp(−‖u − v‖² / 2σ²), σ = 0.8 as released;
- ``"cauchy"``: 1 / (1 + ‖u − v‖² / σ²);
- ``"polynomial"``: ((⟨u, v⟩ + c) / (1 + c))^p, offset c = 1, degree p = 2.
  Chosen so that, like the other two, k = 1 for a perfect match of unit
  vectors (⟨u, v⟩ = 1) and the released loss's targets (1 for the true class,
  0 for the others) keep their meaning; the paper does not fix c and p.

Example:

>>> import numpy as np
>>> layer = KernelCompatibility(num_classes=3, attribute_dim=4, kernel="cauchy")
>>> tuple(layer(np.random.rand(2, 5).astype("float32")).shape)
(2, 3, 2)
"""

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export

KERNELS = ("gaussian", "polynomial", "cauchy")


def squared_distances(u, v):
    """(B, C) ‖u_b − v_c‖² for u (B, n) and v (C, n), as differences (no cancellation for near points)."""
    return ops.sum(ops.square(u[:, None, :] - v[None, :, :]), axis=-1)


def kernel_matrix(kernel, u, v, sigma, offset, degree):
    """(B, C) kernel values k(u_b, v_c)."""
    if kernel == "gaussian":
        return ops.exp(-squared_distances(u, v) / (2.0 * sigma ** 2))
    if kernel == "cauchy":
        return 1.0 / (1.0 + squared_distances(u, v) / sigma ** 2)
    return ops.power((ops.matmul(u, ops.transpose(v)) + offset) / (1.0 + offset), degree)


def projected_kernel_matrix(kernel, x, w, a, sigma, offset, degree):
    """(B, C) k(W a_c, x_b): for the distance kernels through the expansion
    ‖W a_c‖² − 2 x·W a_c + ‖x‖², which never forms the (B, C, D) differences."""
    v = ops.matmul(a, ops.transpose(w))  # (C, D)
    if kernel == "polynomial":
        return ops.power((ops.matmul(x, ops.transpose(v)) + offset) / (1.0 + offset), degree)
    d = (ops.sum(ops.square(x), axis=-1, keepdims=True) - 2.0 * ops.matmul(x, ops.transpose(v))
         + ops.sum(ops.square(v), axis=-1)[None, :])
    d = ops.maximum(d, 0.0)
    if kernel == "gaussian":
        return ops.exp(-d / (2.0 * sigma ** 2))
    return 1.0 / (1.0 + d / sigma ** 2)


@hgzoo_export
class KernelCompatibility(keras.layers.Layer):
    """ZSKL's two kernel values per class: features (B, D) in, (B, C, 2) = [k1, k2] out.

    Holds the projection ``projection`` W (D, A), trainable, initialised as
    the official ``rand(D, A)·2/D``, and the class embeddings
    ``class_embeddings`` (C, A), not trainable: they are data (the training
    classes while training, the unseen or all classes at test time) and are
    swapped with :meth:`set_class_embeddings`. Computed in float32 inside
    (distances and exponentials), output float32 under mixed precision too
    (float64 under a float64 policy).

    Args:
        num_classes: C, rows of the class-embedding matrix.
        attribute_dim: A, columns of the class-embedding matrix.
        kernel: ``"gaussian"`` (released), ``"polynomial"`` or ``"cauchy"``.
        sigma: the Gaussian / Cauchy width (0.8 as released).
        offset, degree: the polynomial kernel's c and p.
        orthogonality: ``"none"`` (released), ``"penalty"`` (the model adds
            λ‖WᵀW − I‖²) or ``"retraction"`` (W ← its QR factor after every
            optimizer step: orthonormal columns; rows when D < A).
        seed: seed of W's initialisation.

    Example:

    >>> import numpy as np
    >>> layer = KernelCompatibility(num_classes=4, attribute_dim=3)
    >>> k = layer(np.random.rand(2, 5).astype("float32"))
    >>> tuple(k.shape), float(np.min(k)) >= 0.0
    ((2, 4, 2), True)
    """

    def __init__(self, num_classes, attribute_dim, kernel="gaussian", sigma=0.8, offset=1.0, degree=2,
                 orthogonality="none", seed=None, **kwargs):
        super().__init__(**kwargs)
        if kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
        if orthogonality not in ("none", "penalty", "retraction"):
            raise ValueError(f"orthogonality must be 'none', 'penalty' or 'retraction', got {orthogonality!r}")
        if float(sigma) <= 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        self.num_classes = int(num_classes)
        self.attribute_dim = int(attribute_dim)
        self.kernel = kernel
        self.sigma, self.offset, self.degree = float(sigma), float(offset), int(degree)
        self.orthogonality = orthogonality
        self.seed = seed

    def build(self, input_shape):
        d = int(input_shape[-1])
        self.projection = self.add_weight(
            (d, self.attribute_dim), keras.initializers.RandomUniform(0.0, 2.0 / d, seed=self.seed),
            name="projection", dtype=self._inner,
            constraint=OrthonormalColumns() if self.orthogonality == "retraction" else None)
        self.class_embeddings = self.add_weight((self.num_classes, self.attribute_dim), "zeros",
                                                name="class_embeddings", trainable=False, dtype=self._inner)

    def call(self, features):
        return self.kernels_for(features, self.class_embeddings)

    def kernels_for(self, features, class_embeddings):
        """(B, C', 2) [k1, k2] against any (C', A) class embeddings (this layer's W, not its matrix)."""
        x = ops.cast(features, self._inner)
        w, a = ops.cast(self.projection, self._inner), ops.cast(class_embeddings, self._inner)
        args = (self.sigma, self.offset, self.degree)
        k1 = kernel_matrix(self.kernel, ops.matmul(x, w), a, *args)
        k2 = projected_kernel_matrix(self.kernel, x, w, a, *args)
        return ops.stack([k1, k2], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes, 2)

    def compute_output_spec(self, features):
        return keras.KerasTensor(self.compute_output_shape(features.shape), self._inner)

    @property
    def _inner(self):
        """float32 under float32 and mixed policies (exponentials of distances), float64 under float64."""
        return "float64" if self.compute_dtype == "float64" else "float32"

    def orthogonality_penalty(self):
        """‖WᵀW − I‖²_F (‖WWᵀ − I‖²_F when D < A: W semi-orthogonal either way)."""
        w = ops.cast(self.projection, self._inner)
        if w.shape[0] < w.shape[1]:
            w = ops.transpose(w)
        return ops.sum(ops.square(ops.matmul(ops.transpose(w), w) - ops.eye(w.shape[1], dtype=self._inner)))

    def set_class_embeddings(self, embeddings):
        """Assign a (C, A) matrix with this layer's C and A (a new C needs a new model: ``ZSKL.with_classes``)."""
        self.class_embeddings.assign(ops.cast(embeddings, self._inner))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "attribute_dim": self.attribute_dim,
                "kernel": self.kernel, "sigma": self.sigma, "offset": self.offset, "degree": self.degree,
                "orthogonality": self.orthogonality, "seed": self.seed}


@hgzoo_export
class OrthonormalColumns(keras.constraints.Constraint):
    """Retraction onto semi-orthogonal matrices: W ← Q·sign(diag R) of W = QR (orthonormal columns); a
    wide W (fewer rows than columns) gets orthonormal rows, through its transpose.

    Applied by every Keras optimizer after each update of the variable.

    Example:

    >>> import numpy as np
    >>> w = OrthonormalColumns()(np.random.rand(5, 3).astype("float32"))
    >>> bool(np.allclose(np.asarray(w).T @ np.asarray(w), np.eye(3), atol=1e-5))
    True
    """

    def __call__(self, w):
        w = ops.convert_to_tensor(w)
        wide = w.shape[0] < w.shape[1]
        q, r = ops.linalg.qr(ops.cast(ops.transpose(w) if wide else w, "float32"))
        q = q * ops.where(ops.diagonal(r) < 0, -1.0, 1.0)[None, :]
        return ops.cast(ops.transpose(q) if wide else q, w.dtype)

    def get_config(self):
        return {}
