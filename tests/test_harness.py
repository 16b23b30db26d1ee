"""hgzoo.testing itself: it fails when a promise is broken, and opt-outs need a reason."""

import numpy as np
import pytest

from hgzoo.layers import PowerNorm
from hgzoo.testing import run_layer_test

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
