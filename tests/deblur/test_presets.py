"""Every deblurring preset reproduces the golden values in its manifest entry.

Packaged presets always run; the authors' checkpoints (converted locally) run
when ``../shared/data/dmphn`` (or ``HGZOO_TEST_DATA``) holds them.
"""

import numpy as np
import pytest

import hgzoo
from hgzoo.testing import run_preset_test
from hgzoo.weights import manifest

PRESETS = sorted(pid for pid, p in manifest.all_presets().items() if p.task == "deblur")
PACKAGED = [pid for pid in PRESETS if all(f.path.startswith("files/") for f in manifest.get(pid).files)]


@pytest.mark.jax
@pytest.mark.parametrize("preset_id", PACKAGED)
def test_packaged_preset_reproduces_its_golden_values(preset_id):
    run_preset_test(preset_id)


@pytest.mark.parametrize("preset_id", sorted(set(PRESETS) - set(PACKAGED)))
def test_authors_preset_reproduces_its_golden_values(preset_id, weights_dir):
    run_preset_test(preset_id)  # weights_dir: HGZOO_WEIGHTS_DIR = the official checkpoints, or a skip


def swap(model, path_a, path_b):
    a, b = (next(v for v in model.weights if v.path == p) for p in (path_a, path_b))
    value_a = np.array(a)
    a.assign(np.array(b))
    b.assign(value_a)


@pytest.mark.jax
def test_weights_in_the_wrong_layers_fail():
    """The two convolutions of one residual block swapped: what a reordered architecture would load."""
    model = hgzoo.create_model("dmphn_1_2_synthetic", pretrained=True)
    swap(model, "encoder_lv2/layer2_0/kernel", "encoder_lv2/layer2_2/kernel")
    with pytest.raises(AssertionError, match="dmphn_1_2_synthetic.*differs from the golden value"):
        run_preset_test("dmphn_1_2_synthetic", model=model)
