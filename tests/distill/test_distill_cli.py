"""``hgzoo distill run|evaluate`` on a tiny image folder, in-process."""

import json
import os
from pathlib import Path

import numpy as np
from PIL import Image

from hgzoo.cli.main import main


def image_folder(root, per_class=4, size=8):
    rng = np.random.default_rng(0)
    for name in ("ant", "bee"):
        os.makedirs(root / name)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(root / name / f"{i}.png")
    return str(root)


def test_run_and_evaluate(tmp_path, capsys):
    data = image_folder(tmp_path / "data")
    out = str(tmp_path / "run")
    common = ["distill", "run", "--data", data, "--out", out, "--ipc", "1", "--method", "dm", "--real-batch", "2",
              "--width", "4"]
    assert main(common + ["--iterations", "1"]) == 0
    assert sorted(os.listdir(out)) == ["checkpoint.npz", "class_00_ant.png", "class_01_bee.png", "distilled.npz"]
    assert "(1 per class, 1 iterations)" in capsys.readouterr().out
    report = str(tmp_path / "eval.json")
    assert main(["distill", "evaluate", "--synthetic", os.path.join(out, "distilled.npz"), "--test", data,
                 "--epochs", "1", "--runs", "1", "--width", "4", "--output", report]) == 0
    result = json.loads(Path(report).read_text())
    assert result["architecture"] == "convnet" and len(result["accuracies"]) == 1
    assert "convnet:" in capsys.readouterr().out
