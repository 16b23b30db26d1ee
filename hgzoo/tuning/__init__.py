"""Keras Tuner sweeps over hgzoo models, built through their normal constructors.

Keras Tuner is the ``tune`` extra (``pip install "hgzoo[tune]"``); it is
imported when :class:`HyperModel` is first used, so ``import hgzoo`` works
without it.

Example:

>>> import keras_tuner, hgzoo
>>> from hgzoo.models.search_space import Float
>>> hm = hgzoo.tuning.HyperModel(hgzoo.deblur.DMPHN,
...                              train_space={"learning_rate": Float(1e-5, 1e-3, "log")})
>>> sorted(hm.space)
['learning_rate', 'levels']
>>> tuner = keras_tuner.RandomSearch(hm, "val_loss", max_trials=3, overwrite=True,
...                                  directory="/tmp/sweep")  # doctest: +SKIP
>>> best = hgzoo.deblur.DMPHN(**hm.model_kwargs(tuner.get_best_hyperparameters()[0]))  # doctest: +SKIP
"""

__all__ = ["HyperModel"]


def __getattr__(name):
    if name == "HyperModel":
        from hgzoo.tuning.hypermodel import HyperModel

        return HyperModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
