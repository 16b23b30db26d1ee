"""Load a preset's weights into a freshly built model.

Third-party checkpoints are converted by the family's converter (declared on
the class as ``converters = {"name": (version, fn)}``) at first use; the
converted ``.weights.h5`` is cached so later loads neither download nor
convert.

Every ``.weights.h5`` is checked against the model before it is loaded (see
:func:`check_weights_file`): Keras loads a file by path and ignores what it
does not ask for, so a bigger model's file would otherwise load silently into
a smaller one and give wrong outputs.
"""

import contextlib
import os
import tempfile
import warnings

from hgzoo.errors import WeightsMismatchError, WeightsUnavailableError
from hgzoo.weights import store

_SUFFIX = ".weights.h5"
_SHOWN = 4  # layer names listed in a mismatch message


@contextlib.contextmanager
def _no_optimizer_warning():
    # Preset files hold model weights only, never optimizer state: Keras'
    # "Skipping variable loading for optimizer" warning is expected noise here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        yield


def _layout(path):
    """``{weight name: shape}`` of a Keras 3 ``.weights.h5``, without optimizer state
    (preset files have none, training checkpoints do; it changes no output).

    Keras stores each weight under a path built from class names
    (``layers/dmphn_decoder_2/convs/conv2d/vars/0``); the name used here puts
    the top-level layer's own name in place of its path segment
    (``decoder_lv3/convs/conv2d/vars/0``), so messages say which layer it is.
    """
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise WeightsMismatchError(f"{path} is not a Keras .weights.h5 file (HDF5 cannot open it: "
                                   f"{str(e).splitlines()[0]})") from None
    shapes = {}
    with f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and not name.startswith("optimizer/"):
                parts = name.split("/")
                depth = 2 if parts[0] == "layers" and len(parts) > 2 else 1
                group = f.get("/".join(parts[:depth] + ["vars"]))
                owner = group.attrs.get("name") if group is not None else None
                key = "/".join([str(owner)] + parts[depth:]) if owner else name
                shapes[key] = tuple(int(d) for d in obj.shape)

        f.visititems(visit)
    return shapes


def _model_layout(model):
    """What ``model.save_weights`` writes for this model, as :func:`_layout` reads it."""
    with tempfile.TemporaryDirectory(prefix="hgzoo-layout-") as folder:
        path = os.path.join(folder, f"model{_SUFFIX}")
        model.save_weights(path)
        return _layout(path)


def _layers(keys):
    names = sorted({k.split("/")[0] for k in keys})
    return ", ".join(names[:_SHOWN]) + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def check_weights_file(model, path):
    """Raise :class:`~hgzoo.errors.WeightsMismatchError` unless ``path`` holds
    ``model``'s weights: as many, with the same shapes.

    Keras loads each weight the model asks for by its path and raises when one
    is missing, but silently ignores weights the model does not ask for: a
    bigger model's file would load into a smaller one. Equal counts rule that
    out; equal shapes rule out most files of other configurations. The message
    names the first differing weight and the layers only one side has.
    """
    found = _layout(path)
    # The model's own variables decide the usual case without writing its weights to disk; the
    # written layout is only needed to name the difference (or when the two disagree on extras).
    if sorted(found.values()) == sorted(tuple(int(d) for d in v.shape) for v in model.weights):
        return
    wanted = _model_layout(model)
    if len(found) == len(wanted) and sorted(found.values()) == sorted(wanted.values()):
        return
    first = next(k for k in sorted(set(found) | set(wanted)) if found.get(k) != wanted.get(k))
    if first in found and first in wanted:
        difference = f"{first} has shape {found[first]} in the file, {wanted[first]} in the model"
    elif first in found:
        difference = f"the file has {first} {found[first]}, the model has no such weight"
    else:
        difference = f"the model has {first} {wanted[first]}, the file has no such weight"
    hint = ""
    if set(found) - set(wanted):
        hint += f"; layers only in the file: {_layers(set(found) - set(wanted))}"
    if set(wanted) - set(found):
        hint += f"; layers only in the model: {_layers(set(wanted) - set(found))}"
    size = ("bigger" if len(found) > len(wanted) else "smaller" if len(found) < len(wanted)
            else "differently shaped")
    raise WeightsMismatchError(
        f"{path} does not fit this {type(model).__name__}: the file holds {len(found)} weights, "
        f"the model has {len(wanted)}; first difference: {difference}{hint}. The file is for a {size} "
        "model: build the model with the arguments the file was saved with")


def load_weights_file(model, path):
    """Check ``path`` against ``model`` (:func:`check_weights_file`), then load it."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise WeightsUnavailableError(f"pretrained={path!r}: no such file")
    if os.path.isdir(path):
        raise WeightsUnavailableError(f"pretrained={path!r} is a folder; give the {_SUFFIX} file inside it")
    if not os.access(path, os.R_OK):
        raise WeightsUnavailableError(f"pretrained={path!r} cannot be read (permission denied)")
    if not path.endswith(_SUFFIX):
        raise WeightsMismatchError(f"pretrained={path!r}: hgzoo loads Keras 3 {_SUFFIX} files "
                                   f"(written by model.save_weights); rename or re-save it")
    check_weights_file(model, path)
    try:
        with _no_optimizer_warning():
            model.load_weights(path)
    except ValueError as e:  # names that Keras could not resolve
        raise WeightsMismatchError(f"{path} does not fit this {type(model).__name__}: "
                                   f"{str(e).splitlines()[0]}") from None


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
    if isinstance(preset, str):
        load_weights_file(model, preset)
        object.__setattr__(model, "pretrained_cfg", {"path": preset})
        return
    if preset.converter:
        convert = _converter(model, preset)
        cached = store.load_converted(preset)
        if cached is not None:
            try:
                load_weights_file(model, cached)
            except WeightsMismatchError:  # written for another layout (another Keras): convert again
                cached = None
        if cached is None:
            with _no_optimizer_warning():
                convert(model, {f.path: store.fetch(preset, f) for f in preset.files})
            store.save_converted(preset, model.save_weights)
    else:
        (wfile,) = preset.files
        load_weights_file(model, store.fetch(preset, wfile))
    object.__setattr__(model, "pretrained_cfg", preset.as_dict())
