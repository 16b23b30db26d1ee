"""hgzoo.testing itself: it fails when a promise is broken, and opt-outs need a reason."""

import keras
import numpy as np
import pytest

from hgzoo.layers import PowerNorm
from hgzoo.testing import fresh_process, run_layer_test

pytestmark = pytest.mark.jax

M = np.stack([np.eye(4, dtype=np.float32) / 4] * 2)
QUICK = {"mixed_precision": False, "subprocess_checks": False, "reason": "checks the harness, not PowerNorm"}


def test_an_opt_out_needs_a_reason():
    with pytest.raises(ValueError, match=r"train=False, subprocess_checks=False skips harness checks: say why"):
        run_layer_test(PowerNorm, {"function": "sigme", "strength": 5.0}, [M], train=False, subprocess_checks=False)


@pytest.mark.parametrize("kwargs,message", [
    ({"expected_output_shape": (2, 4, 5)}, r"eager output shape \(2, 4, 4\) != expected \(2, 4, 5\)"),
    ({"expected_num_trainable_weights": 0}, "PowerNorm has 1 trainable weights, expected 0"),
])
def test_broken_promises_fail(kwargs, message):
    with pytest.raises(AssertionError, match=message):
        run_layer_test(PowerNorm, {"function": "sigme", "strength": 5.0, "learnable": True}, [M], dynamic_axes=(),
                       **QUICK, **kwargs)


@keras.saving.register_keras_serializable(package="test_harness")
class _DefinedOnlyInThisTest(keras.layers.Layer):
    def call(self, x):
        return x * 2.0


def test_deferred_fresh_process_reloads_name_the_file_that_fails(tmp_path, monkeypatch):
    # A private queue, so the session's own deferred reloads are untouched.
    monkeypatch.setattr(fresh_process, "_deferred", {"folder": None, "jobs": []})
    fresh_process.defer(tmp_path / "queue")
    x = np.ones((1, 3), "float32")
    for name, layer in (("registered", PowerNorm("sigme", 5.0)), ("unregistered", _DefinedOnlyInThisTest())):
        model = keras.Sequential([keras.Input((3,)), layer])
        path = str(tmp_path / f"{name}.keras")
        model.save(path)
        fresh_process.reload_and_compare(path, [x], model.predict_on_batch(x), atol=1e-5, label=name)
    failures = fresh_process.run_deferred()
    # A class registered only by this test module cannot load in a process that imports just hgzoo.
    assert len(failures) == 1 and failures[0].startswith("unregistered: ") and "_DefinedOnlyInThisTest" in failures[0]
