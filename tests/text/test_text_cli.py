"""``hgzoo text train`` / ``predict`` end to end on a tiny backbone, and their errors."""

import json
import re

import keras
import numpy as np
import pytest

from hgzoo.cli.main import main
from hgzoo.metrics import macro_f1

POSITIVE = ["a fine film", "good movie", "a very good film", "the film is fine", "good"]
NEGATIVE = ["dull", "a bad movie", "the movie is dull", "not good", "very bad"]


def write_tsv(path, rows, header=True):
    path.write_text(("sentence\tlabel\n" if header else "") + "".join(f"{t}\t{l}\n" for t, l in rows))
    return path


def test_train_then_predict(tiny_backbone, tmp_path, capsys):
    rows = [(t, "pos") for t in POSITIVE] + [(t, "neg") for t in NEGATIVE]
    train = write_tsv(tmp_path / "train.tsv", rows * 4)
    val = write_tsv(tmp_path / "val.tsv", rows)
    out = tmp_path / "run"
    args = ["text", "train", "--data", str(train), "--val", str(val), "--out", str(out), "--backbone",
            str(tiny_backbone), "--layers", "-1", "-2", "--epochs", "3", "--batch-size", "8",
            "--cache-dir", str(tmp_path / "cache")]
    assert main(args) == 0
    assert not (out / "backup").exists()  # the resume state is dropped once training finished
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train_texts"] == len(rows) * 4 and metrics["classes"] == ["neg", "pos"]
    printed = re.search(r"validation accuracy (\d+\.\d\d)%, macro-F1 (\d+\.\d\d)%", capsys.readouterr().out)
    assert printed.groups() == (f"{metrics['val_accuracy']:.2f}", f"{metrics['val_macro_f1']:.2f}")
    head = keras.saving.load_model(out / "model.keras")
    assert head.class_names == ["neg", "pos"] and head.encoder["layers"] == [-1, -2]

    predictions = tmp_path / "predictions.tsv"
    assert main(["text", "predict", "--model", str(out), "--data", str(val), "--output", str(predictions),
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    lines = [line.split("\t") for line in predictions.read_text().splitlines()]
    assert [l[0] for l in lines] == [t for t, _ in rows]  # every text, in order
    assert {l[1] for l in lines} <= {"neg", "pos"} and all(0.5 <= float(l[2]) <= 1.0 for l in lines)
    accuracy = 100 * np.mean([l[1] == label for l, (_, label) in zip(lines, rows)])
    # the same head on the same file: predict's score is train's validation score
    assert f"accuracy {accuracy:.2f}%, macro-F1 {metrics['val_macro_f1']:.2f}% on {len(rows)} texts" \
        in capsys.readouterr().out
    assert accuracy == pytest.approx(metrics["val_accuracy"])

    before = val.read_bytes()
    assert main(["text", "predict", "--model", str(out), "--data", str(val), "--output", str(val),
                 "--cache-dir", str(tmp_path / "cache")]) == 2
    assert "is the input file" in capsys.readouterr().err and val.read_bytes() == before
    assert main(["text", "predict", "--model", str(out), "--data", str(val), "--output", str(tmp_path),
                 "--cache-dir", str(tmp_path / "cache")]) == 2  # an OSError (a folder) is one line, not a traceback
    assert capsys.readouterr().err.count("\n") == 1

    unlabelled = tmp_path / "texts.txt"
    unlabelled.write_text("a good film\nvery dull\n")
    assert main(["text", "predict", "--model", str(out / "model.keras"), "--data", str(unlabelled),
                 "--unlabelled", "--cache-dir", str(tmp_path / "cache")]) == 0
    assert [line.split("\t")[1] for line in capsys.readouterr().out.strip().splitlines()] == \
        ["a good film", "very dull"]


def test_train_ablation_switches(tiny_backbone, tmp_path):
    rows = [(t, "pos") for t in POSITIVE] + [(t, "neg") for t in NEGATIVE]
    train = write_tsv(tmp_path / "train.tsv", rows)
    out = tmp_path / "run"
    assert main(["text", "train", "--data", str(train), "--out", str(out), "--backbone", str(tiny_backbone),
                 "--layers", "spread2", "--no-co-occurrence", "--epochs", "1", "--batch-size", "8",
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    head = keras.saving.load_model(out / "model.keras")
    assert head.encoder["layers"] == [-1, -2] and head.get_config()["co_occurrence"] is False


def test_clear_errors(tiny_backbone, tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("a fine film\tpos\nno label\n")
    assert main(["text", "train", "--data", str(bad), "--out", str(tmp_path / "run"),
                 "--backbone", str(tiny_backbone)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hgzoo text train: error:") and "line 2: expected 'text<TAB>label'" in err
    assert main(["text", "predict", "--model", str(tmp_path / "nowhere"), "--data", str(bad)]) == 2
    assert capsys.readouterr().err.startswith("hgzoo text predict: error: no trained head")


def test_macro_f1():
    y = np.array([0, 0, 1, 1, 2])
    assert macro_f1(y, y, 3) == 1.0
    # class 0: P 1, R 0.5 -> 2/3; class 1: P 1/2, R 1 -> 2/3; class 2 never predicted -> 0
    assert abs(macro_f1(y, np.array([0, 1, 1, 1, 1]), 3) - (2 / 3 + 2 / 3 + 0) / 3) < 1e-9
