"""Every few-shot preset reproduces the golden score matrix in its manifest entry."""

import numpy as np
import pytest

import hgzoo
from hgzoo.testing import run_preset_test
from hgzoo.weights import manifest

PRESETS = sorted(pid for pid, p in manifest.all_presets().items() if p.task == "fewshot")


@pytest.mark.jax
@pytest.mark.parametrize("preset_id", PRESETS)
def test_preset_reproduces_its_golden_values(preset_id):
    scores = np.reshape(run_preset_test(preset_id)["values"], (5, 5))
    assert (scores.argmax(1) == np.arange(5)).all()  # the golden episode is easy: query i is class i


@pytest.mark.jax
def test_weights_in_the_wrong_layers_fail():
    model = hgzoo.create_model("sosn_omniglot", pretrained=True)
    a, b = (next(v for v in model.weights if v.path == f"encoder{i}_conv/kernel") for i in (2, 3))
    value_a = np.array(a)
    a.assign(np.array(b))
    b.assign(value_a)
    with pytest.raises(AssertionError, match="sosn_omniglot.*differs from the golden value"):
        run_preset_test("sosn_omniglot", model=model)
