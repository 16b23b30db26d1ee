"""run_layer_test and run_model_test: every check an hgzoo class must pass.

Example:

>>> import numpy as np
>>> from hgzoo.layers import PowerNorm
>>> from hgzoo.testing import run_layer_test
>>> model = run_layer_test(PowerNorm, {"function": "sigme", "strength": 10},
...                        [np.random.rand(2, 5, 5).astype("float32")], expected_output_shape=(2, 5, 5),
...                        expected_num_trainable_weights=0, dynamic_axes=(), mixed_precision=False,
...                        subprocess_checks=False, reason="a quick doctest")  # doctest: +SKIP
"""

import keras
import numpy as np

from hgzoo.testing import checks
from hgzoo.testing.checks import as_call_input


def require_reason(reason, **checks_on):
    """ValueError when a check is switched off (``name=False``) without a ``reason``."""
    off = [name for name, on in checks_on.items() if not on]
    if off and not (isinstance(reason, str) and reason.strip()):
        raise ValueError(f"{', '.join(f'{n}=False' for n in off)} skips harness checks: "
                         "say why with reason='...'")


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


def _symbolic(arrays):
    return [keras.KerasTensor(a.shape, dtype=str(a.dtype)) for a in arrays]


def _check_other_inputs(model, other_input_data):
    if other_input_data is not None:
        others = [np.asarray(a) for a in other_input_data]
        checks.assert_finite(model.predict_on_batch(as_call_input(others)), "dynamic-shape call")


def run_layer_test(layer_cls, init_kwargs, input_data, expected_output_shape=None, expected_num_trainable_weights=None,
                   expected_num_non_trainable_weights=None, dynamic_axes=(1, 2), other_input_data=None, train=True,
                   mixed_precision=True, mixed_precision_fit=True, subprocess_checks=True, float32_outputs=False,
                   reason=None, atol=1e-5):
    """Run every harness check on a layer; returns the layer wrapped in a model.

    Checks: config round trip and registration; eager, static symbolic and
    dynamic symbolic output shapes; weight counts; a ``fit`` step; each mixed
    policy (float32 variables, outputs in the compute dtype; a ``fit`` step
    under ``mixed_float16``);
    ``.keras`` save/load (also in a fresh process) and, on TensorFlow, a
    SavedModel served by a process that imports TensorFlow only.

    Args:
        layer_cls: the layer class.
        init_kwargs: constructor arguments.
        input_data: list of arrays, the layer's positional inputs.
        expected_output_shape: the exact output shape for ``input_data``,
            eager and symbolic (default: the eager shape, so only the
            symbolic calls are checked against it).
        expected_num_trainable_weights, expected_num_non_trainable_weights:
            weight tensor counts of the built layer.
        dynamic_axes: input axes (besides batch) left unknown in the wrapping model.
        other_input_data: inputs of another spatial size / batch for the same model.
        train: run the ``fit`` steps (needs a differentiable path).
        mixed_precision: run the mixed-policy checks.
        mixed_precision_fit: take their ``fit`` step (``mixed_float16``).
        subprocess_checks: run the fresh-process and SavedModel checks.
        float32_outputs: the class documents float32 outputs under mixed policies.
        reason: why a check is switched off; required when one is.
    """
    require_reason(reason, train=train, mixed_precision=mixed_precision, mixed_precision_fit=mixed_precision_fit,
                   subprocess_checks=subprocess_checks)
    arrays = [np.asarray(a) for a in input_data]
    layer = layer_cls(**init_kwargs)
    eager = layer(*arrays)
    checks.check_config_round_trip(layer)
    checks.check_weight_counts(layer, expected_num_trainable_weights, expected_num_non_trainable_weights)
    static = layer_cls(**init_kwargs)(*_symbolic(arrays))
    model = _wrap(layer_cls(**init_kwargs), arrays, dynamic_axes)
    checks.check_shapes(eager.shape, static.shape, model.outputs[0].shape, expected_output_shape)
    computed = layer.compute_output_shape(*[tuple(a.shape) for a in arrays])
    if tuple(computed) != tuple(eager.shape):
        raise AssertionError(f"compute_output_shape {tuple(computed)} != eager shape {tuple(eager.shape)}")
    model.predict_on_batch(as_call_input(arrays))
    _check_other_inputs(model, other_input_data)
    if train:
        checks.check_fit_step(model, arrays)
    if mixed_precision:
        checks.check_mixed_precision(lambda: _wrap(layer_cls(**init_kwargs), arrays, dynamic_axes), arrays,
                                     train=train and mixed_precision_fit, float32_outputs=float32_outputs)
    checks.check_keras_file(model, arrays, atol=atol, subprocess_check=subprocess_checks)
    if subprocess_checks and keras.backend.backend() == "tensorflow":
        checks.check_saved_model(model, arrays, atol=max(atol, 1e-4))
    return model


def run_model_test(model_cls, init_kwargs, input_data, expected_output_shape=None, expected_num_trainable_weights=None,
                   expected_num_non_trainable_weights=None, value_dependent_axes=(), other_input_data=None, target=None,
                   train=True,
                   mixed_precision=True, mixed_precision_fit=True, subprocess_checks=True, float32_outputs=False,
                   reason=None, atol=1e-5):
    """Run every harness check on a ZooModel subclass; returns the model.

    As :func:`run_layer_test`, with the model's own ``compile`` defaults for
    the ``fit`` steps (``target`` is their label, zeros by default) and the
    model's own input specs as the dynamic shapes. ``value_dependent_axes``:
    output axes whose size comes from input values (e.g. the class count read
    from labels), unknown in a symbolic call. Serving export is checked
    once per family with :func:`hgzoo.testing.run_export_test`.
    """
    require_reason(reason, train=train, mixed_precision=mixed_precision, mixed_precision_fit=mixed_precision_fit,
                   subprocess_checks=subprocess_checks)
    arrays = [np.asarray(a) for a in input_data]
    model = model_cls(**init_kwargs)
    checks.check_config_round_trip(model)
    checks.check_weight_counts(model, expected_num_trainable_weights, expected_num_non_trainable_weights)
    out = model.predict_on_batch(as_call_input(arrays))
    checks.assert_finite(out, "eager output")
    static = model.compute_output_spec(as_call_input(_symbolic(arrays)))
    checks.check_shapes(np.shape(out), static.shape, model.outputs[-1].shape, expected_output_shape,
                        value_dependent_axes)
    _check_other_inputs(model, other_input_data)
    if train:
        checks.check_fit_step(model, arrays, target=target, compile_with=None)
    if mixed_precision:
        checks.check_mixed_precision(lambda: model_cls(**init_kwargs), arrays, target=target, compile_with=None,
                                     train=train and mixed_precision_fit, float32_outputs=float32_outputs)
    checks.check_keras_file(model, arrays, atol=atol, subprocess_check=subprocess_checks)
    return model
