"""Data-parallel training on tf.distribute (TensorFlow backend; the edge of hgzoo).

- ``"mirrored"``: ``tf.distribute.MirroredStrategy``, all GPUs of one machine.
- ``"multi-worker"``: ``tf.distribute.MultiWorkerMirroredStrategy`` across
  machines, configured by the ``TF_CONFIG`` environment variable of each worker.

Keras 3's ``fit`` fails under MultiWorkerMirroredStrategy (keras-team/keras
#20585: "Attempt to convert a value (PerReplica...) with an unsupported type").
Two spots in Keras' TensorFlow trainer are at fault: before the first step it
all-reduces a data batch *eagerly* just to learn shapes, and it reduces scalar
logs with ``axis=0``. :func:`multi_worker_fit` works around both for the
duration of one ``fit`` call: it builds the model from a local batch instead,
and reduces logs with ``axis=None``. Nothing else changes: gradients are
all-reduced by the strategy as usual, so every worker ends with the same weights.

On the JAX backend use ``keras.distribution.DataParallel`` instead (see README).

Example:

>>> import hgzoo
>>> from hgzoo.distribute import make_strategy
>>> strategy = make_strategy("mirrored")  # doctest: +SKIP
>>> with strategy.scope():  # doctest: +SKIP
...     model = hgzoo.deblur.DMPHN()
>>> hgzoo.distribute.multi_worker_fit(model, dataset, epochs=2)  # doctest: +SKIP
"""

import contextlib
import json
import os

import keras

STRATEGIES = ("none", "mirrored", "multi-worker")


def make_strategy(name):
    """A tf.distribute strategy by name, or None for ``"none"``."""
    if name in (None, "none"):
        return None
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"--strategy {name} needs the TensorFlow backend; on JAX use "
                           "keras.distribution.DataParallel")
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi-worker":
        config = os.environ.get("TF_CONFIG")
        if not config:
            raise ValueError("--strategy multi-worker needs TF_CONFIG, e.g. "
                             '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                             '"task": {"type": "worker", "index": 0}}')
        try:
            json.loads(config)
        except json.JSONDecodeError as e:
            raise ValueError(f"TF_CONFIG is not valid JSON: {e}") from None
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"strategy must be one of {STRATEGIES}, got {name!r}")


def is_chief():
    """True on the worker that should write shared outputs (task index 0)."""
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    return config.get("task", {}).get("index", 0) == 0


@contextlib.contextmanager
def _keras_20585_workaround(model, local_batch):
    from keras.src.backend.tensorflow import trainer as tf_trainer

    strategy = model.distribute_strategy
    original_reduce = tf_trainer.reduce_per_replica

    def reduce_per_replica(values, strategy_, reduction):
        if reduction in ("auto", "mean") and tf_trainer._collective_all_reduce_multi_worker(strategy_):
            return keras.tree.map_structure(lambda v: strategy_.reduce("MEAN", v, axis=None), values)
        return original_reduce(values, strategy_, reduction)

    def build_from_local_batch(iterator=None, data_batch=None):
        with strategy.scope():
            model._symbolic_build(data_batch=local_batch)

    tf_trainer.reduce_per_replica = reduce_per_replica
    object.__setattr__(model, "_maybe_symbolic_build", build_from_local_batch)
    try:
        yield
    finally:
        tf_trainer.reduce_per_replica = original_reduce
        object.__delattr__(model, "_maybe_symbolic_build")


def multi_worker_fit(model, dataset, **fit_kwargs):
    """``model.fit(dataset, ...)`` that also works under MultiWorkerMirroredStrategy.

    ``model`` must have been built and compiled inside ``strategy.scope()``;
    ``dataset`` is a ``tf.data.Dataset`` of (x, y) batches. Under any other
    strategy (or none) this is plain ``model.fit``.
    """
    import tensorflow as tf

    strategy = model.distribute_strategy
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return model.fit(dataset, **fit_kwargs)
    local_batch = next(iter(dataset))
    with _keras_20585_workaround(model, local_batch):
        return model.fit(dataset, **fit_kwargs)
