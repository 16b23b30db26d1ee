"""The model registry: names, tasks, presets and ``pretrained=`` handling.

``@register_model(task=..., name=...)`` makes a :class:`~hgzoo.models.ZooModel`
subclass public: it registers it with Keras serialization (``hgzoo>Class``),
lists it under its explicit snake-case name, and gives its constructor the ``pretrained``
argument (``False``, ``True``, a preset id, or a path to a ``.weights.h5``).
``pretrained`` is never part of the model's config, so loading a saved model
never downloads anything (a config edited to hold one is refused, see
:meth:`hgzoo.models.ZooModel.from_config`). A ``.weights.h5`` path is checked
against the model before it is loaded (:mod:`hgzoo.models.pretrained`).

Example:

>>> import hgzoo
>>> "dmphn" in hgzoo.list_models(task="deblur")
True
>>> model = hgzoo.create_model("dmphn", levels=(1,))
"""

import fnmatch
import functools
import inspect
import json
import os
import re

from hgzoo.api_export import hgzoo_export
from hgzoo.errors import UnknownPresetError
from hgzoo.weights import manifest

_MODELS = {}


def registered_name(cls):
    return f"hgzoo>{cls.__name__}"


def _same(a, b):
    return json.loads(json.dumps(a)) == json.loads(json.dumps(b))


def _choose_preset(cls, pretrained, kwargs):
    """The preset ``pretrained`` designates for ``cls`` given explicit ``kwargs``."""
    own = manifest.presets_for(registered_name(cls))
    if pretrained is True:
        if not own:
            raise ValueError(f"{cls.__name__} has no pretrained presets yet; use pretrained=False")
        fitting = [p for p in own if all(_same(kwargs[k], v) for k, v in p.config.items() if k in kwargs)]
        if not fitting:
            listing = "; ".join(f"{p.id}: {p.config}" for p in own)
            raise ValueError(f"no {cls.__name__} preset matches the arguments {kwargs}; presets: {listing}")
        return sorted(fitting, key=lambda p: not p.default)[0]
    preset = manifest.get(pretrained)
    if preset.arch != registered_name(cls):
        raise ValueError(
            f"preset {preset.id!r} is for {preset.arch}, not {registered_name(cls)}; "
            f"use hgzoo.create_model({preset.id!r}, pretrained=True)"
        )
    for key, value in kwargs.items():
        if key in preset.config and not _same(value, preset.config[key]):
            raise ValueError(
                f"argument {key}={value!r} conflicts with preset {preset.id!r}, whose weights need "
                f"{key}={preset.config[key]!r}; drop the argument or use pretrained=False"
            )
    return preset


def _is_path(value):
    text = os.fspath(value)
    return os.sep in text or text.endswith(".h5") or os.path.exists(text)


def _wrap_init(cls):
    original = cls.__init__

    @functools.wraps(original)
    def __init__(self, *args, pretrained=False, **kwargs):
        # The outermost wrapped __init__ of an instance handles `pretrained`
        # (a registered subclass's presets win over its parent's).
        if getattr(self, "_hgzoo_building", False):
            original(self, *args, **kwargs)
            return
        object.__setattr__(self, "_hgzoo_building", True)
        try:
            preset = None
            if pretrained not in (False, None):
                if isinstance(pretrained, (str, os.PathLike)) and _is_path(pretrained):
                    preset = os.fspath(pretrained)
                else:
                    preset = _choose_preset(cls, pretrained, kwargs)
                    kwargs = {**preset.config, **kwargs}
            original(self, *args, **kwargs)
        finally:
            object.__delattr__(self, "_hgzoo_building")
        if preset is not None:
            from hgzoo.models.pretrained import load_pretrained

            load_pretrained(self, preset)

    sig = inspect.signature(original)
    params = [p for p in sig.parameters.values() if p.kind != p.VAR_KEYWORD]
    extra = [p for p in sig.parameters.values() if p.kind == p.VAR_KEYWORD]
    params.append(inspect.Parameter("pretrained", inspect.Parameter.KEYWORD_ONLY, default=False))
    __init__.__signature__ = sig.replace(parameters=params + extra)
    cls.__init__ = __init__


def register_model(task, name):
    """Class decorator: make a ZooModel public under ``task`` and ``name``.

    Args:
        task: the family, e.g. ``"deblur"`` (a family's package name).
        name: the architecture name, lower-case words joined by ``_``
            (``"stack_mpn"``); given explicitly so that renaming a class
            never renames its model.
    """
    if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name or ""):
        raise ValueError(f"model name {name!r}: use lower-case words joined by '_', e.g. 'stack_mpn'")

    def decorate(cls):
        if name in _MODELS and _MODELS[name] is not cls:
            raise ValueError(f"model name {name!r} is already registered by {_MODELS[name]}")
        cls.task = task
        cls.arch_name = name
        _wrap_init(cls)
        _MODELS[name] = hgzoo_export(cls)
        return cls

    return decorate


def model_classes():
    """Every registered model class, keyed by architecture name."""
    return dict(_MODELS)


def get_model_class(name):
    """The class for an architecture name, preset id or ``hgzoo>Class`` name."""
    if name in _MODELS:
        return _MODELS[name]
    for cls in _MODELS.values():
        if registered_name(cls) == name or cls.__name__ == name:
            return cls
    try:
        preset = manifest.get(name)
    except UnknownPresetError:
        raise UnknownPresetError(
            f"unknown model {name!r}; known models and presets: {', '.join(list_models())}"
        ) from None
    return get_model_class(preset.arch)


def list_models(pattern=None, task=None, pretrained=None):
    """Names accepted by :func:`create_model`: architectures and preset ids.

    Args:
        pattern: a shell-style wildcard, e.g. ``"dmphn*"``.
        task: keep only this family (``"deblur"``, ...).
        pretrained: True keeps only preset ids (they have weights), False only
            architecture names; None keeps both.
    """
    names = {}
    if pretrained is not True:
        names.update({arch: cls.task for arch, cls in _MODELS.items()})
    if pretrained is not False:
        names.update({pid: p.task for pid, p in manifest.all_presets().items()})
    return sorted(
        n for n, t in names.items()
        if (task is None or t == task) and (pattern is None or fnmatch.fnmatch(n, pattern))
    )


def create_model(name, pretrained=False, **kwargs):
    """Build a model by architecture name or preset id.

    ``create_model("stack_mpn_4_gopro", pretrained=True)`` loads that preset's
    weights; with ``pretrained=False`` a preset id gives its architecture with
    random weights. Extra keyword arguments go to the constructor.
    """
    cls = get_model_class(name)
    if name in manifest.all_presets():
        preset = manifest.get(name)
        if pretrained:
            return cls(pretrained=preset.id, **kwargs)
        return cls(**{**preset.config, **kwargs})
    return cls(pretrained=pretrained, **kwargs)
