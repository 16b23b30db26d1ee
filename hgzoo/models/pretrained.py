"""Load a preset's weights into a freshly built model.

Third-party checkpoints are converted by the family's converter (declared on
the class as ``converters = {"name": (version, fn)}``) at first use; the
converted ``.weights.h5`` is cached so later loads neither download nor
convert.
"""

import contextlib
import warnings

from hgzoo.weights import store


@contextlib.contextmanager
def _no_optimizer_warning():
    # Preset files hold model weights only, never optimizer state: Keras'
    # "Skipping variable loading for optimizer" warning is expected noise here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        yield


def _converter(model, preset):
    converters = getattr(type(model), "converters", {})
    if preset.converter_name not in converters:
        raise ValueError(f"{type(model).__name__} has no converter {preset.converter_name!r}")
    version, fn = converters[preset.converter_name]
    if version != preset.converter_version:
        raise ValueError(
            f"preset {preset.id!r} needs converter {preset.converter}, "
            f"hgzoo has {preset.converter_name}@{version}"
        )
    return fn


def load_pretrained(model, preset):
    """Load ``preset`` (a manifest Preset, or a path to ``.weights.h5``) into ``model``."""
    with _no_optimizer_warning():
        if isinstance(preset, str):
            model.load_weights(preset)
            object.__setattr__(model, "pretrained_cfg", {"path": preset})
            return
        if preset.converter:
            convert = _converter(model, preset)
            cached = store.load_converted(preset)
            if cached is not None:
                model.load_weights(cached)
            else:
                convert(model, {f.path: store.fetch(preset, f) for f in preset.files})
                store.save_converted(preset, model.save_weights)
        else:
            (wfile,) = preset.files
            model.load_weights(store.fetch(preset, wfile))
    object.__setattr__(model, "pretrained_cfg", preset.as_dict())
