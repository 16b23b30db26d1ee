"""ZooModel: the base class of every hgzoo model."""

import keras

from hgzoo.errors import InvalidConfigError


class ZooModel(keras.Model):
    """A functional Keras model whose config is its constructor arguments.

    Subclasses build their graph in ``__init__`` and call
    ``super().__init__(inputs=..., outputs=..., **kwargs)``; they override
    :meth:`get_config` to return their own arguments merged with
    ``super().get_config()``. Decorated with
    :func:`hgzoo.registry.register_model`, they get ``pretrained=``,
    presets and Keras serialization. ``pretrained_cfg`` records which preset
    (or file) the weights came from, or is None for random weights.

    Example:

    >>> import hgzoo
    >>> model = hgzoo.deblur.DMPHN(levels=(1,))
    >>> model.pretrained_cfg is None
    True
    """

    task = None
    arch_name = None
    converters = {}
    search_space = {}
    pretrained_cfg = None

    def __init__(self, *args, dtype=None, **kwargs):
        super().__init__(*args, dtype=dtype, **kwargs)
        # A functional model keeps the global policy whatever `dtype` it is given, while subclasses build their
        # layers with `dtype`: the config records that one, or a saved mixed-precision model reloads in float32.
        self._layers_dtype_policy = None if dtype is None else keras.dtype_policies.get(dtype)

    @property
    def layers_dtype_policy(self):
        """The dtype policy the model's layers were built with (``dtype=``, else the global one)."""
        policy = getattr(self, "_layers_dtype_policy", None)
        return self.dtype_policy if policy is None else policy

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.saving.serialize_keras_object(self.layers_dtype_policy),
        }

    def compile_from_config(self, config):
        """Restore the saved compile state through :meth:`compile` (Keras' default
        refuses models with a custom ``compile``), then build the optimizer so its
        saved variables load too."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    # Constructor arguments that load weights from elsewhere; a saved config must not carry them.
    fetching_arguments = ("pretrained",)

    @classmethod
    def from_config(cls, config):
        # A saved model carries its own weights. A config asking for
        # `pretrained` was edited by hand (get_config never writes it): acting
        # on it would download during a load and record a source the loaded
        # weights do not come from, and ignoring it would hide the edit.
        for key in cls.fetching_arguments:
            if key in config and (key == "pretrained" or config[key]):
                raise InvalidConfigError(
                    f"this {cls.__name__} config asks for {key}={config[key]!r}; a saved model's weights come "
                    f"from the file itself and loading never fetches any: remove the key (or build "
                    f"{cls.__name__}({key}=...) yourself)")
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.saving.deserialize_keras_object(config["dtype"])
        return cls(**config)
