"""``hgzoo dialogue simulate / train / evaluate`` end to end with a scripted backend and the packaged MiniLM."""

import csv
import json

import numpy as np
import pytest

from hgzoo.cli.dialogue import _split
from hgzoo.cli.main import main
from hgzoo.dialogue import StrategyClassifier, TurnExamples, read_corpus

REPLIES = ["Hello! Children in need could use your help.", "Why should I trust you?", "STATE: skeptical",
           "Even one dollar feeds a child for a day.", "OK, I will donate a dollar.", "STATE: agreeing"]


def test_simulate_resumes_and_reports(tmp_path, capsys):
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps(REPLIES))
    corpus = tmp_path / "corpus.jsonl"
    args = ["dialogue", "simulate", "--personas", "leo-INTJ,pisces-ENFP", "--n", "2", "-o", str(corpus),
            "--backend", f"scripted:{replies}", "--max-turns", "3"]
    assert main(args) == 0
    assert json.loads((tmp_path / "corpus.jsonl.summary.json").read_text())["dialogues"] == 2
    assert main(args[:5] + ["3"] + args[6:]) == 0
    assert "\"resumed_from\": 2" in capsys.readouterr().out
    assert [r["index"] for r in read_corpus(corpus).records] == [0, 1, 2]
    bad = tmp_path / "personas.json"
    bad.write_text(json.dumps([{"id": "x", "description": "y", "age": 3}]))
    assert main(args[:3] + [str(bad)] + args[4:]) != 0
    assert "unknown field(s) ['age']" in capsys.readouterr().err


def test_simulate_refuses_zero_max_turns(tmp_path, capsys):
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps(REPLIES))
    assert main(["dialogue", "simulate", "--personas", "leo-INTJ", "--n", "1", "-o", str(tmp_path / "c.jsonl"),
                 "--backend", f"scripted:{replies}", "--max-turns", "0"]) != 0
    assert "max_turns must be a positive integer" in capsys.readouterr().err


def test_split_keeps_a_dialogue_for_training():
    examples = TurnExamples(["a", "b", "c"], np.zeros(3, "int32"), ["x"], [0, 0, 1])
    train, val = _split(examples, 0.8, seed=0)
    assert train.any() and val.any()


def test_evaluate_refuses_a_model_without_its_encoder(tmp_path, capsys):
    model = StrategyClassifier(num_layers=2, feature_dim=8, projection_dim=8, hidden_units=(8,))
    model(np.zeros((1, 2, 8), "float32"))
    model.save(tmp_path / "model.keras")
    (tmp_path / "c.jsonl").write_text("")
    assert main(["dialogue", "evaluate", "--model", str(tmp_path), "--corpus", str(tmp_path / "c.jsonl")]) != 0
    assert "does not record the text backbone" in capsys.readouterr().err


def test_train_and_evaluate_attitude_tracker(tmp_path):
    pytest.importorskip("transformers")
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps(REPLIES))
    corpus = tmp_path / "corpus.jsonl"
    assert main(["dialogue", "simulate", "--personas", "all", "--n", "4", "-o", str(corpus), "--backend",
                 f"scripted:{replies}", "--max-turns", "2"]) == 0
    out, cache = tmp_path / "run", str(tmp_path / "cache")
    assert main(["dialogue", "train", "--corpus", str(corpus), "--task", "attitude", "--out", str(out),
                 "--epochs", "1", "--cache-dir", cache]) == 0
    assert json.loads((out / "metrics.json").read_text())["task"] == "attitude"
    scores = tmp_path / "scores.json"
    assert main(["dialogue", "evaluate", "--model", str(out), "--corpus", str(corpus), "--output", str(scores),
                 "--cache-dir", cache]) == 0
    assert json.loads(scores.read_text())["task"] == "attitude"


def test_train_on_corpus_then_evaluate_on_persuasion_for_good(tmp_path, capsys):
    pytest.importorskip("transformers")
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps(REPLIES))
    corpus = tmp_path / "corpus.jsonl"
    assert main(["dialogue", "simulate", "--personas", "all", "--n", "5", "-o", str(corpus), "--backend",
                 f"scripted:{replies}", "--max-turns", "2"]) == 0
    out = tmp_path / "run"
    cache = str(tmp_path / "cache")
    assert main(["dialogue", "train", "--corpus", str(corpus), "--out", str(out), "--epochs", "2",
                 "--cache-dir", cache]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "strategy" and metrics["train_turns"] + metrics["val_turns"] >= 5
    p4g = tmp_path / "p4g.csv"
    with open(p4g, "w", newline="") as f:
        csv.writer(f).writerows([["B2", "B4", "Turn", "Unit", "er_label_1"], ["d", "0", "0", "Hi there", "greeting"],
                                 ["d", "0", "1", "Please give 50 cents", "foot-in-the-door"]])
    scores = tmp_path / "scores.json"
    assert main(["dialogue", "evaluate", "--model", str(out), "--p4g", str(p4g), "--output", str(scores),
                 "--cache-dir", cache]) == 0
    assert json.loads(scores.read_text())["turns"] == 2
    assert main(["dialogue", "train", "--p4g", str(p4g), "--task", "attitude", "--out", str(tmp_path / "r2")]) != 0
    assert "--task strategy" in capsys.readouterr().err
