"""``hgzoo anomaly features|train|score`` from a generated CERT folder to a ranked CSV."""

import csv
import json

import numpy as np

from hgzoo.anomaly import UserDayFeatures, load_run
from hgzoo.cli.main import main


def test_features_train_score(cert_r42, tmp_path, capsys):
    features, run, ranked = tmp_path / "f.npz", tmp_path / "run", tmp_path / "ranked.csv"
    sites = tmp_path / "jobs.txt"
    sites.write_text("# job-search domains\nmonster.com\n")
    assert main(["anomaly", "features", "--cert", str(cert_r42), "--output", str(features), "--work-hours", "7",
                 "19", "--job-sites", str(sites), "--chunk-rows", "500"]) == 0
    data = UserDayFeatures.load(features)
    assert data.meta["config"]["work_hours"] == [7.0, 19.0] and data.meta["config"]["job_sites"] == ["monster.com"]
    assert data.labels.sum() > 0
    assert main(["anomaly", "train", "--features", str(features), "--out", str(run), "--detector", "autoencoder",
                 "--epochs", "2", "--kappa", "3"]) == 0
    assert load_run(run).kappa == 3
    capsys.readouterr()
    assert main(["anomaly", "score", "--model", str(run), "--features", str(features), "--output", str(ranked)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    with open(ranked) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(data) == summary["user_days"]
    scores = np.array([float(r["score"]) for r in rows])
    assert (np.diff(scores) <= 0).all() and [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    assert sum(int(r["anomalous"]) for r in rows) == summary["anomalous_days"]
    assert all(int(r["anomalous"]) == (float(r["score"]) > summary["tau"]) for r in rows if abs(
        float(r["score"]) - summary["tau"]) > 1e-4)
    assert sum(int(r["label"]) for r in rows) == data.labels.sum()


def test_bad_folder_is_one_error_line(tmp_path, capsys):
    assert main(["anomaly", "features", "--cert", str(tmp_path / "nowhere"), "--output", str(tmp_path / "f.npz")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "CERT release folder" in err[0]
