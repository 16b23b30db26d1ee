"""SavedModel export for TF Serving: named signature, version folders, metadata.

TensorFlow Serving expects ``BASE_DIR/<version>/saved_model.pb`` + ``variables/``
and a ``serving_default`` signature. :func:`export_for_serving` writes exactly
that, with stable input/output names taken from the model's
``serving_signature()`` (deblurring: ``image`` -> ``deblurred``), and a metadata
file ``assets.extra/hgzoo.json`` (preset, weight hashes, versions, input
contract). The exported graph needs neither hgzoo nor Keras to run.
"""

import json
import os
import shutil

import keras
import numpy as np

from hgzoo.version import __version__


def _signature_of(model, input_dtype):
    if not hasattr(model, "serving_signature"):
        raise TypeError(f"{type(model).__name__} does not define serving_signature(); "
                        "only hgzoo models can be exported with export_for_serving")
    return model.serving_signature(input_dtype)


def export_for_serving(model, base_dir, version=1, input_dtype="float32", overwrite=False):
    """Write ``model`` as ``base_dir/<version>/`` for TensorFlow Serving.

    Args:
        model: an hgzoo model (it defines ``serving_signature``).
        base_dir: the model's folder on the serving host (``--model_base_path``).
        version: a positive integer; an existing version folder is never
            replaced unless ``overwrite=True``.
        input_dtype: ``"float32"`` (pixels in [0, 1]) or ``"uint8"`` (0-255,
            scaled inside the graph; outputs uint8 too).

    Returns:
        The version folder written.
    """
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError("SavedModel export needs the TensorFlow backend (KERAS_BACKEND=tensorflow)")
    import tensorflow as tf

    version = int(version)
    if version < 1:
        raise ValueError(f"version must be a positive integer, got {version}")
    path = os.path.join(os.fspath(base_dir), str(version))
    if os.path.exists(path):
        if not overwrite:
            raise FileExistsError(f"{path} exists; TF Serving versions are immutable: use a new --version "
                                  "or overwrite=True")
        shutil.rmtree(path)
    specs, serve = _signature_of(model, input_dtype)
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", serve,
                         input_signature=[tf.TensorSpec(shape, dtype, name=name)
                                          for name, (shape, dtype) in specs.items()])
    tmp = f"{path}.tmp-{os.getpid()}"
    archive.write_out(tmp, verbose=False)
    _write_metadata(tmp, model, specs, input_dtype)
    os.replace(tmp, path)
    return path


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
