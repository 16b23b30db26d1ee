"""``hgzoo fewshot evaluate`` / ``train`` on real Omniglot with the packaged sosn_omniglot preset."""

import json
import re

import numpy as np

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
    result = json.loads(output.read_text())
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
    result = json.loads(output.read_text())
    assert printed_result(capsys.readouterr().out)[2] == result["episodes"] == 3
    direct = evaluate_episodes(hgzoo.fewshot.SoSN(pretrained=True), omniglot.load_runs(runs)[:3], verbose=0)
    assert result["per_episode"] == direct["per_episode"]  # 20 queries each; all 20 runs: test_omniglot.py


def test_train_then_evaluate_the_saved_model(omniglot_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["fewshot", "train", "--model", "sosn_omniglot", "--data", str(omniglot_dir /
                 "images_background_small1.zip"), "--way", "5", "--queries", "2", "--epochs", "2",
                 "--steps-per-epoch", "3", "--out", str(out)]) == 0
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
