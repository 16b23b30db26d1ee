"""run_export_test: hgzoo's serving export, served by a process that imports TensorFlow only.

Example:

>>> import numpy as np
>>> import hgzoo
>>> from hgzoo.testing import run_export_test
>>> served = run_export_test(hgzoo.deblur.DMPHN(levels=(1,)), {"image": np.zeros((1, 8, 8, 3), "float32")},
...                          {"inputs": {"image": "float32"}, "outputs": {"deblurred": "float32"}})  # doctest: +SKIP
"""

import os
import tempfile

import keras
import numpy as np

from hgzoo.testing.checks import assert_close, serve_in_tf_only, to_numpy


def run_export_test(model, inputs, signature, input_dtype="float32", atol=1e-4):
    """Export ``model`` with :func:`hgzoo.export.export_for_serving` and serve ``inputs`` without hgzoo.

    Checks that the SavedModel loads and runs in a process that imports
    TensorFlow only (never hgzoo), that its ``serving_default``
    signature has exactly the input and output names and dtypes of
    ``signature``, and that every served output equals the model's own
    serving function run in this process.

    Args:
        model: an hgzoo model (it defines ``serving_signature``).
        inputs: ``{input name: batch array}`` to serve.
        signature: ``{"inputs": {name: dtype}, "outputs": {name: dtype}}``.
        input_dtype: passed to ``export_for_serving``.
        atol: tolerance between served and in-process outputs.

    Returns:
        The served outputs, ``{output name: array}``, for further checks.
    """
    from hgzoo.export import export_for_serving

    specs, serve = model.serving_signature(input_dtype)
    tensors = [keras.ops.convert_to_tensor(inputs[name]) for name in specs]
    expected = {k: to_numpy(v) for k, v in serve(*tensors).items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = export_for_serving(model, os.path.join(tmp, "model"), input_dtype=input_dtype)
        served_signature, served = serve_in_tf_only(path, inputs)
    if served_signature != signature:
        raise AssertionError(f"serving signature {served_signature} != expected {signature}")
    for name, value in expected.items():
        if np.issubdtype(value.dtype, np.floating):
            assert_close(served[name], value, atol, f"served output {name!r}")
        elif not np.array_equal(served[name], value):
            raise AssertionError(f"served output {name!r} differs from the in-process serving function")
    return served
