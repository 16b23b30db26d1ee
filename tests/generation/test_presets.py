"""Every generation preset reproduces the golden values in its manifest entry and samples with its identity.

Presets are published by ``benchmarks/generation/publish_preset.py``. With none in the manifest these tests
are not collected at all (an empty parametrization would be reported as a skipped case).
"""

import numpy as np
import pytest

import hgzoo
from hgzoo.testing import run_preset_test
from hgzoo.weights import manifest

PRESETS = sorted(pid for pid, p in manifest.all_presets().items() if p.task == "generation")


if PRESETS:
    @pytest.mark.jax
    @pytest.mark.parametrize("preset_id", PRESETS)
    def test_preset_reproduces_its_golden_values(preset_id):
        run_preset_test(preset_id)

    @pytest.mark.jax
    @pytest.mark.parametrize("preset_id", PRESETS)
    def test_preset_samples_an_image_that_depends_on_the_identity(preset_id):
        model = hgzoo.create_model(preset_id, pretrained=True)
        assert model.pretrained_cfg["id"] == preset_id
        dim = model.get_config()["identity_dim"]
        one, other = np.random.default_rng(0).normal(size=(2, 1, dim)).astype("float32")
        images = [hgzoo.generation.sample(model, refs, [[0.5, 0.5, 0.5]], [0], steps=2, seed=0)
                  for refs in (one, other)]
        for image in images:
            assert image.shape == (1, *model.sample_shape) and np.isfinite(image).all()
        assert np.abs(images[0] - images[1]).max() > 1e-3, "two identities gave the same image from one start"
