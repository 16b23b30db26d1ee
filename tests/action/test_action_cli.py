"""``hgzoo action``: a user's folder of videos through predict, evaluate and train (in-process)."""

import json

import numpy as np
import pytest

from hgzoo.action import ARN
from hgzoo.cli.main import main

av = pytest.importorskip("av")

TINY = {"frames": 4, "image_size": (16, 16), "channels": 1, "filters": 16, "relation_filters": 16,
        "discriminator_hidden": 8, "attention": "none"}


def write_video(path, shift):
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.height, stream.width, stream.pix_fmt = 16, 16, "yuv420p"
        for i in range(6):
            frame = np.zeros((16, 16, 3), np.uint8)
            frame[:, (shift * i) % 16] = 255
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())


@pytest.fixture
def videos(tmp_path):
    for name, shift in (("left", -2), ("right", 2)):
        (tmp_path / "support" / name).mkdir(parents=True)
        for k in range(2):
            write_video(tmp_path / "support" / name / f"{k}.mp4", shift)
    (tmp_path / "support" / "right" / "broken.avi").write_text("not a video")
    (tmp_path / "query").mkdir()
    write_video(tmp_path / "query" / "a.mp4", 2)
    write_video(tmp_path / "query" / "b.mp4", -2)
    (tmp_path / "query" / "c.mp4").write_bytes(b"\x00" * 64)
    model = tmp_path / "arn.keras"
    ARN(**TINY).save(model)
    return tmp_path


def test_predict_names_each_query_and_reports_bad_files(videos, capsys):
    out = videos / "predictions.json"
    status = main(["action", "predict", "--model", str(videos / "arn.keras"), "--support", str(videos / "support"),
                   "--query", str(videos / "query"), "--output", str(out)])
    assert status == 0
    record = json.loads(out.read_text())
    assert record["classes"] == ["left", "right"] and record["shots"] == 2
    assert [p["clip"].rsplit("/", 1)[1] for p in record["predictions"]] == ["a.mp4", "b.mp4"]
    assert all(p["class"] in ("left", "right") for p in record["predictions"])
    assert [s["clip"].rsplit("/", 1)[1] for s in record["skipped"]] == ["c.mp4"]
    assert "skipped" in capsys.readouterr().err  # broken.avi and c.mp4 are reported, not fatal


def test_evaluate_runs_episodes_on_class_folders(videos, capsys):
    status = main(["action", "evaluate", "--model", str(videos / "arn.keras"), "--data", str(videos / "support"),
                   "--way", "2", "--queries", "1", "--episodes", "2"])
    assert status == 0 and "2-way 1-shot" in capsys.readouterr().out


def test_missing_folder_is_one_error_line(tmp_path, capsys):
    status = main(["action", "evaluate", "--model", str(tmp_path / "none.keras"), "--data", str(tmp_path)])
    assert status == 2 and capsys.readouterr().err.strip().startswith("hgzoo ")


@pytest.mark.slow
def test_train_saves_a_model(videos):
    status = main(["action", "train", "--data", str(videos / "support"), "--out", str(videos / "run"), "--frames", "4",
                   "--size", "16", "16", "--channels", "1", "--filters", "16", "--way", "2", "--queries", "1",
                   "--epochs", "1", "--steps-per-epoch", "2"])
    assert status == 0 and (videos / "run" / "model.keras").is_file()
