"""README benchmark tables are generated from benchmarks/results/*/*.json, which record their provenance.

Cheap: nothing here runs a benchmark or imports TensorFlow.
"""

import importlib.util
import json
import pathlib
import re

import pytest

from hgzoo._families import FAMILY_NAMES

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = sorted((ROOT / "benchmarks" / "results").glob("*/*.json"))


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def update_readme():
    return _load("tools/update_readme.py", "update_readme")


@pytest.fixture(scope="module")
def report():
    return _load("benchmarks/_report.py", "_report")


def test_readme_benchmark_blocks_are_generated(update_readme):
    readme = (ROOT / "README.md").read_text()
    assert update_readme.with_benchmarks(readme) == readme, \
        "README benchmark tables are stale: run python tools/update_readme.py"


def test_results_markdown_is_rendered_from_its_json(update_readme):
    rendered = update_readme.result_markdown()
    assert sorted(rendered) == [p.with_suffix(".md") for p in RESULTS]
    for path, text in rendered.items():
        assert path.read_text() == text, f"{path.relative_to(ROOT)} is stale: run python tools/update_readme.py"


def test_a_group_with_results_but_no_readme_block_is_an_error(update_readme):
    with pytest.raises(SystemExit, match="deblur:benchmarks:start"):
        update_readme.fill("# README without blocks\n", "deblur:benchmarks", "table")


@pytest.mark.parametrize("path", RESULTS, ids=lambda p: str(p.relative_to(ROOT / "benchmarks" / "results")))
def test_every_result_records_its_provenance(path):
    record = json.loads(path.read_text())
    group = path.parent.name
    assert group in FAMILY_NAMES + ("layers",), f"{group}: results belong to a family folder or layers/"
    assert re.fullmatch(r"[0-9a-f]{40}", record["commit"]), "commit must be a full git hash"
    script = pathlib.PurePosixPath(record["script"])
    assert script.parent == pathlib.PurePosixPath("benchmarks", group) and (ROOT / script).is_file()
    assert re.search(rf"\bpython \S*{script.name}\b", record["command"]), "the command runs the script"
    assert record["machine"]["cpu"] and record["machine"]["cores"] >= 1
    assert re.match(r"\d{4}-\d\d-\d\d", record["date"])
    assert {"python", "keras", "tensorflow"} <= set(record["versions"])
    assert record["rows"] and set(record["columns"]) <= set().union(*record["rows"])


def test_report_records_the_command_commit_and_machine_of_a_run(report, tmp_path, monkeypatch):
    for key in report._ENV:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HGZOO_WEIGHTS_DIR", "../shared/data/dmphn")
    monkeypatch.setattr("sys.argv", [str(ROOT / "benchmarks" / "deblur" / "event_deblur.py"), "--steps", "50"])
    monkeypatch.setattr(report, "RESULTS", str(tmp_path))
    markdown = report.write("deblur", "trial", [{"model": "m", "psnr": 30.0}], ["model", "psnr"], notes="n.")
    record = json.loads((tmp_path / "deblur" / "trial.json").read_text())
    assert record["command"] == ("HGZOO_WEIGHTS_DIR=../shared/data/dmphn "
                                 "python benchmarks/deblur/event_deblur.py --steps 50")
    assert record["script"] == "benchmarks/deblur/event_deblur.py"
    assert re.fullmatch(r"[0-9a-f]{40}", record["commit"])
    assert record["machine"]["cores"] >= 1 and record["machine"]["cpu"]
    assert "keras" in record["versions"]
    assert (tmp_path / "deblur" / "trial.md").read_text() == markdown == report.table(record)
    assert f"commit {record['commit'][:7]}" in markdown and "| m | 30.000 |" in markdown
