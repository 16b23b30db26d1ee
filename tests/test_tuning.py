"""Keras Tuner sweeps through the normal constructors, on real (packaged) photo data."""

import keras
import keras_tuner
import numpy as np
import pytest
from PIL import Image

import hgzoo
from hgzoo.cli.main import main
from hgzoo.deblur.demo import sample_paths
from hgzoo.models.search_space import Choice, Float, Int
from hgzoo.testing import run_hypermodel_test


@pytest.fixture(scope="module")
def real_pairs():
    """32×32 crops of the packaged real photo and its camera-shake version."""
    blurry, sharp = (np.asarray(Image.open(p).convert("RGB"), np.float32) / 255 for p in sample_paths())
    windows = [(y, x) for y in range(20, 260, 40) for x in range(20, 410, 48)]  # 6 × 9 = 54 crops
    b = np.stack([blurry[y:y + 32, x:x + 32] for y, x in windows])
    s = np.stack([sharp[y:y + 32, x:x + 32] for y, x in windows])
    return b, s


def test_space_is_listable_without_building():
    hm = hgzoo.tuning.HyperModel(hgzoo.deblur.StackMPN, fixed={"levels": (1, 2)},
                                 train_space={"learning_rate": Float(1e-4, 1e-2, "log")})
    assert set(hm.space) == {"num_stages", "add_first_stage_output", "learning_rate"}
    for name in hgzoo.deblur.StackMPN.search_space:  # keys are constructor arguments
        assert name in hgzoo.deblur.StackMPN.__init__.__signature__.parameters


def _images(*shape):
    return np.random.default_rng(0).random(shape, dtype=np.float32)


HYPERMODEL_CASES = {
    "DMPHN": (hgzoo.deblur.DMPHN, {}, [_images(1, 16, 16, 3)]),
    "StackMPN": (hgzoo.deblur.StackMPN, {}, [_images(1, 16, 16, 3)]),
    "EventMPN": (hgzoo.deblur.EventMPN, {}, [_images(1, 16, 16, 3), _images(1, 16, 16, 3)]),
    "SoSN": (hgzoo.fewshot.SoSN, {"image_size": (28, 28), "channels": 1, "relation_filters": 16},
             [_images(1, 3, 28, 28, 1), np.arange(3, dtype=np.int32)[None], _images(1, 2, 28, 28, 1)]),
    "LLMEmbed": (hgzoo.text.LLMEmbed, {"num_classes": 2, "num_layers": 2, "feature_dim": 8}, [_images(2, 2, 8)]),
    "StrategyClassifier": (hgzoo.dialogue.StrategyClassifier, {"num_layers": 2, "feature_dim": 8}, [_images(2, 2, 8)]),
    "AttitudeTracker": (hgzoo.dialogue.AttitudeTracker, {"num_layers": 2, "feature_dim": 8},
                        [_images(2, 2, 8), np.eye(17, dtype=np.float32)[[16, 3]]]),
    "SalNet": (hgzoo.fewshot.SalNet, {"image_size": (28, 28)},
               [_images(1, 3, 28, 28, 3), np.arange(3, dtype=np.int32)[None], _images(1, 2, 28, 28, 3)]),
    "ARN": (hgzoo.action.ARN, {"frames": 4, "image_size": (16, 16), "channels": 1, "filters": 16,
                               "relation_filters": 16, "discriminator_hidden": 8},
            [_images(1, 3, 4, 16, 16, 1), np.arange(3, dtype=np.int32)[None], _images(1, 2, 4, 16, 16, 1)]),
    "ZSKL": (hgzoo.zeroshot.ZSKL, {"feature_dim": 12, "attribute_dim": 4, "num_classes": 5}, [_images(6, 12)]),
    "ScatterAlignmentNet": (hgzoo.domain.ScatterAlignmentNet,
                            {"num_classes": 3, "image_size": (8, 8), "filters": (4,), "feature_dim": 4},
                            [_images(4, 8, 8, 1), _images(4, 8, 8, 1)]),
    "MlSo": (hgzoo.fewshot.MlSo, {"image_size": (28, 28), "channels": 1, "filters": 16, "width": 48, "levels": (4,),
                                  "relation_filters": 8, "discriminator_hidden": 8},
             [_images(1, 3, 28, 28, 1), np.arange(3, dtype=np.int32)[None], _images(1, 2, 28, 28, 1)]),
    "ARL": (hgzoo.fewshot.ARL, {"base": keras.saving.serialize_keras_object(
                hgzoo.fewshot.SoSN(image_size=(28, 28), channels=1, relation_filters=16)),
                                "class_embeddings": np.eye(8, 4, dtype=np.float32)},
            [_images(1, 3, 28, 28, 1), np.arange(3, dtype=np.int32)[None], _images(1, 2, 28, 28, 1)]),
    "SpatialMatching": (hgzoo.fewshot.SpatialMatching, {"image_size": (28, 28), "channels": 1, "filters": 8},
                        [_images(1, 3, 28, 28, 1), np.arange(3, dtype=np.int32)[None], _images(1, 2, 28, 28, 1)]),
    "CrossTransformer": (hgzoo.fewshot.CrossTransformer, {"image_size": (28, 28), "channels": 1, "filters": 8},
                         [_images(1, 3, 28, 28, 1), np.arange(3, dtype=np.int32)[None], _images(1, 2, 28, 28, 1)]),
    "DDDNet": (hgzoo.dualpixel.DDDNet, {}, [_images(1, 64, 64, 3), _images(1, 64, 64, 3)]),
    "DisparityNet": (hgzoo.dualpixel.DisparityNet, {}, [_images(1, 64, 64, 3), _images(1, 64, 64, 3)]),
    "DeblurNet": (hgzoo.dualpixel.DeblurNet, {}, [_images(1, 32, 32, 3), _images(1, 32, 32, 3), _images(1, 32, 32, 1)]),
    "IDUNet": (hgzoo.generation.IDUNet, {"image_size": (16, 16), "width": 16, "heads": 2, "identity_dim": 8},
               [_images(1, 16, 16, 3), np.array([10.0], np.float32), np.ones((1, 8), np.float32),
                np.array([[0.5, 0.5, 0.5]], np.float32), np.array([1], np.int32)]),
}


@pytest.mark.parametrize("name", sorted(HYPERMODEL_CASES))
def test_search_space_builds_a_trial(name):
    model_cls, fixed, inputs = HYPERMODEL_CASES[name]
    run_hypermodel_test(model_cls, fixed=fixed, input_data=inputs, train=False,
                        reason="trials are fitted by the sweeps (StackMPN here, SoSN in tests/fewshot) and every "
                        "class's fit step by its run_model_test")


def test_every_model_with_a_search_space_has_a_hypermodel_test():
    tunable = {cls.__name__ for cls in hgzoo.model_classes().values() if cls.search_space}
    assert tunable <= set(HYPERMODEL_CASES), f"add {sorted(tunable - set(HYPERMODEL_CASES))} to HYPERMODEL_CASES"


def test_structured_choices_decode_back_to_tuples():
    hp = keras_tuner.HyperParameters()
    hm = hgzoo.tuning.HyperModel(hgzoo.deblur.DMPHN, space={"levels": Choice([[1, 2]])})
    model = hm.build(hp)
    assert model.levels == (1, 2) and hm.model_kwargs(hp) == {"levels": (1, 2)}


def test_unknown_training_key():
    with pytest.raises(ValueError, match="train_space"):
        hgzoo.tuning.HyperModel(hgzoo.deblur.DMPHN, train_space={"momentum": Float(0, 1)})


def test_three_trial_sweep_and_best_config_rebuilds(tmp_path, real_pairs):
    blurry, sharp = real_pairs
    hm = hgzoo.tuning.HyperModel(hgzoo.deblur.StackMPN, fixed={"levels": (1,)},
                                 space={"num_stages": Int(1, 3)},
                                 train_space={"learning_rate": Float(1e-4, 1e-3, "log"), "batch_size": Choice([4, 8])})
    tuner = keras_tuner.RandomSearch(hm, "val_loss", max_trials=3, directory=tmp_path, overwrite=True, seed=1)
    tuner.search(blurry[:40], sharp[:40], validation_data=(blurry[40:], sharp[40:]), epochs=1, verbose=0)
    assert len(tuner.oracle.trials) == 3
    best_hp = tuner.get_best_hyperparameters()[0]
    best = tuner.get_best_models(1)[0]
    rebuilt = hgzoo.deblur.StackMPN(**hm.model_kwargs(best_hp))
    assert rebuilt.num_stages == best.num_stages and rebuilt.count_params() == best.count_params()
    rebuilt.set_weights(best.get_weights())
    np.testing.assert_allclose(np.asarray(rebuilt(blurry[:2])), np.asarray(best(blurry[:2])), atol=1e-6)


def test_cli_sweep_prints_table(tmp_path, real_pairs, capsys):
    blurry, sharp = real_pairs
    for kind, images in (("blur", blurry), ("sharp", sharp)):
        (tmp_path / kind).mkdir()
        for i, im in enumerate(images[:4]):
            Image.fromarray((im * 255).astype(np.uint8)).save(tmp_path / kind / f"{i}.png")
    assert main(["deblur", "tune", "--pairs", str(tmp_path / "blur"), str(tmp_path / "sharp"), "--crop", "16",
                 "--batch-size", "2", "--max-trials", "2", "--epochs", "1", "--steps-per-epoch", "1",
                 "--validation-steps", "1", "--out", str(tmp_path / "sweep")]) == 0
    out = capsys.readouterr().out
    assert "| rank | trial |" in out and "memory MB" in out and "best: hgzoo.deblur.DMPHN(**{'levels'" in out
