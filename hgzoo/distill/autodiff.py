"""The gradient of a loss with respect to an input tensor, on the active Keras backend.

Keras 3 has no backend-neutral ``grad``; dataset distillation differentiates a
loss in the *images*, not in a model's weights, so ``fit`` does not apply.
This module asks the active backend for its own autodiff (TensorFlow's
``GradientTape`` inside a ``tf.function``; ``jax.value_and_grad``), importing
only the active one; it is the one backend-specific edge of the family
(``tests/test_meta.py`` lists it as such).

Example:

>>> import numpy as np
>>> from keras import ops
>>> from hgzoo.distill.autodiff import value_and_grad
>>> step = value_and_grad(lambda x: ops.sum(x * x))
>>> loss, grad = step(np.array([1.0, 2.0], "float32"))
>>> float(loss), np.asarray(grad).tolist()
(5.0, [2.0, 4.0])
"""

import keras


def value_and_grad(fn):
    """``step(x, *args) -> (fn(x, *args), d fn / d x)``; ``args`` are held constant.

    On TensorFlow the step is a ``tf.function`` (traced once per structure of
    ``args``; Python values in ``args`` are part of the trace key).
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(reduce_retracing=True)
        def step(x, *args):
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = fn(x, *args)
            return loss, tape.gradient(loss, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)

        return lambda x, *args: step(tf.convert_to_tensor(x), *args)
    if backend == "jax":
        import jax
        return lambda x, *args: jax.value_and_grad(lambda v: fn(v, *args))(jax.numpy.asarray(x))
    raise NotImplementedError(f"hgzoo.distill differentiates in the images on TensorFlow or JAX, not {backend!r}")
