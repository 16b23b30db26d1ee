"""Every few-shot preset reproduces the golden score matrix in its manifest entry.

Packaged presets always run; the SalNet authors' checkpoints (converted locally) run when
``../shared/data/salnet`` (or ``HGZOO_TEST_DATA``) holds them, read as a weights mirror.
"""

import glob
import os

import numpy as np
import pytest

import hgzoo
from hgzoo.errors import WeightsMismatchError
from hgzoo.fewshot import SalNet
from hgzoo.fewshot.salnet_weights import convert_torch_checkpoint
from hgzoo.testing import run_preset_test
from hgzoo.weights import manifest

PRESETS = sorted(pid for pid, p in manifest.all_presets().items() if p.task == "fewshot")
PACKAGED = [pid for pid in PRESETS if all(f.path.startswith("files/") for f in manifest.get(pid).files)]


def check_golden(preset_id):
    scores = np.reshape(run_preset_test(preset_id)["values"], (5, 5))
    assert (scores.argmax(1) == np.arange(5)).all()  # the golden episode is easy: query i is class i


@pytest.mark.jax
@pytest.mark.parametrize("preset_id", PACKAGED)
def test_preset_reproduces_its_golden_values(preset_id):
    check_golden(preset_id)


# The 5-shot presets' weights are also checked by the parity test (test_salnet_parity.py): slow here.
@pytest.mark.parametrize("preset_id", [pytest.param(p, marks=pytest.mark.slow) if "5shot" in p else p
                                       for p in sorted(set(PRESETS) - set(PACKAGED))])
def test_authors_preset_reproduces_its_golden_values(preset_id, salnet_mirror):
    check_golden(preset_id)  # salnet_mirror: HGZOO_WEIGHTS_DIR = the authors' checkpoints, or a skip


def test_authors_presets_load_offline_from_a_mirror_and_from_the_cache(salnet_mirror, monkeypatch):
    preset = "salnet_intra_miniimagenet_5way_1shot"
    first = hgzoo.create_model(preset, pretrained=True)
    assert first.pretrained_cfg["id"] == preset
    monkeypatch.delenv("HGZOO_WEIGHTS_DIR")  # the converted weights are cached: no mirror, no network needed
    second = hgzoo.create_model(preset, pretrained=True)
    for a, b in zip(first.weights, second.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_urls_point_at_the_authors_repository():
    for pid in set(PRESETS) - set(PACKAGED):
        for f in manifest.get(pid).files:
            assert f.urls == (f"https://github.com/HongguangZhang/SalNet-cvpr19-master/raw/master/{f.path}",)


def files_of(salnet_dir, folder, shot):
    paths = glob.glob(os.path.join(salnet_dir, "miniImagenet", folder, f"*_5way_{shot}shot.pkl"))
    return {os.path.relpath(p, salnet_dir): p for p in paths}


@pytest.mark.parametrize("folder,shot,model_kwargs,message", [
    ("SalNet_IntraClass", 5, {"hallucination": "intra", "k_shot": 1}, "5-way 5-shot weights.*1-shot"),
    ("SalNet_InterClass", 1, {"hallucination": "intra", "k_shot": 1}, "'inter'-hallucination weights"),
])
def test_checkpoints_of_another_setting_are_refused_before_loading(salnet_dir, folder, shot, model_kwargs, message):
    model = SalNet(**model_kwargs)
    before = [np.array(v) for v in model.weights]
    with pytest.raises(WeightsMismatchError, match=message):
        convert_torch_checkpoint(model, files_of(salnet_dir, folder, shot))
    mixed = {**files_of(salnet_dir, "SalNet_IntraClass", 1)}
    relation = next(k for k in mixed if "relation" in k)
    del mixed[relation]
    mixed.update({k: v for k, v in files_of(salnet_dir, "SalNet_IntraClass", 5).items() if "relation" in k})
    with pytest.raises(WeightsMismatchError, match="mix settings"):
        convert_torch_checkpoint(model, mixed)
    for b, v in zip(before, model.weights):
        np.testing.assert_array_equal(b, np.array(v))  # nothing was half-loaded


@pytest.mark.jax
def test_weights_in_the_wrong_layers_fail():
    model = hgzoo.create_model("sosn_omniglot", pretrained=True)
    a, b = (next(v for v in model.weights if v.path == f"encoder{i}_conv/kernel") for i in (2, 3))
    value_a = np.array(a)
    a.assign(np.array(b))
    b.assign(value_a)
    with pytest.raises(AssertionError, match="sosn_omniglot.*differs from the golden value"):
        run_preset_test("sosn_omniglot", model=model)
