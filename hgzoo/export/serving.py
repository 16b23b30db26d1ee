"""SavedModel export for TF Serving: named signature, version folders, metadata.

TensorFlow Serving expects ``BASE_DIR/<version>/saved_model.pb`` + ``variables/``
and a ``serving_default`` signature. :func:`export_for_serving` writes exactly
that, with stable input/output names taken from the model's
``serving_signature()`` (deblurring: ``image`` -> ``deblurred``), and a metadata
file ``assets.extra/hgzoo.json`` (preset, weight hashes, versions, input
contract). The exported graph needs neither hgzoo nor Keras to run.

A version is written beside its final folder as ``.<version>.tmp-<pid>``
(TF Serving only loads all-digit folder names), reloaded to check its
signature, and only then renamed into place; an export that fails leaves any
existing version as it was. Leftovers of killed exports are cleaned up by the
next export into the same folder.
"""

import json
import os
import re
import shutil

import keras
import numpy as np

from hgzoo.errors import ExportError
from hgzoo.files import is_stale
from hgzoo.version import __version__

# .<version>.tmp-<pid>: an export being written; .<version>.old-<pid>: a replaced version during the swap.
_LEFTOVER = re.compile(r"\.(?P<version>\d+)\.(?P<kind>tmp|old)-(?P<pid>\d+)")


def _signature_of(model, input_dtype):
    if not hasattr(model, "serving_signature"):
        raise TypeError(f"{type(model).__name__} does not define serving_signature(); "
                        "only hgzoo models can be exported with export_for_serving")
    return model.serving_signature(input_dtype)


def _shape_checked(serve, specs):
    """``serve`` with each input checked against its spec's shape when the graph runs: a loaded signature does
    not check shapes, and a wrong rank can reach a kernel that aborts the server (oneDNN's convolutions do)."""
    import tensorflow as tf

    def checked(*inputs):
        return serve(*[tf.ensure_shape(x, shape) for x, (shape, _) in zip(inputs, specs.values())])

    return checked


def export_for_serving(model, base_dir, version=1, input_dtype="float32", overwrite=False):
    """Write ``model`` as ``base_dir/<version>/`` for TensorFlow Serving.

    Args:
        model: an hgzoo model (it defines ``serving_signature``).
        base_dir: the model's folder on the serving host (``--model_base_path``).
        version: a positive integer; an existing version folder is never
            replaced unless ``overwrite=True``, and then only once the new
            one has been written and reloaded.
        input_dtype: ``"float32"`` (pixels in [0, 1]) or ``"uint8"`` (0-255,
            scaled inside the graph; outputs uint8 too).

    Returns:
        The version folder written.

    Raises:
        FileExistsError: the version exists and ``overwrite`` is False.
        ExportError: writing or reloading the export failed (nothing was
            replaced; the message says why).
    """
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError("SavedModel export needs the TensorFlow backend (KERAS_BACKEND=tensorflow)")
    import tensorflow as tf

    version = int(version)
    if version < 1:
        raise ValueError(f"version must be a positive integer, got {version}")
    base_dir = os.fspath(base_dir)
    path = os.path.join(base_dir, str(version))
    _clean_leftovers(base_dir)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} exists; TF Serving versions are immutable: use a new --version "
                              "or overwrite=True")
    specs, serve = _signature_of(model, input_dtype)
    tmp = os.path.join(base_dir, f".{version}.tmp-{os.getpid()}")
    try:
        try:
            archive = keras.export.ExportArchive()
            archive.track(model)
            archive.add_endpoint("serving_default", _shape_checked(serve, specs),
                                 input_signature=[tf.TensorSpec(shape, dtype, name=name)
                                                  for name, (shape, dtype) in specs.items()])
            archive.write_out(tmp, verbose=False)
            _write_metadata(tmp, model, specs, input_dtype)
        except Exception as e:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ExportError(f"exporting {type(model).__name__} as {path} failed: {reason}; "
                              + ("the existing version was left as it was" if os.path.exists(path) else
                                 "nothing was written")) from e
        _check_reloads(tmp, specs, path)
        _swap_in(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _check_reloads(folder, specs, path):
    """Load the SavedModel back and compare its serving signature's inputs with ``specs`` (runs nothing)."""
    import tensorflow as tf

    kept = "; the existing version, if any, was left as it was"
    try:
        signature = tf.saved_model.load(folder).signatures["serving_default"]
        _, inputs = signature.structured_input_signature
        found = {name: spec.dtype.name for name, spec in inputs.items()}
        outputs = signature.structured_outputs
    except Exception as e:  # a broken SavedModel raises anything from a protobuf error to KeyError
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ExportError(f"the export for {path} does not reload: {reason}{kept}") from e
    expected = {name: dtype for name, (_, dtype) in specs.items()}
    if found != expected or not outputs:
        raise ExportError(f"the export for {path} reloads with serving_default inputs {found} and outputs "
                          f"{list(outputs or ())}, expected inputs {expected}{kept}")


def _swap_in(tmp, path):
    """Rename ``tmp`` to ``path``; an existing ``path`` is set aside first and deleted last."""
    if not os.path.exists(path):
        os.rename(tmp, path)
        return
    base_dir, version = os.path.split(path)
    aside = os.path.join(base_dir, f".{version}.old-{os.getpid()}")
    os.rename(path, aside)
    try:
        os.rename(tmp, path)
    except OSError:
        os.rename(aside, path)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _clean_leftovers(base_dir):
    """Remove what killed exports left in ``base_dir``; a version set aside mid-swap is put back.

    Folders of a live export (its PID running, written to within a day) are never touched.
    """
    try:
        entries = list(os.scandir(base_dir))
    except OSError:  # no base folder yet
        return
    for entry in entries:
        match = _LEFTOVER.fullmatch(entry.name)
        if not match or int(match["pid"]) == os.getpid():
            continue
        try:
            if not is_stale(entry.path, int(match["pid"])):
                continue
            version = os.path.join(base_dir, match["version"])
            if match["kind"] == "old" and not os.path.exists(version):
                os.rename(entry.path, version)  # killed between the two renames of a swap
            else:
                shutil.rmtree(entry.path)
        except OSError:  # gone meanwhile, or not ours to delete: leave it
            continue


def _write_metadata(path, model, specs, input_dtype):
    import tensorflow as tf

    cfg = getattr(model, "pretrained_cfg", None) or {}
    meta = {
        "hgzoo_version": __version__, "keras_version": keras.__version__, "tensorflow_version": tf.__version__,
        "model_class": type(model).__name__, "model_config": model.get_config(),
        "preset": cfg.get("id") or cfg.get("path"),
        "weights_sha256": [f["sha256"] for f in cfg.get("files", [])],
        "input_contract": getattr(model, "input_contract", None),
        "signature": {"name": "serving_default",
                      "inputs": {n: {"shape": list(s), "dtype": d} for n, (s, d) in specs.items()},
                      "input_dtype": input_dtype},
    }
    os.makedirs(os.path.join(path, "assets.extra"), exist_ok=True)
    with open(os.path.join(path, "assets.extra", "hgzoo.json"), "w") as f:
        json.dump(meta, f, indent=1, default=str)


def predict_request(inputs, format="instances"):
    """A TF Serving REST ``:predict`` body (JSON text) for named inputs.

    Args:
        inputs: ``{input name: batch array}``, e.g. ``{"image": images}``.
        format: ``"instances"`` (row format: one entry per example) or
            ``"inputs"`` (columnar format).

    Example:

    >>> import numpy as np
    >>> predict_request({"image": np.zeros((1, 1, 2, 3), np.uint8)})
    '{"instances": [[[[0, 0, 0], [0, 0, 0]]]]}'
    """
    arrays = {k: np.asarray(v) for k, v in inputs.items()}
    if format == "inputs":
        return json.dumps({"inputs": {k: v.tolist() for k, v in arrays.items()}})
    if format != "instances":
        raise ValueError(f"format must be 'instances' or 'inputs', got {format!r}")
    if len(arrays) == 1:
        (value,) = arrays.values()
        return json.dumps({"instances": value.tolist()})
    n = {len(v) for v in arrays.values()}
    if len(n) != 1:
        raise ValueError("every input needs the same batch size in the 'instances' format")
    return json.dumps({"instances": [{k: v[i].tolist() for k, v in arrays.items()} for i in range(n.pop())]})
