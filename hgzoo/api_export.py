"""The one decorator that makes a class public and Keras-serializable."""

import keras


def hgzoo_export(cls):
    """Register ``cls`` with Keras serialization as ``hgzoo>ClassName``.

    A ``.keras`` file holding the class then loads in a fresh process after
    only ``import hgzoo``, with no ``custom_objects``.

    Example:

    >>> import keras
    >>> @hgzoo_export
    ... class Doubler(keras.layers.Layer):
    ...     def call(self, x):
    ...         return 2 * x
    >>> keras.saving.get_registered_name(Doubler)
    'hgzoo>Doubler'
    """
    return keras.saving.register_keras_serializable(package="hgzoo")(cls)
