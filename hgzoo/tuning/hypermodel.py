"""HyperModel: a keras-tuner HyperModel over any hgzoo model class."""

import keras

from hgzoo.config import require
from hgzoo.models.search_space import Choice, Float, Int

keras_tuner = require("keras_tuner", "tune")

TRAINING_KEYS = ("learning_rate", "batch_size", "epochs")


def _declare(hp, name, spec):
    if isinstance(spec, Int):
        return hp.Int(name, spec.min_value, spec.max_value, step=spec.step, sampling=spec.sampling)
    if isinstance(spec, Float):
        return hp.Float(name, spec.min_value, spec.max_value, sampling=spec.sampling)
    if isinstance(spec, Choice):
        return spec.decode(hp.Choice(name, spec.encoded()))
    raise TypeError(f"search space entry {name!r} must be Int, Float or Choice, got {spec!r}")


class HyperModel(keras_tuner.HyperModel):
    """Tune a model class over its declared ``search_space`` (constructor arguments).

    Args:
        model_cls: an hgzoo model class (e.g. ``hgzoo.deblur.StackMPN``).
        fixed: constructor arguments held constant (recorded as ``hp.Fixed``).
        space: overrides or additions to ``model_cls.search_space``.
        train_space: training hyperparameters: ``learning_rate`` (Adam),
            ``batch_size`` and ``epochs`` (passed to ``fit``).

    ``build(hp)`` always calls ``model_cls(**kwargs)`` with random weights:
    no architecture code is copied, and the space is listable without
    building (:attr:`space`). Use ``overwrite=True`` on the tuner when the
    space changes: old trials of another space cannot be reloaded.
    See the module docstring for a runnable example.
    """

    def __init__(self, model_cls, fixed=None, space=None, train_space=None, name=None):
        super().__init__(name=name or f"{model_cls.__name__}_hypermodel", tunable=True)
        self.model_cls = model_cls
        self.fixed = dict(fixed or {})
        model_space = {**getattr(model_cls, "search_space", {}), **(space or {})}
        self.model_space = {k: v for k, v in model_space.items() if k not in self.fixed}
        self.train_space = dict(train_space or {})
        unknown = set(self.train_space) - set(TRAINING_KEYS)
        if unknown:
            raise ValueError(f"train_space supports {TRAINING_KEYS}, not {sorted(unknown)}")

    @property
    def space(self):
        """Every tunable entry, model and training, by name."""
        return {**self.model_space, **self.train_space}

    def model_kwargs(self, hp):
        """Constructor arguments for ``hp`` (e.g. the best hyperparameters)."""
        kwargs = dict(self.fixed)
        for name, spec in self.model_space.items():
            value = hp.get(name) if name in hp.values else None
            kwargs[name] = spec.decode(value) if isinstance(spec, Choice) and value is not None else value
        return {k: v for k, v in kwargs.items() if v is not None}

    def build(self, hp):
        for name, value in self.fixed.items():
            hp.Fixed(name, value if isinstance(value, (int, float, str, bool)) else str(value))
        for name, spec in self.model_space.items():
            _declare(hp, name, spec)
        model = self.model_cls(**self.model_kwargs(hp))
        if "learning_rate" in self.train_space:
            model.compile(optimizer=keras.optimizers.Adam(_declare(hp, "learning_rate",
                                                                   self.train_space["learning_rate"])))
        return model

    def fit(self, hp, model, *args, **kwargs):
        for key in ("batch_size", "epochs"):
            if key in self.train_space:
                kwargs[key] = _declare(hp, key, self.train_space[key])
        return model.fit(*args, **kwargs)
