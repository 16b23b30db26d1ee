"""Keras Tuner sweeps over hgzoo models, built through their normal constructors.

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

from hgzoo.tuning.hypermodel import HyperModel

__all__ = ["HyperModel"]
