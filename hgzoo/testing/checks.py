"""The single checks the harness runs; each raises AssertionError with what went wrong.

Example:

>>> from hgzoo.layers import PowerNorm
>>> from hgzoo.testing.checks import check_config_round_trip
>>> type(check_config_round_trip(PowerNorm("sigme", 10))).__name__
'PowerNorm'
"""

import json
import os
import subprocess
import sys
import tempfile

import keras
import numpy as np

from hgzoo.testing import fresh_process

_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
MIXED_POLICIES = ("mixed_float16", "mixed_bfloat16")


def as_call_input(arrays):
    """The positional input of a Keras call: one array, or a list of several."""
    return arrays if len(arrays) > 1 else arrays[0]


def to_numpy(x):
    if isinstance(x, (list, tuple)):
        return [to_numpy(v) for v in x]
    return np.asarray(keras.ops.convert_to_numpy(x))


def assert_close(a, b, atol, what):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or not np.allclose(a, b, atol=atol, rtol=atol):
        diff = np.abs(a - b).max() if a.shape == b.shape else f"shapes {a.shape} vs {b.shape}"
        raise AssertionError(f"{what}: outputs differ (max |diff| {diff}, atol {atol})")


def assert_finite(x, what):
    x = np.asarray(x, np.float64)
    if not np.isfinite(x).all():
        raise AssertionError(f"{what}: non-finite values")


def check_shapes(eager_shape, static_shape, dynamic_shape, expected, value_dependent_axes=()):
    """Eager and static symbolic shapes equal ``expected`` exactly (the static one may leave
    ``value_dependent_axes`` None: sizes read from input values, such as a class count from
    labels); the dynamic symbolic shape has the same rank and every known axis equal to it."""
    expected = tuple(expected) if expected is not None else tuple(eager_shape)
    if tuple(eager_shape) != expected:
        raise AssertionError(f"eager output shape {tuple(eager_shape)} != expected {expected}")
    static_shape = tuple(static_shape)
    allowed = tuple(None if (ax in value_dependent_axes and ax < len(static_shape) and static_shape[ax] is None)
                    else e for ax, e in enumerate(expected))
    if static_shape != allowed:
        raise AssertionError(f"symbolic output shape {tuple(static_shape)} (inputs of the test's shapes) "
                             f"!= expected {expected}")
    dynamic_shape = tuple(dynamic_shape)
    if len(dynamic_shape) != len(expected) or any(d is not None and d != e for d, e in zip(dynamic_shape,
                                                                                          expected)):
        raise AssertionError(f"symbolic output shape with dynamic axes {dynamic_shape} does not fit {expected} "
                             "(None only where an axis depends on a dynamic input axis)")


def check_weight_counts(obj, trainable, non_trainable):
    """The number of trainable and non-trainable weight tensors, where given."""
    for what, expected, actual in (("trainable", trainable, obj.trainable_weights),
                                   ("non-trainable", non_trainable, obj.non_trainable_weights)):
        if expected is not None and len(actual) != expected:
            raise AssertionError(f"{type(obj).__name__} has {len(actual)} {what} weights, expected {expected}: "
                                 f"{[w.path for w in actual]}")


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
    outputs = model.predict_on_batch(as_call_input(arrays))
    if target is None:
        target = np.zeros_like(to_numpy(outputs), dtype=np.float32)
    if compile_with is not None:
        model.compile(optimizer=keras.optimizers.SGD(1e-3), loss=compile_with)
    before = [np.array(v) for v in model.trainable_weights]
    logs = model.train_on_batch(as_call_input(arrays), target, return_dict=True)
    assert_finite(logs["loss"], "fit step loss")
    after = [np.array(v) for v in model.trainable_weights]
    for w in after:
        assert_finite(w, "weights after a fit step (gradients)")
    if before and all(np.array_equal(b, a) for b, a in zip(before, after)):
        raise AssertionError("a fit step changed no weight: gradients are zero or missing")
    return logs


def check_mixed_precision(build_fn, arrays, target=None, compile_with="mse", train=True, float32_outputs=False):
    """Under each mixed policy: variables float32; outputs finite and in the policy's
    compute dtype (float32 where ``float32_outputs``). With ``train``, one finite ``fit``
    step under ``mixed_float16``: the policy with loss scaling (``mixed_bfloat16`` runs the
    same graph in another dtype; half-precision steps are slow on CPUs, so one is taken)."""
    for policy in MIXED_POLICIES:
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(policy)
        try:
            model = build_fn()
            out = model.predict_on_batch(as_call_input(arrays))
            for v in model.weights:
                if v.dtype != "float32" and "int" not in str(v.dtype):
                    raise AssertionError(f"{policy}: variable {v.path} is {v.dtype}, not float32")
            expected = "float32" if float32_outputs else keras.config.dtype_policy().compute_dtype
            for o in out if isinstance(out, list) else [out]:
                assert_finite(o, f"{policy} output")
                if np.dtype(o.dtype).kind == "f" and str(keras.backend.standardize_dtype(o.dtype)) != expected:
                    raise AssertionError(f"{policy}: output is {o.dtype}, expected {expected}"
                                         + ("" if float32_outputs else " (pass float32_outputs=True where the "
                                            "class documents float32 outputs)"))
            if train and policy == "mixed_float16":
                check_fit_step(model, arrays, target=target, compile_with=compile_with)
        except AssertionError as e:
            raise AssertionError(f"under {policy}: {e}") from None
        finally:
            keras.config.set_dtype_policy(previous)


# Serves a SavedModel's serving_default signature with named inputs from an .npz
# and reports its signature; imports TensorFlow only.
_SERVE_SCRIPT = """
import json, sys, numpy as np, tensorflow as tf
fn = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
arrays = np.load(sys.argv[2])
out = fn(**{k: tf.constant(arrays[k]) for k in arrays.files})
assert "hgzoo" not in sys.modules, "serving the SavedModel imported hgzoo"
np.savez(sys.argv[3], **{k: v.numpy() for k, v in out.items()})
signature = {"inputs": {k: s.dtype.name for k, s in fn.structured_input_signature[1].items()},
             "outputs": {k: s.dtype.name for k, s in fn.structured_outputs.items()}}
print(json.dumps(signature))
"""


def run_script(script, args):
    """Run ``script`` in a fresh Python; its stdout. A neutral working directory, so the
    process imports the installed packages only."""
    result = subprocess.run([sys.executable, "-c", script, *map(str, args)], env=_ENV, capture_output=True,
                            check=False, text=True, cwd=tempfile.gettempdir())
    if result.returncode:
        raise AssertionError(f"subprocess failed:\n{result.stderr[-3000:]}")
    return result.stdout


def serve_in_tf_only(path, inputs):
    """``(signature, outputs)`` of the SavedModel at ``path`` fed ``inputs`` (name -> array) in a
    process that imports TensorFlow only: ``signature`` maps input and output names to dtypes."""
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(os.path.join(tmp, "in.npz"), **inputs)
        out = os.path.join(tmp, "out.npz")
        stdout = run_script(_SERVE_SCRIPT, [path, os.path.join(tmp, "in.npz"), out])
        with np.load(out) as served:
            outputs = {k: served[k] for k in served.files}
    return json.loads(stdout.strip().splitlines()[-1]), outputs


def check_keras_file(model, arrays, atol=1e-5, subprocess_check=True):
    """``.keras`` save/load equal outputs, in process and in a fresh process importing only hgzoo."""
    expected = to_numpy(model.predict_on_batch(as_call_input(arrays)))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        loaded = keras.saving.load_model(path)
        if type(loaded) is not type(model):
            raise AssertionError(f"loaded {type(loaded).__name__}, expected {type(model).__name__}")
        assert_close(loaded.predict_on_batch(as_call_input(arrays)), expected, atol, ".keras reload")
        if subprocess_check:
            fresh_process.reload_and_compare(path, arrays, expected, atol)


def check_saved_model(model, arrays, atol=1e-4):
    """Keras' SavedModel export of a (layer-wrapping) model served by a TensorFlow-only process."""
    expected = to_numpy(model.predict_on_batch(as_call_input(arrays)))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "export")
        model.export(path, format="tf_saved_model", verbose=False)
        _, outputs = serve_in_tf_only(path, {t.name: a for t, a in zip(model.inputs, arrays)})
    (served,) = outputs.values()
    assert_close(served, expected, atol, "SavedModel served without hgzoo")
