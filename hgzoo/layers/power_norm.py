"""PowerNorm: power normalisation of features or of second-order matrices."""

import math

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export

FUNCTIONS = ("gamma", "maxexp", "asinhe", "sigme")
_STRENGTH_RANGE = {
    "gamma": (0.0, 1.0, "in (0, 1]"),
    "maxexp": (1.0, math.inf, ">= 1"),
    "asinhe": (0.0, math.inf, "> 0"),
    "sigme": (0.0, math.inf, "> 0"),
}


def _safe_abs_power(a, p):
    """``|a|**p`` with value 0 and a finite (zero) gradient where ``a == 0``."""
    mag = ops.abs(a)
    nonzero = mag > 0
    return ops.where(nonzero, ops.power(ops.where(nonzero, mag, ops.ones_like(mag)), p), 0.0)


def _apply(function, x, s):
    """g(x) element-wise, in x's dtype."""
    if function == "gamma":
        return ops.sign(x) * _safe_abs_power(x, s)
    if function == "maxexp":
        mag = ops.clip(ops.abs(x), 0.0, 1.0)
        return ops.sign(x) * (1.0 - ops.power(1.0 - mag, s))
    if function == "asinhe":
        return ops.arcsinh(s * x)
    # SigmE 2/(1+e^{-sx}) - 1 equals tanh(sx/2), which never overflows.
    return ops.tanh(0.5 * s * x)


def _derivative(function, x, s):
    """g'(x) for eigenvalues x >= 0 (finite everywhere; Gamma's is capped near 0)."""
    if function == "gamma":
        return s * ops.power(ops.maximum(x, 1e-6), s - 1.0)
    if function == "maxexp":
        inside = ops.logical_and(x >= 0.0, x <= 1.0)
        return ops.where(inside, s * ops.power(ops.clip(1.0 - x, 0.0, 1.0), s - 1.0), 0.0)
    if function == "asinhe":
        return s / ops.sqrt(1.0 + ops.square(s * x))
    t = ops.tanh(0.5 * s * x)
    return 0.5 * s * (1.0 - ops.square(t))


def _clip_eigenvalues(function, lam):
    if function == "maxexp":
        return ops.clip(lam, 0.0, 1.0)
    if function == "gamma":
        return ops.maximum(lam, 0.0)
    return lam


def _spectral(function, m, s):
    """U g(Λ) Uᵀ with a gradient that stays finite for repeated eigenvalues.

    The backward pass uses the Daleckii-Krein formula: dM = U (K ∘ Uᵀ dY U) Uᵀ
    with K_ij = (g(λ_i) - g(λ_j)) / (λ_i - λ_j), replaced by the mean
    derivative where the eigenvalues (nearly) coincide. eigh's own gradient
    divides by λ_i - λ_j and becomes inf/NaN there.
    """

    @ops.custom_gradient
    def forward(m, s):
        lam, u = ops.eigh(m)
        lam = _clip_eigenvalues(function, lam)
        g = _apply(function, lam, s)
        y = ops.matmul(u * ops.expand_dims(g, -2), ops.swapaxes(u, -1, -2))

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            ut = ops.swapaxes(u, -1, -2)
            sym = 0.5 * (upstream + ops.swapaxes(upstream, -1, -2))
            inner = ops.matmul(ops.matmul(ut, sym), u)
            li, lj = ops.expand_dims(lam, -1), ops.expand_dims(lam, -2)
            gi, gj = ops.expand_dims(g, -1), ops.expand_dims(g, -2)
            diff = li - lj
            scale = ops.maximum(ops.maximum(ops.abs(li), ops.abs(lj)), 1.0)
            close = ops.abs(diff) <= 1e-5 * scale
            d = _derivative(function, lam, s)
            dmean = 0.5 * (ops.expand_dims(d, -1) + ops.expand_dims(d, -2))
            k = ops.where(close, dmean, (gi - gj) / ops.where(close, ops.ones_like(diff), diff))
            dm = ops.matmul(ops.matmul(u, k * inner), ut)
            # d/ds of sum(dY ∘ U g(Λ; s) Uᵀ), by a small central difference in s.
            h = 1e-3 * ops.maximum(ops.abs(s), 1.0)
            dg = (_apply(function, lam, s + h) - _apply(function, lam, s - h)) / (2.0 * h)
            ds = ops.sum(ops.sum(inner * _diag(dg), axis=-1))
            return dm, ds

        return y, grad

    return forward(m, s)


def _diag(v):
    """Batched diagonal matrices from vectors (..., d) -> (..., d, d)."""
    eye = ops.eye(ops.shape(v)[-1], dtype=v.dtype)
    return ops.expand_dims(v, -1) * eye


def _matrix_power_int(a, n):
    """a**n for a positive integer n by repeated squaring (about log2(n) products)."""
    result = None
    base = a
    while n:
        if n & 1:
            result = base if result is None else ops.matmul(result, base)
        n >>= 1
        if n:
            base = ops.matmul(base, base)
    return result


def _fast_maxexp(m, eta):
    eye = ops.eye(ops.shape(m)[-1], dtype=m.dtype)
    return eye - _matrix_power_int(eye - m, eta)


def _newton_schulz_sqrt(m, iterations):
    """Matrix square root by coupled Newton-Schulz iterations (products only)."""
    eye = ops.eye(ops.shape(m)[-1], dtype=m.dtype)
    norm = ops.sqrt(ops.sum(ops.square(m), axis=(-2, -1), keepdims=True)) + 1e-12
    y, z = m / norm, eye + ops.zeros_like(m)
    for _ in range(iterations):
        t = 0.5 * (3.0 * eye - ops.matmul(z, y))
        y, z = ops.matmul(y, t), ops.matmul(t, z)
    return y * ops.sqrt(norm)


@hgzoo_export
class PowerNorm(keras.layers.Layer):
    """Power normalisation g applied element-wise or to the spectrum of a matrix.

    Functions (``s`` is ``strength``):

    - ``"gamma"``: g(x) = sign(x)·|x|^s, s in (0, 1]
    - ``"maxexp"``: g(x) = sign(x)·(1 − (1 − |x|)^s), |x| clipped to [0, 1], s ≥ 1
    - ``"asinhe"``: g(x) = arcsinh(s·x), a Gamma-like surrogate with g'(0) = s
    - ``"sigme"``: g(x) = 2/(1 + exp(−s·x)) − 1, a MaxExp-like surrogate (SoSN: s = 100)

    With ``spectral=True`` the input is a batch of symmetric PSD matrices
    (..., d, d) and the output is U g(Λ) Uᵀ (eigenvalues clipped to [0, 1] for
    MaxExp, to ≥ 0 for Gamma). Its gradient uses the Daleckii–Krein formula, so
    it stays finite for repeated and zero eigenvalues. ``fast=True`` avoids the
    eigendecomposition: MaxExp with integer s becomes I − (I − M)^s by repeated
    squaring (inputs should have eigenvalues in [0, 1], e.g. trace-normalised),
    and Gamma with s = 0.5 becomes a Newton–Schulz matrix square root
    (``iterations`` steps). Both are plain matrix products: fast on GPUs and
    free of eigenvalue-gap issues in the backward pass.

    ``learnable=True`` makes s a trainable scalar kept in its valid range
    (Gamma: (0, 1) by a sigmoid; MaxExp: 1 + softplus; others: softplus).
    Element-wise Gamma has value 0 and gradient 0 at x = 0 (its true derivative
    is unbounded there). All arithmetic runs in float32; the result is cast to
    the layer's compute dtype, so the layer is safe under mixed precision.

    Example:

    >>> import numpy as np
    >>> from hgzoo.layers import PowerNorm
    >>> PowerNorm("gamma", 0.5)(np.array([[-4.0, 0.0, 9.0]])).numpy().tolist()
    [[-2.0, 0.0, 3.0]]
    >>> m = np.eye(3, dtype="float32")[None] * 0.5
    >>> y = PowerNorm("maxexp", 2, spectral=True, fast=True)(m)  # I - (I - M)^2
    >>> float(y[0, 0, 0])
    0.75
    """

    def __init__(self, function, strength, spectral=False, fast=False, learnable=False,
                 iterations=20, **kwargs):
        super().__init__(**kwargs)
        if function not in FUNCTIONS:
            raise ValueError(f"PowerNorm function must be one of {FUNCTIONS}, got {function!r}")
        low, high, text = _STRENGTH_RANGE[function]
        strength = float(strength)
        in_range = (low < strength <= high) if function == "gamma" else (
            strength >= low if function == "maxexp" else strength > low)
        if not in_range:
            raise ValueError(f"PowerNorm({function!r}) needs strength {text}, got {strength}")
        if fast:
            if not spectral:
                raise ValueError("PowerNorm(fast=True) needs spectral=True (it replaces the eigendecomposition)")
            if learnable:
                raise ValueError("PowerNorm(fast=True) needs a fixed strength; use learnable=False")
            if function == "maxexp" and not strength.is_integer():
                raise ValueError(f"fast spectral MaxExp needs an integer strength, got {strength}")
            if function == "gamma" and strength != 0.5:
                raise ValueError(f"fast spectral Gamma supports strength 0.5 only, got {strength}")
            if function not in ("maxexp", "gamma"):
                raise ValueError(f"fast=True supports 'maxexp' and 'gamma', not {function!r}")
        self.function = function
        self.strength = strength
        self.spectral = bool(spectral)
        self.fast = bool(fast)
        self.learnable = bool(learnable)
        self.iterations = int(iterations)

    def build(self, input_shape):
        if self.spectral and (len(input_shape) < 2 or (
                input_shape[-1] is not None and input_shape[-2] is not None
                and input_shape[-1] != input_shape[-2])):
            raise ValueError(f"spectral PowerNorm needs square matrices (..., d, d), got shape {input_shape}")
        if self.learnable:
            self.raw_strength = self.add_weight(
                name="raw_strength", shape=(),
                initializer=keras.initializers.Constant(self._inverse(self.strength)),
                dtype="float32",
            )

    def _inverse(self, s):
        if self.function == "gamma":
            s = min(s, 1.0 - 1e-3)
            return math.log(s / (1.0 - s))
        if self.function == "maxexp":
            s -= 1.0
        s = max(s, 1e-4)
        return math.log(math.expm1(s))

    def current_strength(self):
        """The strength in use (a float32 tensor when learnable)."""
        if not self.learnable:
            return self.strength
        raw = ops.cast(self.raw_strength, "float32")
        if self.function == "gamma":
            return ops.sigmoid(raw)
        if self.function == "maxexp":
            return 1.0 + ops.softplus(raw)
        return ops.softplus(raw)

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        s = self.current_strength()
        if not self.spectral:
            y = _apply(self.function, x, s)
        elif self.fast and self.function == "maxexp":
            y = _fast_maxexp(x, int(self.strength))
        elif self.fast:
            y = _newton_schulz_sqrt(x, self.iterations)
        else:
            y = _spectral(self.function, x, ops.convert_to_tensor(s, "float32"))
        return ops.cast(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(function=self.function, strength=self.strength, spectral=self.spectral,
                      fast=self.fast, learnable=self.learnable, iterations=self.iterations)
        return config
