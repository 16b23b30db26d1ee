"""VLFeat's RMSProp, as ZSKL's released code uses it (``solver/rmsprop.m``).

g² ← ρ·g² + (1−ρ)·grad², W ← W − lr·grad / (√g² + ε): ε is *outside* the
square root (Keras' RMSprop adds it inside, which with ZSKL's ε = 1e-2 is a
different optimizer), and the state starts at zero.

Example:

>>> import numpy as np, keras
>>> opt = VLFeatRMSprop()
>>> w = keras.Variable(np.ones(2, "float32"))
>>> opt.apply([keras.ops.convert_to_tensor(np.array([1.0, -1.0], "float32"))], [w])
>>> [round(float(v), 6) for v in np.asarray(w)]  # 1 ∓ 8e-4 / (0.1 + 0.01)
[0.992727, 1.007273]
"""

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export


@hgzoo_export
class VLFeatRMSprop(keras.optimizers.Optimizer):
    """RMSProp with ε outside the square root; defaults are ZSKL's released recipe (lr 8e-4, ρ 0.99, ε 1e-2).

    Example:

    >>> VLFeatRMSprop().get_config()["epsilon"]
    0.01
    """

    def __init__(self, learning_rate=8e-4, rho=0.99, epsilon=1e-2, name="vlfeat_rmsprop", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._mean_squares = self.add_optimizer_variables(var_list, "mean_square")

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        g2 = self._mean_squares[self._get_variable_index(variable)]
        self.assign(g2, self.rho * g2 + (1.0 - self.rho) * ops.square(gradient))
        self.assign_sub(variable, lr * gradient / (ops.sqrt(g2) + self.epsilon))

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
