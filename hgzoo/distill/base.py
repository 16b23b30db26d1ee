"""What the distillation networks share: PyTorch's default initialisation, instance norm, the training
defaults of the evaluation protocol, ``embed`` and re-drawing random weights.

Every network takes images standardised with the dataset's mean and std
(CIFAR-10: :data:`CIFAR10_MEAN`, :data:`CIFAR10_STD`), NHWC, and returns
class logits. ``embed(x)`` returns ``(feature, local_map)``: the flat
feature before the classifier and the last block's output as ``(N, C, H·W)``
(channels first, as the official code's covariance uses it).

Example:

>>> import numpy as np
>>> from hgzoo.distill import ConvNet
>>> net = ConvNet(width=8)
>>> feature, local = net.embed(np.zeros((2, 32, 32, 3), "float32"))
>>> tuple(feature.shape), tuple(local.shape)
((2, 128), (2, 8, 16))
"""

import math
import weakref

import keras
import numpy as np
from keras import ops

from hgzoo.models.base import ZooModel

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2023, 0.1994, 0.2010)

_EMBEDDERS = weakref.WeakKeyDictionary()  # model -> keras.Function (feature, local map); not tracked as a layer


def torch_default_init():
    """PyTorch's default for conv and linear weights: U(±1/sqrt(fan_in)) (kaiming_uniform with a=√5).

    Biases start at zero here; :func:`reinitialize` draws them as PyTorch does.
    """
    return keras.initializers.VarianceScaling(1.0 / 3.0, mode="fan_in", distribution="uniform")


def instance_norm(x, name, dtype=None):
    """GroupNorm(C, C) as the official ConvNet's ``instancenorm``: one group per channel, affine."""
    return keras.layers.GroupNormalization(groups=x.shape[-1], epsilon=1e-5, name=name, dtype=dtype)(x)


def conv(x, filters, name, dtype=None, kernel=3, strides=1, use_bias=True):
    return keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=use_bias,
                               kernel_initializer=torch_default_init(), name=name, dtype=dtype)(x)


def local_map(x):
    """(N, H, W, C) -> (N, C, H·W), the official ``embed``'s second output."""
    _, h, w, c = x.shape
    return ops.transpose(ops.reshape(x, (-1, h * w, c)), (0, 2, 1))


class DistillNet(ZooModel):
    """Base of the distillation networks: logits out, ``embed``, the evaluation protocol's compile defaults.

    Subclasses name the flat feature layer ``feature`` and the last block's
    output ``local`` (NHWC); ``embed`` reads them from the graph.

    Example:

    >>> from hgzoo.distill import ConvNet
    >>> isinstance(ConvNet(width=8), DistillNet)
    True
    """

    def _finish(self, args):
        self._args = args
        self.compile()

    def get_config(self):
        return {**super().get_config(), **self._args}

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """``"auto"``: the official evaluation's SGD(0.01, momentum 0.9, weight decay 5e-4), cross-entropy, accuracy."""
        if optimizer == "auto":
            optimizer = keras.optimizers.SGD(0.01, momentum=0.9, weight_decay=5e-4)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = ["sparse_categorical_accuracy"]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def embed(self, x):
        """``(feature (N, D), local_map (N, C, H·W))`` of standardised images ``x``.

        These networks have no dropout or batch statistics, so training and inference are one graph.
        """
        embedder = _EMBEDDERS.get(self)
        if embedder is None:
            embedder = keras.Function(self.inputs[0], [self.get_layer("feature").output, self.get_layer("local").output])
            _EMBEDDERS[self] = embedder
        feature, local = embedder(x)
        return feature, local_map(local)

    def serving_signature(self, input_dtype="float32"):
        """Input ``images`` (B, H, W, C) float32, standardised; output ``logits`` (B, classes)."""
        if input_dtype != "float32":
            raise ValueError(f"{type(self).__name__} serves standardised float32 images, got {input_dtype!r}")
        shape = tuple(self.inputs[0].shape[1:])

        def serve(images):
            return {"logits": ops.cast(self(images, training=False), "float32")}

        return {"images": ((None, *shape), "float32")}, serve


def reinitialize(model, rng):
    """Re-draw ``model``'s weights as a freshly built PyTorch network (the official code's fresh net per iteration).

    Conv and dense kernels and biases: U(±1/sqrt(fan_in)); normalisation
    scales 1, offsets 0. ``rng`` is a ``numpy.random.Generator``. Assigning
    in place keeps one traced step function for the whole run.
    """
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
            shape = tuple(kernel.shape)
            bound = 1.0 / math.sqrt(int(np.prod(shape[:-1])))
            kernel.assign(rng.uniform(-bound, bound, shape).astype("float32"))
            if layer.bias is not None:
                layer.bias.assign(rng.uniform(-bound, bound, tuple(layer.bias.shape)).astype("float32"))
        elif isinstance(layer, keras.layers.GroupNormalization):
            if layer.gamma is not None:
                layer.gamma.assign(np.ones(tuple(layer.gamma.shape), "float32"))
            if layer.beta is not None:
                layer.beta.assign(np.zeros(tuple(layer.beta.shape), "float32"))
    return model
