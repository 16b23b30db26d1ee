"""AuxiliaryCrossEntropy: the loss of a self-supervised head, added while training."""

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export


@hgzoo_export
class AuxiliaryCrossEntropy(keras.layers.Layer):
    """Adds ``weight`` × a head's softmax cross-entropy to the model's losses while training.

    ``logits`` (..., C) and integer ``targets`` (...) are one head's, or lists of
    several heads' (the loss is then the mean of their mean cross-entropies).
    The layer returns ``passthrough`` unchanged: giving it a tensor of the main
    path puts the head's branch on that path, so Keras keeps the branch, and
    with it the loss, in a functional model whose outputs do not otherwise
    depend on it. Outside training nothing is added. The cross-entropy is
    computed in float32 whatever the policy.

    Used by the self-supervised discriminators of ARN (clip order and jigsaw
    permutations) and spatially-aware matching (region index).

    Example:

    >>> import numpy as np
    >>> layer = AuxiliaryCrossEntropy(0.5)
    >>> features = np.ones((2, 4), "float32")
    >>> out = layer(np.zeros((2, 3), "float32"), np.array([0, 2]), features, training=True)
    >>> bool(np.array_equal(out, features)), round(float(layer.losses[0]), 4)  # 0.5 * log(3)
    (True, 0.5493)
    """

    def __init__(self, weight, **kwargs):
        super().__init__(**kwargs)
        self.weight = float(weight)

    def call(self, logits, targets, passthrough, training=None):
        if training:
            heads = zip(logits, targets) if isinstance(logits, (list, tuple)) else [(logits, targets)]
            losses = [ops.mean(keras.losses.sparse_categorical_crossentropy(t, ops.cast(x, "float32"), from_logits=True))
                      for x, t in heads]
            self.add_loss(self.weight * ops.mean(ops.stack(losses)))
        return passthrough

    def compute_output_shape(self, logits_shape, targets_shape, passthrough_shape):
        return passthrough_shape

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}
