"""DMPHN / StackMPN: harness, wiring details, stage loss, pretrained arguments."""

import numpy as np
import pytest

import hgzoo
from hgzoo.deblur import DMPHN, DMPHNDecoder, DMPHNEncoder, StackMPN
from hgzoo.errors import UnknownPresetError, WeightsUnavailableError
from hgzoo.testing import run_layer_test, run_model_test

pytestmark = pytest.mark.jax  # backend-agnostic: CI runs this file under JAX too


def images(b, h, w, seed=0):
    return np.random.default_rng(seed).random((b, h, w, 3)).astype(np.float32)


def test_dmphn_harness():
    run_model_test(DMPHN, {"levels": (1, 2)}, [images(2, 32, 16)], expected_output_shape=(2, 32, 16, 3),
                   expected_num_trainable_weights=120, expected_num_non_trainable_weights=0,
                   other_input_data=[images(1, 16, 24, 1)], target=images(2, 32, 16, 2), float32_outputs=True,
                   atol=1e-4)


def test_stack_mpn_harness():
    run_model_test(StackMPN, {"num_stages": 2, "levels": (1, 2)}, [images(2, 16, 16)],
                   expected_output_shape=(2, 16, 16, 3), expected_num_trainable_weights=240,
                   expected_num_non_trainable_weights=0, other_input_data=[images(1, 24, 8, 1)],
                   target=images(2, 16, 16, 2), float32_outputs=True, mixed_precision_fit=False, atol=1e-4,
                   reason="its stages are DMPHN blocks, which test_dmphn_harness fits under mixed_float16; "
                   "half-precision steps take minutes on CPU")


def test_blocks_harness():
    x = images(2, 16, 12)
    run_layer_test(DMPHNEncoder, {}, [x], expected_output_shape=(2, 4, 3, 128), expected_num_trainable_weights=30,
                   expected_num_non_trainable_weights=0, other_input_data=[images(1, 8, 20)], atol=1e-4)
    f = np.random.default_rng(1).random((2, 4, 3, 128)).astype(np.float32)
    run_layer_test(DMPHNDecoder, {}, [f], expected_output_shape=(2, 16, 12, 3), expected_num_trainable_weights=30,
                   expected_num_non_trainable_weights=0, atol=1e-4)


@pytest.mark.parametrize("levels,params", [((1,), 1_808_131), ((1, 2, 4), 5_424_393), ((1, 2, 4, 8), 7_232_524)])
def test_parameter_counts_match_the_paper(levels, params):
    assert DMPHN(levels=levels).count_params() == params


def test_stack4_parameter_count():
    assert StackMPN().count_params() == 21_697_572


@pytest.mark.parametrize("levels,multiple", [((1,), (4, 4)), ((1, 2), (8, 4)), ((1, 2, 4), (8, 8)),
                                             ((1, 2, 4, 8), (16, 8))])
def test_multiple_of(levels, multiple):
    assert DMPHN(levels=levels).multiple_of == multiple


def test_stack_training_returns_every_stage_and_sums_the_loss():
    model = StackMPN(num_stages=3, levels=(1,))
    x, y = images(1, 8, 8), images(1, 8, 8, 1)
    stages = model(x, training=True)
    assert isinstance(stages, list) and len(stages) == 3
    final = model(x, training=False)
    np.testing.assert_allclose(np.asarray(stages[-1]), np.asarray(final), atol=1e-6)
    loss = float(model.compute_loss(x, y, stages))
    expected = sum(np.mean((np.asarray(s) - y) ** 2) for s in stages)
    assert loss == pytest.approx(expected, rel=1e-5)


def test_clean_stacking_variant_differs():
    x = images(1, 16, 16)
    a = StackMPN(num_stages=2, levels=(1, 2))
    b = StackMPN(num_stages=2, levels=(1, 2), add_first_stage_output=False)
    b.set_weights(a.get_weights())
    assert not np.allclose(np.asarray(a(x)), np.asarray(b(x)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="levels"):
        DMPHN(levels=(1, 3))
    with pytest.raises(ValueError, match="num_stages"):
        StackMPN(num_stages=0)


def test_pretrained_argument_errors():
    with pytest.raises(UnknownPresetError, match="dmphn_1_2_4_gopro"):
        DMPHN(pretrained="dmphn_nope")
    with pytest.raises(ValueError, match="is for hgzoo>StackMPN"):
        DMPHN(pretrained="stack_mpn_4_gopro")
    with pytest.raises(ValueError, match="no DMPHN preset matches"):
        DMPHN(levels=(1,), pretrained=True)
    with pytest.raises(ValueError, match="num_stages=3 conflicts"):
        StackMPN(num_stages=3, pretrained="stack_mpn_4_gopro")


def test_packaged_preset_loads_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HGZOO_HOME", str(tmp_path))
    model = DMPHN(levels=(1, 2), pretrained=True)  # the only 1-2 preset: hgzoo's own, in the wheel
    assert model.pretrained_cfg["id"] == "dmphn_1_2_synthetic"
    assert model.pretrained_cfg["files"][0]["path"].startswith("files/")


def test_offline_without_weights_explains_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("HGZOO_HOME", str(tmp_path))  # no conversion cached by other tests
    with pytest.raises(WeightsUnavailableError, match="hgzoo weights download dmphn_1_2_4_gopro"):
        DMPHN(pretrained=True)


def test_create_model_and_listing():
    assert hgzoo.list_models("stack*") == ["stack_mpn", "stack_mpn_4_gopro"]
    assert hgzoo.list_models(task="deblur", pretrained=False) == ["dmphn", "event_mpn", "stack_mpn"]
    model = hgzoo.create_model("dmphn_1_2_4_8_gopro")  # architecture of the preset, random weights
    assert model.levels == (1, 2, 4, 8) and model.pretrained_cfg is None
    assert "pretrained" not in model.get_config()
    with pytest.raises(UnknownPresetError, match="unknown model"):
        hgzoo.create_model("resnet")


def test_user_subclass_keeps_pretrained_handling(weights_dir):
    class Tagged(DMPHN):
        def __init__(self, tag="x", **kwargs):
            super().__init__(**kwargs)
            self.tag = tag

    model = Tagged(tag="mine", pretrained=True)
    assert model.pretrained_cfg["id"] == "dmphn_1_2_4_gopro" and model.tag == "mine"
