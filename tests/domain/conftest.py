"""Helpers for the domain-adaptation tests: SPD matrices and backend-agnostic gradients."""

import keras
import numpy as np
import pytest


@pytest.fixture
def random_spd():
    """``random_spd(rng, d, condition=10, batch=())``: SPD matrices (see :func:`_random_spd`)."""
    return _random_spd


@pytest.fixture
def gradient():
    """``gradient(fn, x)``: d sum(fn(x)) / dx on the active backend (see :func:`_gradient`)."""
    return _gradient


def _random_spd(rng, d, condition=10.0, batch=()):
    """SPD matrices with eigenvalues spread geometrically over ``condition``."""
    out = []
    for _ in range(int(np.prod(batch))):
        q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        out.append((q * np.geomspace(1.0, 1.0 / condition, d)) @ q.T)
    return np.stack(out).reshape(*batch, d, d) if batch else out[0]


def _gradient(fn, x):
    """d sum(fn(x)) / dx as numpy, on the active backend."""
    x = np.asarray(x, np.float32)
    if keras.backend.backend() == "jax":
        import jax
        import jax.numpy as jnp

        return np.asarray(jax.grad(lambda v: jnp.sum(fn(v)))(jnp.asarray(x)))
    import tensorflow as tf

    t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = tf.reduce_sum(fn(t))
    return tape.gradient(y, t).numpy()
