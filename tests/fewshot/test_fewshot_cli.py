"""``hgzoo fewshot evaluate`` / ``train`` on real Omniglot with the packaged sosn_omniglot preset."""

import json
import re

import keras
import numpy as np
import pytest

import hgzoo
from hgzoo.cli.main import main
from hgzoo.fewshot import EpisodeSampler, evaluate_episodes, omniglot


def printed_result(out):
    match = re.search(r"accuracy (\d+\.\d\d)% ± (\d+\.\d\d) \(95% CI over (\d+) episodes\)", out)
    return float(match[1]), float(match[2]), int(match[3])


def test_evaluate_is_the_protocol_on_the_same_episodes(omniglot_dir, tmp_path, capsys):
    data = omniglot_dir / "images_background_small1.zip"
    output = tmp_path / "result.json"
    assert main(["fewshot", "evaluate", "--model", "sosn_omniglot", "--data", str(data), "--way", "5",
                 "--shot", "1", "--queries", "3", "--episodes", "8", "--seed", "7", "--output", str(output)]) == 0
    [result] = json.loads(output.read_text())["rows"]
    assert result["episodes"] == 8 and len(result["per_episode"]) == 8
    assert all(abs(a * 15 - round(a * 15)) < 1e-9 for a in result["per_episode"])  # 15 queries an episode
    assert printed_result(capsys.readouterr().out) == (round(100 * result["accuracy"], 2),
                                                         round(100 * result["ci95"], 2), 8)

    pool = omniglot.load_background(data)
    sampler = EpisodeSampler(pool, 5, 1, 3, seed=7)
    direct = evaluate_episodes(hgzoo.fewshot.SoSN(pretrained=True), [sampler.episode(i) for i in range(8)],
                               verbose=0)
    assert result["per_episode"] == direct["per_episode"]
    assert result["accuracy"] > 0.8  # the preset trained on these characters (most of them)


def test_evaluate_on_the_official_runs(omniglot_dir, tmp_path, capsys):
    runs = omniglot_dir / "all_runs.zip"
    output = tmp_path / "runs.json"
    assert main(["fewshot", "evaluate", "--model", "sosn_omniglot", "--omniglot-runs", str(runs),
                 "--episodes", "3", "--output", str(output)]) == 0
    [result] = json.loads(output.read_text())["rows"]
    assert printed_result(capsys.readouterr().out)[2] == result["episodes"] == 3
    direct = evaluate_episodes(hgzoo.fewshot.SoSN(pretrained=True), omniglot.load_runs(runs)[:3], verbose=0)
    assert result["per_episode"] == direct["per_episode"]  # 20 queries each; all 20 runs: test_omniglot.py


def test_train_then_evaluate_the_saved_model(omniglot_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["fewshot", "train", "--model", "sosn_omniglot", "--data", str(omniglot_dir /
                 "images_background_small1.zip"), "--way", "5", "--queries", "2", "--epochs", "2",
                 "--steps-per-epoch", "3", "--within-group", "0.5", "--out", str(out)]) == 0
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 2 and all(np.isfinite(history["loss"]))
    assert (out / "model.keras").is_file() and not (out / "backup").exists()
    capsys.readouterr()
    assert main(["fewshot", "evaluate", "--model", str(out / "model.keras"), "--data",
                 str(omniglot_dir / "images_background_small1.zip"), "--queries", "2", "--episodes", "2"]) == 0
    accuracy, _, episodes = printed_result(capsys.readouterr().out)
    assert episodes == 2 and 0 <= accuracy <= 100


def test_clear_errors(tmp_path, capsys):
    assert main(["fewshot", "evaluate", "--model", "sosn_omniglot", "--data", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err == (f"hgzoo fewshot evaluate: error: {tmp_path / 'nowhere'}: no such folder "
                                       "or archive, nor a TensorFlow Datasets name\n")
    assert main(["fewshot", "evaluate", "--model", str(tmp_path / "missing.keras"), "--data", str(tmp_path)]) == 2
    assert "missing.keras: no such file" in capsys.readouterr().err


# --- every registered few-shot model, tiny widths, on a folder of class subfolders ---------------------------
# Default: CrossTransformer (the table test), ARL around SoSN (+ resume) and unsupervised ARL around
# SpatialMatching; -m slow adds MlSo, SpatialMatching, SalNet and ARL with a matrix file.

TINY = {
    "sosn": {"relation_filters": 8, "relation_hidden": 4},  # SoSN's relation net needs 46+ backbone filters
    "mlso": {"filters": 16, "width": 48, "relation_filters": 8, "relation_hidden": 4, "discriminator_hidden": 8},
    "spatial_matching": {"filters": 8, "embed_dim": 8, "relation_hidden": 8, "discriminator_hidden": 8},
    "cross_transformer": {"filters": 8, "key_dim": 8},
    "salnet": {},  # its relation net needs 62+ filters at any size
}
CLASSES = {"sosn": "SoSN", "mlso": "MlSo", "spatial_matching": "SpatialMatching",
           "cross_transformer": "CrossTransformer", "salnet": "SalNet"}


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory):
    """alphabet/character/*.png: 2 alphabets × 3 characters × 4 strokes-on-white 28×28 images."""
    from PIL import Image

    root = tmp_path_factory.mktemp("pool")
    rng = np.random.default_rng(0)
    for a in range(2):
        for c in range(3):
            folder = root / f"alphabet{a}" / f"character{c}"
            folder.mkdir(parents=True)
            shape = rng.random((28, 28)) > 0.8
            for i in range(4):
                noisy = shape ^ (rng.random((28, 28)) > 0.97)
                Image.fromarray(np.where(noisy, 0, 255).astype(np.uint8)).save(folder / f"{i}.png")
    return root


def train_args(model, folder, out, config=None, *extra, epochs=1, steps=2):
    config = {"image_size": [28, 28], **({} if model == "salnet" else {"channels": 1}), **(config or {})}
    return ["fewshot", "train", "--model", model, "--config", json.dumps(config), "--data", str(folder),
            "--way", "3", "--queries", "1", "--epochs", str(epochs), "--steps-per-epoch", str(steps),
            "--out", str(out), *extra]


@pytest.mark.slow
@pytest.mark.parametrize("model", ["mlso", "spatial_matching", "salnet"])
def test_train_each_model(model, class_folder, tmp_path):
    assert main(train_args(model, class_folder, tmp_path / model, TINY[model], steps=1)) == 0
    assert np.isfinite(json.loads((tmp_path / model / "history.json").read_text())["loss"]).all()
    assert type(keras.saving.load_model(tmp_path / model / "model.keras")).__name__ == CLASSES[model]


@pytest.mark.parametrize("base,embeddings", [
    ("sosn", "alphabet"), ("spatial_matching", "unsupervised"),
    pytest.param("cross_transformer", "matrix", marks=pytest.mark.slow)])
def test_train_arl_around_a_base(base, embeddings, class_folder, tmp_path):
    out = tmp_path / "arl"
    extra = ["--base", base]
    if embeddings == "matrix":
        np.save(tmp_path / "attributes.npy", np.random.default_rng(0).random((6, 5)))
        extra += ["--class-embeddings", str(tmp_path / "attributes.npy")]
    elif embeddings == "unsupervised":
        extra += ["--unsupervised"]
    else:
        extra += ["--class-embeddings", embeddings]
    assert main(train_args("arl", class_folder, out, TINY[base], *extra)) == 0
    model = keras.saving.load_model(out / "model.keras")
    assert isinstance(model, hgzoo.fewshot.ARL) and type(model.base).__name__ == CLASSES[base]
    if embeddings == "unsupervised":
        assert model.num_classes == 24 and model.relative_weight == 0  # one pseudo-class per image
        return
    assert model.num_classes == 6 and model.relative_weight == 0.5
    # the same command with one more epoch resumes: it trains the second epoch only
    assert main(train_args("arl", class_folder, out, TINY[base], *extra, epochs=2)) == 0
    assert len(json.loads((out / "history.json").read_text())["loss"]) == 2


def test_evaluate_table_of_models_and_shots(class_folder, tmp_path, capsys):
    assert main(train_args("cross_transformer", class_folder, tmp_path / "ct", TINY["cross_transformer"])) == 0
    capsys.readouterr()
    paths = ["sosn_omniglot", str(tmp_path / "ct" / "model.keras")]  # a preset id and a trained file
    output = tmp_path / "table.json"
    assert main(["fewshot", "evaluate", "--model", *paths, "--data", str(class_folder), "--way", "3", "--shot", "1",
                 "2", "--queries", "2", "--episodes", "3", "--output", str(output)]) == 0
    rows = json.loads(output.read_text())["rows"]
    assert [(r["model"], r["setting"]) for r in rows] == [
        (p, f"3-way {k}-shot, 2 queries per class") for p in paths for k in (1, 2)]
    assert all(r["episodes"] == 3 and r["parameters"] > 0 for r in rows)
    table = capsys.readouterr().out.splitlines()
    assert table[-6].split()[:3] == ["model", "setting", "accuracy"]
    assert [line.split()[0] for line in table[-5:-1]] == [p for p in paths for _ in (1, 2)]


def test_training_options_are_checked(class_folder, tmp_path, capsys):
    assert main(train_args("sosn", class_folder, tmp_path / "a", None, "--base", "mlso")) == 2
    assert "--base is for --model arl" in capsys.readouterr().err
    assert main(train_args("arl", class_folder, tmp_path / "b", TINY["sosn"], "--class-embeddings",
                           str(tmp_path / "none.npy"))) == 2
    assert "none.npy" in capsys.readouterr().err
    np.save(tmp_path / "wrong.npy", np.ones((4, 3)))
    assert main(train_args("arl", class_folder, tmp_path / "c", TINY["sosn"], "--class-embeddings",
                           str(tmp_path / "wrong.npy"))) == 2
    assert "expected shape (6, 3)" in capsys.readouterr().err
    assert main(["fewshot", "train", "--model", "sosn", "--config", "[1]", "--data", str(class_folder),
                 "--out", str(tmp_path / "d")]) == 2
    assert "--config must be a JSON object" in capsys.readouterr().err
    assert main(train_args("arl", class_folder, tmp_path / "e", TINY["salnet"], "--base", "salnet")) == 2
    assert "pass --absolute-weight 0" in capsys.readouterr().err
    assert main(train_args("arl", class_folder, tmp_path / "f", TINY["sosn"], "--unsupervised",
                           "--within-group", "1")) == 2
    assert "--unsupervised has none" in capsys.readouterr().err
    assert main(train_args("sosn", class_folder, tmp_path / "g", TINY["sosn"], "--way", "4", "--within-group", "1")) == 2
    assert "the largest has 3" in capsys.readouterr().err
