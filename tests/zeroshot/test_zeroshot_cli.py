"""``hgzoo zeroshot train`` / ``evaluate`` on a small GBU-layout folder (synthetic features, real file format)."""

import inspect
import json

import keras
import numpy as np
import pytest
from scipy import io

import hgzoo.cli.zeroshot as cli
from hgzoo.cli.main import main
from hgzoo.zeroshot import (
    GZSLModelSelection,
    evaluate_model_selection,
    evaluate_zskl,
    gzsl_metrics,
    load_gbu,
    per_class_accuracy,
    train_feature_generator,
    train_model_selection,
)
from hgzoo.zeroshot.kernels import KERNELS
from hgzoo.zeroshot.training import SELECTIONS


@pytest.fixture
def gbu_folder(tmp_path):
    """8 classes (train 0-3, val 4-5, unseen 6-7), 5 samples each, in res101.mat / att_splits.mat layout."""
    rng = np.random.default_rng(0)
    att = rng.random((5, 8))
    labels = np.repeat(np.arange(8), 5)
    features = att[:, labels].T @ rng.standard_normal((5, 12)) + 0.05 * rng.standard_normal((40, 12))
    loc = {"train_loc": np.arange(0, 20, 1), "val_loc": np.arange(20, 30), "trainval_loc": np.arange(0, 30, 1),
           "test_seen_loc": np.arange(0, 30, 3), "test_unseen_loc": np.arange(30, 40)}
    io.savemat(tmp_path / "res101.mat", {"features": features.T, "labels": labels[:, None] + 1})
    io.savemat(tmp_path / "att_splits.mat", {"att": att, **{k: v[:, None] + 1 for k, v in loc.items()}})
    return tmp_path


def test_cli_choices_are_the_api_s():
    assert cli.KERNELS == KERNELS and cli.SELECTIONS == SELECTIONS


def _defaults(function):
    return {k: v.default for k, v in inspect.signature(function).parameters.items()
            if v.default is not inspect.Parameter.empty}


def test_cli_gzsl_defaults_are_the_api_s():
    generator = _defaults(train_feature_generator)
    assert all(generator[k] == v for k, v in cli.GENERATOR_DEFAULTS.items())
    selector = {**_defaults(train_model_selection), **_defaults(GZSLModelSelection.__init__)}
    assert all(selector[k] == v for k, v in cli.SELECTOR_DEFAULTS.items())


def test_train_then_evaluate(gbu_folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["zeroshot", "train", "--data", str(gbu_folder), "--out", str(out), "--iterations", "20",
                 "--eval-every", "10", "--kernel", "cauchy"]) == 0
    trained = json.loads((out / "result.json").read_text())
    assert trained["selection"] == "validation" and trained["selected_iterations"] in (10, 20)
    result = tmp_path / "result.json"
    assert main(["zeroshot", "evaluate", "--model", str(out / "model.keras"), "--data", str(gbu_folder),
                 "--output", str(result)]) == 0
    printed = capsys.readouterr().out
    evaluated = json.loads(result.read_text())
    direct = evaluate_zskl(keras.saving.load_model(out / "model.keras"), load_gbu(gbu_folder).preprocessed())
    for key in ("zsl", "u", "s", "H"):
        assert evaluated[key] == pytest.approx(direct[key]) == pytest.approx(trained[key])
    assert f"H {100 * direct['H']:.2f}%" in printed


def test_gzsl_train_then_evaluate(gbu_folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["zeroshot", "train", "--method", "gzsl", "--data", str(gbu_folder), "--out", str(out),
                 "--iterations", "20", "--selection", "last", "--generator-steps", "2", "--critic-steps", "1",
                 "--generator-hidden", "8", "--generator-batch-size", "8", "--generator-output", "linear",
                 "--per-class", "5", "--selector-hidden", "4", "--selector-epochs", "1"]) == 0
    trained = json.loads((out / "result.json").read_text())
    assert trained["method"] == "gzsl" and trained["generator_steps"] == 2 and (out / "generator.keras").is_file()
    result = tmp_path / "result.json"
    assert main(["zeroshot", "evaluate", "--model", str(out / "model.keras"), "--data", str(gbu_folder),
                 "--output", str(result)]) == 0
    printed = capsys.readouterr().out
    evaluated = json.loads(result.read_text())
    model = keras.saving.load_model(out / "model.keras")
    assert isinstance(model, GZSLModelSelection) and evaluated["method"] == "gzsl"
    data = load_gbu(gbu_folder)
    direct = evaluate_model_selection(model, data)
    # the same numbers from the loaded model's own outputs
    (x_u, y_u), (x_s, y_s) = data.split("test_unseen"), data.split("test_seen")
    by_hand = gzsl_metrics(y_u, model.predict(x_u, verbose=0).argmax(1), y_s, model.predict(x_s, verbose=0).argmax(1))
    by_hand["zsl"] = per_class_accuracy(y_u, np.array([6, 7])[model.part("unseen_expert").predict(x_u, verbose=0)
                                                              .argmax(1)])
    for key in ("zsl", "u", "s", "H"):
        assert evaluated[key] == pytest.approx(direct[key]) == pytest.approx(by_hand[key]) \
            == pytest.approx(trained[key])
    assert f"H {100 * direct['H']:.2f}%" in printed


def test_missing_features_is_one_clear_error(gbu_folder, tmp_path, capsys):
    (gbu_folder / "res101.mat").unlink()
    assert main(["zeroshot", "train", "--data", str(gbu_folder), "--out", str(tmp_path / "run")]) != 0
    assert "res101.mat" in capsys.readouterr().err


def test_tfds_builder_reads_the_gbu_folder(gbu_folder, tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    from hgzoo.zeroshot.data.tfds_gbu import GbuZeroShot

    builder = GbuZeroShot(data_dir=str(tmp_path / "tfds"))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(gbu_folder)))
    data = load_gbu(gbu_folder)
    examples = list(tfds.as_numpy(builder.as_dataset(split="test_unseen")))
    assert sorted(int(e["index"]) for e in examples) == sorted(data.splits["test_unseen"].tolist())
    for e in examples:
        np.testing.assert_allclose(e["features"], data.features[e["index"]], rtol=1e-6)
        assert e["label"] == data.labels[e["index"]]
