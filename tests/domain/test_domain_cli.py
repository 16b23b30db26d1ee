"""``hgzoo domain train`` and ``evaluate`` on the real digit domains, in process (tiny step counts)."""

import json

import pytest

from hgzoo.cli.main import main


def test_train_then_evaluate_reproduces_the_split_and_the_accuracy(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["domain", "train", "--source", "uci", "--target", "mnist", "--k", "1", "--steps", "3",
                 "--divergence", "jbld", "--size", "8", "--out", str(out)]) == 0
    trained = json.loads((out / "metrics.json").read_text())
    assert trained["target_test_images"] == 5000 - 10
    capsys.readouterr()
    assert main(["domain", "evaluate", "--model", str(out)]) == 0
    evaluated = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert evaluated["target_test_accuracy"] == trained["target_test_accuracy"]


@pytest.mark.parametrize("argv, message", [
    (["--source", "uci", "--target", "uci"], "adaptation needs two domains"),
    (["--source", "uci", "--target", "mnist", "--k", "0"], "--k must be at least 1"),
])
def test_train_refuses_bad_arguments(argv, message, tmp_path, capsys):
    assert main(["domain", "train", *argv, "--out", str(tmp_path / "x")]) != 0
    assert message in capsys.readouterr().err


def test_evaluate_names_the_missing_file(tmp_path, capsys):
    assert main(["domain", "evaluate", "--model", str(tmp_path)]) != 0
    assert "model.keras not found" in capsys.readouterr().err
