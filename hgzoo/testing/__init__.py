"""The shared test harness: run it on your own layers and models too.

``run_layer_test`` and ``run_model_test`` check what every hgzoo class
promises: config round trip; Keras serialization without ``custom_objects``;
symbolic and eager calls with dynamic spatial sizes; one ``fit`` step with a
finite loss and finite gradients; ``mixed_float16`` and ``mixed_bfloat16``
(variables float32, outputs finite); ``.keras`` save/load with equal outputs,
also in a fresh process that only imports hgzoo; and (TensorFlow backend)
SavedModel export loaded by a process that imports only TensorFlow.

Example:

>>> import numpy as np
>>> from hgzoo.layers import PowerNorm
>>> from hgzoo.testing import run_layer_test
>>> run_layer_test(PowerNorm, {"function": "sigme", "strength": 10},
...                [np.random.rand(2, 5, 5).astype("float32")],
...                subprocess_checks=False)  # doctest: +SKIP
"""

import json
import os
import subprocess
import sys
import tempfile

import keras
import numpy as np

_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def _dynamic_input_specs(arrays, dynamic_axes):
    """keras.Input for each array with the batch and ``dynamic_axes`` unknown (never channels)."""
    inputs = []
    for i, a in enumerate(arrays):
        last = a.ndim - 1
        shape = [None if (ax in dynamic_axes and ax != last) else d for ax, d in enumerate(a.shape)][1:]
        inputs.append(keras.Input(tuple(shape), dtype=str(a.dtype), name=f"input_{i}"))
    return inputs


def _wrap(layer, arrays, dynamic_axes):
    inputs = _dynamic_input_specs(arrays, dynamic_axes)
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], layer(*inputs))


def _to_numpy(x):
    if isinstance(x, (list, tuple)):
        return [_to_numpy(v) for v in x]
    return np.asarray(keras.ops.convert_to_numpy(x))


def _assert_close(a, b, atol, what):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or not np.allclose(a, b, atol=atol, rtol=atol):
        diff = np.abs(a - b).max() if a.shape == b.shape else f"shapes {a.shape} vs {b.shape}"
        raise AssertionError(f"{what}: outputs differ (max |diff| {diff}, atol {atol})")


def _assert_finite(x, what):
    x = np.asarray(x, np.float64)
    if not np.isfinite(x).all():
        raise AssertionError(f"{what}: non-finite values")


def check_config_round_trip(obj):
    """get_config -> from_config gives the same config; JSON-serialisable; registered name resolves."""
    cls = type(obj)
    config = obj.get_config()
    json.dumps(config)
    clone = cls.from_config(config)
    if clone.get_config() != config:
        raise AssertionError(f"{cls.__name__}: config changed in a from_config round trip")
    name = keras.saving.get_registered_name(cls)
    if not name.startswith("hgzoo>") and cls.__module__.startswith("hgzoo"):
        raise AssertionError(f"{cls.__name__} is not registered as hgzoo>{cls.__name__}")
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(obj))
    if type(revived) is not cls:
        raise AssertionError(f"{name} deserialised to {type(revived)} without custom_objects")
    return clone


def check_fit_step(model, arrays, target=None, compile_with="mse"):
    """One optimizer step: loss finite, weights finite and (if any are trainable) changed.

    ``compile_with`` is a loss to compile with first, or None to keep the
    model's own compile defaults (part of what a model test checks).
    """
    outputs = model.predict_on_batch(arrays if len(arrays) > 1 else arrays[0])
    if target is None:
        target = np.zeros_like(_to_numpy(outputs))
    if compile_with is not None:
        model.compile(optimizer=keras.optimizers.SGD(1e-3), loss=compile_with)
    before = [np.array(v) for v in model.trainable_weights]
    logs = model.train_on_batch(arrays if len(arrays) > 1 else arrays[0], target, return_dict=True)
    _assert_finite(logs["loss"], "fit step loss")
    after = [np.array(v) for v in model.trainable_weights]
    for w in after:
        _assert_finite(w, "weights after a fit step (gradients)")
    if before and all(np.array_equal(b, a) for b, a in zip(before, after)):
        raise AssertionError("a fit step changed no weight: gradients are zero or missing")
    return logs


def check_mixed_precision(build_fn, arrays):
    """Under each mixed policy: variables float32, outputs finite."""
    for policy in ("mixed_float16", "mixed_bfloat16"):
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(policy)
        try:
            model = build_fn()
            out = model.predict_on_batch(arrays if len(arrays) > 1 else arrays[0])
            for v in model.weights:
                if v.dtype != "float32" and "int" not in str(v.dtype):
                    raise AssertionError(f"{policy}: variable {v.path} is {v.dtype}, not float32")
            for o in out if isinstance(out, list) else [out]:
                _assert_finite(o, f"{policy} output")
        finally:
            keras.config.set_dtype_policy(previous)


_RELOAD_SCRIPT = """
import sys, numpy as np, keras
import hgzoo
model = keras.saving.load_model(sys.argv[1])
inputs = [np.load(p) for p in sys.argv[3:]]
out = model.predict_on_batch(inputs if len(inputs) > 1 else inputs[0])
np.save(sys.argv[2], keras.ops.convert_to_numpy(out))
"""

_SAVEDMODEL_SCRIPT = """
import sys, numpy as np, tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
inputs = [tf.constant(np.load(p)) for p in sys.argv[3:]]
out = loaded.serve(inputs if len(inputs) > 1 else inputs[0])
assert "hgzoo" not in sys.modules, "the SavedModel needed hgzoo"
np.save(sys.argv[2], out.numpy())
"""


def _run_script(script, args):
    # A neutral working directory, so the fresh process imports the installed packages only.
    result = subprocess.run([sys.executable, "-c", script, *args], env=_ENV, capture_output=True, text=True,
                            cwd=tempfile.gettempdir())
    if result.returncode:
        raise AssertionError(f"subprocess failed:\n{result.stderr[-3000:]}")


def _save_inputs(folder, arrays):
    paths = []
    for i, a in enumerate(arrays):
        paths.append(os.path.join(folder, f"in{i}.npy"))
        np.save(paths[-1], a)
    return paths


def check_keras_file(model, arrays, atol=1e-5, subprocess_check=True):
    """``.keras`` save/load equal outputs, in process and in a fresh process importing only hgzoo."""
    expected = _to_numpy(model.predict_on_batch(arrays if len(arrays) > 1 else arrays[0]))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)
        if type(loaded) is not type(model):
            raise AssertionError(f"loaded {type(loaded).__name__}, expected {type(model).__name__}")
        _assert_close(loaded.predict_on_batch(arrays if len(arrays) > 1 else arrays[0]), expected, atol,
                      ".keras reload")
        if subprocess_check:
            out = os.path.join(tmp, "out.npy")
            _run_script(_RELOAD_SCRIPT, [path, out, *_save_inputs(tmp, arrays)])
            _assert_close(np.load(out), expected, atol, ".keras reload in a fresh process")


def check_saved_model(model, arrays, atol=1e-4):
    """SavedModel export served by a process that imports TensorFlow only (TF backend)."""
    expected = _to_numpy(model.predict_on_batch(arrays if len(arrays) > 1 else arrays[0]))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "export")
        model.export(path, format="tf_saved_model", verbose=False)
        out = os.path.join(tmp, "out.npy")
        _run_script(_SAVEDMODEL_SCRIPT, [path, out, *_save_inputs(tmp, arrays)])
        _assert_close(np.load(out), expected, atol, "SavedModel served without hgzoo")


def run_layer_test(layer_cls, init_kwargs, input_data, expected_output_shape=None, dynamic_axes=(1, 2),
                   other_input_data=None, train=True, mixed_precision=True, subprocess_checks=True,
                   atol=1e-5):
    """Run every harness check on a layer.

    Args:
        layer_cls: the layer class.
        init_kwargs: constructor arguments.
        input_data: list of arrays, the layer's positional inputs.
        expected_output_shape: the eager output shape, if known.
        dynamic_axes: axes (besides batch) left unknown in the symbolic model.
        other_input_data: inputs of another spatial size / batch to run the
            same built model on (dynamic shapes).
        train: run one fit step (needs at least one trainable weight or a
            differentiable path).
    """
    arrays = [np.asarray(a) for a in input_data]
    layer = layer_cls(**init_kwargs)
    eager = layer(*arrays)
    if expected_output_shape is not None and tuple(eager.shape) != tuple(expected_output_shape):
        raise AssertionError(f"eager output shape {tuple(eager.shape)} != {tuple(expected_output_shape)}")
    check_config_round_trip(layer)
    model = _wrap(layer_cls(**init_kwargs), arrays, dynamic_axes)
    symbolic = model.outputs[0]
    computed = layer.compute_output_shape(*[tuple(a.shape) for a in arrays])
    if tuple(computed) != tuple(eager.shape):
        raise AssertionError(f"compute_output_shape {tuple(computed)} != eager shape {tuple(eager.shape)}")
    if len(symbolic.shape) != len(eager.shape):
        raise AssertionError(f"symbolic rank {len(symbolic.shape)} != eager rank {len(eager.shape)}")
    model.predict_on_batch(arrays if len(arrays) > 1 else arrays[0])
    if other_input_data is not None:
        others = [np.asarray(a) for a in other_input_data]
        _assert_finite(model.predict_on_batch(others if len(others) > 1 else others[0]), "dynamic-shape call")
    if train:
        check_fit_step(model, arrays)
    if mixed_precision:
        check_mixed_precision(lambda: _wrap(layer_cls(**init_kwargs), arrays, dynamic_axes), arrays)
    check_keras_file(model, arrays, atol=atol, subprocess_check=subprocess_checks)
    if subprocess_checks and keras.backend.backend() == "tensorflow":
        check_saved_model(model, arrays, atol=max(atol, 1e-4))
    return model


def run_model_test(model_cls, init_kwargs, input_data, other_input_data=None, target=None, train=True,
                   mixed_precision=True, subprocess_checks=True, atol=1e-5):
    """Run every harness check on a ZooModel subclass (see :func:`run_layer_test`)."""
    arrays = [np.asarray(a) for a in input_data]
    model = model_cls(**init_kwargs)
    check_config_round_trip(model)
    out = model.predict_on_batch(arrays if len(arrays) > 1 else arrays[0])
    _assert_finite(out, "eager output")
    if other_input_data is not None:
        others = [np.asarray(a) for a in other_input_data]
        _assert_finite(model.predict_on_batch(others if len(others) > 1 else others[0]), "dynamic-shape call")
    if train:
        check_fit_step(model, arrays, target=target, compile_with=None)
    if mixed_precision:
        check_mixed_precision(lambda: model_cls(**init_kwargs), arrays)
    check_keras_file(model, arrays, atol=atol, subprocess_check=subprocess_checks)
    if subprocess_checks and keras.backend.backend() == "tensorflow":
        check_saved_model(model, arrays, atol=max(atol, 1e-4))
    return model
