"""ModuleClippedAdam: Adam that clips the gradient norm of each module of a model separately.

SalNet's official training calls ``clip_grad_norm_(params, 0.5)`` once per
network (foreground encoder, background encoder, Mixture network, relation
network), each with its own optimizer. Keras' ``clipnorm`` clips every
variable alone and ``global_clipnorm`` all of them together; this optimizer
groups the variables by the first word of their path (``foreground1_conv/
kernel`` -> ``foreground``) and clips each group's global norm.

Example:

>>> import keras
>>> from hgzoo.fewshot.clipping import ModuleClippedAdam
>>> optimizer = ModuleClippedAdam(1e-3, module_clipnorm=0.5)
>>> optimizer.module_clipnorm
0.5
"""

import re

import keras
from keras import ops


def module_of(variable):
    """The module a variable belongs to: the leading letters of its path (``mixture3_bn/gamma`` -> ``mixture``)."""
    return re.match(r"[A-Za-z]*", variable.path.split("/")[-2] if "/" in variable.path else variable.path).group(0)


def clip_by_module(grads, variables, clipnorm):
    """``grads`` with each module's gradients scaled so their joint L2 norm is at most ``clipnorm``."""
    modules = {}
    for i, variable in enumerate(variables):
        modules.setdefault(module_of(variable), []).append(i)
    clipped = list(grads)
    for indices in modules.values():
        present = [i for i in indices if grads[i] is not None]
        if not present:
            continue
        norm = ops.sqrt(sum(ops.sum(ops.square(ops.cast(grads[i], "float32"))) for i in present))
        scale = ops.minimum(1.0, clipnorm / ops.maximum(norm, 1e-12))
        for i in present:
            clipped[i] = ops.cast(ops.cast(grads[i], "float32") * scale, grads[i].dtype)
    return clipped


@keras.saving.register_keras_serializable("hgzoo")
class ModuleClippedAdam(keras.optimizers.Adam):
    """Adam with per-module gradient-norm clipping (``module_clipnorm``; None: no clipping).

    Modules are named by the first word of each variable's layer name
    (:func:`module_of`); other Adam arguments are Keras'.

    Example:

    >>> optimizer = ModuleClippedAdam(learning_rate=1e-3)
    >>> optimizer.get_config()["module_clipnorm"]
    0.5
    """

    def __init__(self, learning_rate=1e-3, module_clipnorm=0.5, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if module_clipnorm is not None and float(module_clipnorm) <= 0:
            raise ValueError(f"module_clipnorm must be positive or None, got {module_clipnorm}")
        self.module_clipnorm = None if module_clipnorm is None else float(module_clipnorm)

    def apply(self, grads, trainable_variables=None):
        variables = self._trainable_variables if trainable_variables is None else list(trainable_variables)
        if self.module_clipnorm is not None and variables:
            grads = clip_by_module(list(grads), variables, self.module_clipnorm)
        return super().apply(grads, trainable_variables)

    def get_config(self):
        return {**super().get_config(), "module_clipnorm": self.module_clipnorm}
