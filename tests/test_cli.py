"""The hgzoo command line, run in-process."""

import json

import numpy as np
import pytest
from PIL import Image

from hgzoo.cli.main import build_parser, main


def test_help_on_every_verb(capsys):
    parser = build_parser()
    verbs = [["--help"], ["list", "--help"], ["info", "--help"], ["weights", "--help"],
             ["weights", "list", "--help"], ["weights", "where", "--help"], ["weights", "download", "--help"],
             ["weights", "verify", "--help"], ["deblur", "--help"], ["demo", "--help"], ["export", "--help"], ["train", "--help"],
             ["train", "deblur", "--help"], ["tune", "--help"], ["tune", "deblur", "--help"]]
    for argv in verbs:
        with pytest.raises(SystemExit) as info:
            parser.parse_args(argv)
        assert info.value.code == 0
        assert "usage: hgzoo" in capsys.readouterr().out


def test_list_and_info(capsys):
    assert main(["list", "--task", "deblur", "--pretrained"]) == 0
    assert capsys.readouterr().out.split() == ["dmphn_1_2_4_8_gopro", "dmphn_1_2_4_gopro", "dmphn_1_2_synthetic",
                                               "stack_mpn_4_gopro"]
    assert main(["info", "stack_mpn_4_gopro"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["class"] == "StackMPN" and info["config"]["num_stages"] == 4
    assert main(["info", "dmphn"]) == 0
    assert "dmphn_1_2_4_gopro" in json.loads(capsys.readouterr().out)["presets"]


def test_unknown_names_are_errors_not_tracebacks(capsys):
    assert main(["info", "nothing_like_it"]) == 2
    assert "unknown model" in capsys.readouterr().err


def test_weights_where_verify_download(capsys, weights_dir, tmp_path):
    assert main(["weights", "where", "dmphn_1_2_4_gopro"]) == 0
    assert capsys.readouterr().out.count("ok ") == 6
    assert main(["weights", "verify", "dmphn_1_2_4_gopro"]) == 0
    assert main(["weights", "download", "dmphn_1_2_4_gopro", "--dest", str(tmp_path / "mirror")]) == 0
    assert (tmp_path / "mirror/checkpoints/DMPHN_1_2_4/decoder_lv3.pkl").is_file()


def test_offline_download_fails_clearly(capsys, tmp_path):
    assert main(["weights", "download", "stack_mpn_4_gopro", "--dest", str(tmp_path)]) == 2
    assert "HGZOO_OFFLINE" in capsys.readouterr().err


def test_deblur_files_with_compare(tmp_path, weights_dir, capsys):
    for name in ("a", "b"):
        Image.fromarray((np.random.default_rng(0).random((40, 52, 3)) * 255).astype(np.uint8)).save(
            tmp_path / f"{name}.png")
    out = tmp_path / "out"
    assert main(["deblur", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(out),
                 "--model", "dmphn_1_2_4_gopro", "--compare"]) == 0
    assert Image.open(out / "a.png").size == (52, 40)
    assert Image.open(out / "b_compare.png").size == (52 * 2 + 8, 40)


def test_deblur_missing_input(tmp_path, weights_dir, capsys):
    assert main(["deblur", str(tmp_path / "nope.png"), "--model", "dmphn_1_2_4_gopro", "-o", str(tmp_path)]) == 2
    assert "nope.png: no such file" in capsys.readouterr().err


def test_demo_offline_with_packaged_weights(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HGZOO_HOME", str(tmp_path / "fresh_home"))  # nothing converted yet
    assert main(["demo", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "dmphn_1_2_synthetic" in out and "PSNR" in out
    assert (tmp_path / "demo_deblurred.png").is_file() and (tmp_path / "demo_compare.png").is_file()


def test_readme_model_table_is_generated():
    from pathlib import Path

    from hgzoo.cli.main import markdown_table

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert f"<!-- models:start -->\n{markdown_table()}<!-- models:end -->" in readme, \
        "README model table is stale: run python tools/update_readme.py"
