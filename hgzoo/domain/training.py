"""Training guards for domain adaptation: no NaN loss trains silently.

Example:

>>> from hgzoo.domain.training import StopOnNonFiniteLoss
>>> guard = StopOnNonFiniteLoss()
>>> guard.on_train_batch_end(0, {"loss": 0.5})
>>> guard.on_train_batch_end(1, {"loss": float("nan")})
Traceback (most recent call last):
...
hgzoo.errors.HgzooError: the training loss became nan at batch 1 (epoch 0); ...
"""

import math

import keras

from hgzoo.errors import HgzooError


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Raise :class:`~hgzoo.errors.HgzooError` at the first batch whose loss is NaN or infinite.

    Keras' ``TerminateOnNaN`` stops quietly; a domain-adaptation run that
    diverged (for example from a scatter with no ridge) must say so.
    """

    def __init__(self):
        super().__init__()
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise HgzooError(
                f"the training loss became {float(loss)} at batch {batch} (epoch {self.epoch}); check the inputs "
                "for NaN, lower the learning rate or the alignment weights, or raise eps (the ridge on the scatters)")
