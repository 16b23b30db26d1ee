"""Divergences between symmetric positive definite (SPD) matrices, in ``keras.ops``.

Four measures of how far apart two SPD matrices ``A`` and ``B`` (``(..., d, d)``) are,
each zero when ``A == B``, symmetric in its arguments and non-negative:

- ``"frobenius"``: ``‖A − B‖²_F``;
- ``"jbld"``: the Jensen–Bregman LogDet divergence ``log det((A + B)/2) − ½ log det(A B)``;
- ``"airm"``: the affine-invariant Riemannian metric, squared:
  ``‖log(A^{-1/2} B A^{-1/2})‖²_F``;
- ``"log_euclidean"``: ``‖log A − log B‖²_F``.

Numerics (why they are written this way):

- everything is computed in float32 whatever the inputs' dtype (mixed precision
  would lose the small eigenvalues), and the result is cast back;
- the inputs are symmetrised and a ridge ``eps·I`` is added, so rank-deficient
  scatter matrices (fewer samples than dimensions) stay invertible;
- matrix functions (log, inverse square root, log-determinant as the trace of
  the log) go through one eigendecomposition with a custom gradient that uses
  the Daleckii–Krein formula with the divided difference replaced by the
  derivative for (nearly) equal eigenvalues. The gradient of a plain ``eigh``
  divides by ``λᵢ − λⱼ`` and is NaN for equal eigenvalues — exactly the case
  ``A == B`` or a scatter whose null space the ridge fills.

Example:

>>> import numpy as np
>>> from hgzoo.domain.divergences import spd_divergence
>>> a = np.diag([1.0, 2.0]).astype("float32"); b = np.diag([2.0, 2.0]).astype("float32")
>>> round(float(spd_divergence(a, b, "log_euclidean", eps=0.0)), 4)  # (log 1 - log 2)²
0.4805
>>> round(float(spd_divergence(a, a, "airm")), 6)
0.0
"""

import keras
import numpy as np
from keras import ops

from hgzoo.api_export import hgzoo_export

DIVERGENCES = ("frobenius", "jbld", "airm", "log_euclidean")
DEFAULT_EPS = 1e-3
_CLOSE = 1e-4  # eigenvalue gaps below this fraction of the largest eigenvalue count as equal
_FLOOR = 1e-12  # eigenvalues are clipped here before a log: round-off can push a ridge-less one below 0


def _symmetric(x):
    return 0.5 * (x + ops.swapaxes(x, -1, -2))


def _eye_like(x):
    return ops.eye(ops.shape(x)[-1], dtype=x.dtype)


def _spectral(f, df):
    """``X ↦ U f(Λ) Uᵀ`` for symmetric ``X = U Λ Uᵀ``, with a gradient that is finite for equal eigenvalues."""

    @ops.custom_gradient
    def apply(x):
        # TensorFlow's eigh raises on NaN/inf input (deep inside a fit step); decompose the identity instead
        # and return NaN for that matrix, so the loss turns NaN and training stops with a clear error.
        finite = ops.all(ops.isfinite(x), axis=(-2, -1))[..., None, None]
        w, v = ops.eigh(ops.where(finite, x, _eye_like(x)))
        vt = ops.swapaxes(v, -1, -2)
        fw = f(w)
        y = ops.where(finite, ops.matmul(v * fw[..., None, :], vt), float("nan"))

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            wi, wj = w[..., :, None], w[..., None, :]
            gap = wi - wj
            # Divided differences (f(λᵢ) − f(λⱼ)) / (λᵢ − λⱼ); the mean derivative where λᵢ ≈ λⱼ.
            # float32 eigenvalues carry errors of about d·ε·‖X‖, so "equal" is judged against the largest one.
            scale = ops.max(ops.abs(w), axis=-1)[..., None, None]
            close = ops.abs(gap) <= _CLOSE * ops.maximum(scale, 1e-30)
            divided = (fw[..., :, None] - fw[..., None, :]) / ops.where(close, ops.ones_like(gap), gap)
            dw = df(w)
            loewner = ops.where(close, 0.5 * (dw[..., :, None] + dw[..., None, :]), divided)
            inner = ops.matmul(ops.matmul(vt, _symmetric(upstream)), v)
            return ops.matmul(ops.matmul(v, loewner * inner), vt)

        return y, grad

    return apply


def _floored(w):
    return ops.maximum(w, _FLOOR)


matrix_log = _spectral(lambda w: ops.log(_floored(w)), lambda w: 1.0 / _floored(w))
matrix_log.__doc__ = "Matrix logarithm of symmetric positive definite ``(..., d, d)`` float32 matrices."
matrix_inverse_sqrt = _spectral(lambda w: ops.power(_floored(w), -0.5), lambda w: -0.5 * ops.power(_floored(w), -1.5))
matrix_inverse_sqrt.__doc__ = "``X^{-1/2}`` of symmetric positive definite ``(..., d, d)`` float32 matrices."


def _logdet(x):
    return ops.trace(matrix_log(x), axis1=-2, axis2=-1)


def _frobenius2(x):
    return ops.sum(ops.square(x), axis=(-2, -1))


def _prepare(x, eps):
    x = _symmetric(ops.cast(ops.convert_to_tensor(x), "float32"))
    return x + eps * _eye_like(x) if eps else x


def _jbld(a, b):
    return _logdet(0.5 * (a + b)) - 0.5 * (_logdet(a) + _logdet(b))


def _airm(a, b):
    # The generalised eigenvalues of (B, A) are those of A^{-1/2} B A^{-1/2}; the result is symmetric in
    # exact arithmetic, so the squared log-norm is averaged over both orders to make it so in float32 too.
    def one_way(p, q):
        s = matrix_inverse_sqrt(p)
        return _frobenius2(matrix_log(_symmetric(ops.matmul(ops.matmul(s, q), s))))

    return 0.5 * (one_way(a, b) + one_way(b, a))


_FUNCTIONS = {
    "frobenius": lambda a, b: _frobenius2(a - b),
    "jbld": _jbld,
    "airm": _airm,
    "log_euclidean": lambda a, b: _frobenius2(matrix_log(a) - matrix_log(b)),
}


def check_divergence(name):
    """``name`` if it is one of :data:`DIVERGENCES`, else a ValueError listing them."""
    if name not in _FUNCTIONS:
        raise ValueError(f"divergence={name!r} is unknown; choose one of {', '.join(DIVERGENCES)}")
    return name


def check_spd(matrix, what="matrix", tolerance=1e-5):
    """Raise ValueError unless the concrete array ``matrix`` (``(..., d, d)``) is finite, square,
    symmetric and positive semi-definite (eigenvalues above ``-tolerance`` times the largest).

    Symbolic tensors (inside a traced ``fit`` step) cannot be inspected and are
    passed through; training guards against their failures by stopping on a
    non-finite loss (:class:`~hgzoo.domain.training.StopOnNonFiniteLoss`).
    """
    try:
        m = np.asarray(keras.ops.convert_to_numpy(matrix), np.float64)
    except Exception:  # noqa: BLE001 - a symbolic tensor (each backend raises its own type): nothing to check
        return matrix
    if m.ndim < 2 or m.shape[-1] != m.shape[-2]:
        raise ValueError(f"{what} must be square matrices (..., d, d), got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{what} contains NaN or infinite values; an SPD divergence needs finite matrices")
    scale = max(float(np.abs(m).max()), 1e-30)
    if np.abs(m - np.swapaxes(m, -1, -2)).max() > 1e-4 * scale:
        raise ValueError(f"{what} is not symmetric; pass covariance/scatter matrices (X Xᵀ is symmetric)")
    lowest = float(np.linalg.eigvalsh(m).min())
    if lowest < -tolerance * scale:
        raise ValueError(f"{what} is not positive semi-definite (smallest eigenvalue {lowest:.3g}); pass "
                         "covariance/scatter matrices, not arbitrary symmetric ones")
    return matrix


def spd_divergence(a, b, divergence="log_euclidean", eps=DEFAULT_EPS):
    """The divergence between SPD matrices ``a`` and ``b`` (``(..., d, d)``), one value per matrix pair.

    Args:
        a, b: SPD matrices of the same shape (any float dtype; computed in float32).
        divergence: one of :data:`DIVERGENCES`.
        eps: ridge added to both, ``a + eps·I``; 0 for none (then both must be
            strictly positive definite for ``"jbld"``, ``"airm"`` and ``"log_euclidean"``).

    Returns:
        A ``(...)`` float32 tensor. Concrete (eager) inputs are checked first
        with :func:`check_spd`, so NaN or non-SPD input is a ValueError, not a NaN result.

    Example:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(5, 3)); a = x.T @ x
    >>> round(float(spd_divergence(a, a + np.eye(3), "frobenius", eps=0)), 5)  # ‖I‖²_F
    3.0
    """
    fn = _FUNCTIONS[check_divergence(divergence)]
    if eps < 0:
        raise ValueError(f"eps must be >= 0 (a ridge added to the matrices), got {eps}")
    for name, m in (("a", a), ("b", b)):
        check_spd(m, f"spd_divergence argument {name}")
    if tuple(ops.shape(a)) != tuple(ops.shape(b)):
        raise ValueError(f"spd_divergence: a and b must have the same shape, got {ops.shape(a)} and {ops.shape(b)}")
    return fn(_prepare(a, eps), _prepare(b, eps))


@hgzoo_export
class SPDDivergence(keras.losses.Loss):
    """A Keras loss: the mean SPD divergence between ``y_true`` and ``y_pred`` matrices (``(B, d, d)``).

    Args:
        divergence: ``"frobenius"``, ``"jbld"``, ``"airm"`` or ``"log_euclidean"``.
        eps: ridge ``eps·I`` added to both matrices (keeps rank-deficient scatters invertible).

    Example:

    >>> import numpy as np
    >>> loss = SPDDivergence("jbld")
    >>> a = np.stack([np.eye(3), 2 * np.eye(3)]).astype("float32")
    >>> float(loss(a, a))
    0.0
    """

    def __init__(self, divergence="log_euclidean", eps=DEFAULT_EPS, reduction="sum_over_batch_size",
                 name="spd_divergence", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.divergence = check_divergence(divergence)
        self.eps = float(eps)

    def call(self, y_true, y_pred):
        return _FUNCTIONS[self.divergence](_prepare(y_true, self.eps), _prepare(y_pred, self.eps))

    def get_config(self):
        return {**super().get_config(), "divergence": self.divergence, "eps": self.eps}
