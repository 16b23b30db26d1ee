"""The hgzoo command line: its grammar, its light start, and the files its commands write."""

import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import pytest
from PIL import Image

import hgzoo
from hgzoo._families import FAMILIES
from hgzoo.cli import listing
from hgzoo.cli.main import build_parser, main
from hgzoo.data.images import read_image
from hgzoo.deblur.demo import sample_paths

PACKAGED = "dmphn_1_2_synthetic"  # deblurring weights in the wheel: these tests need no mirror


def every_command(parser):
    """The argv of every command and action, e.g. ['deblur', 'run']."""
    for command, sub in parser._subparsers._group_actions[0].choices.items():
        yield [command]
        for action in (sub._subparsers._group_actions[0].choices if sub._subparsers else ()):
            yield [command, action]


def test_help_on_every_command(capsys):
    parser = build_parser()
    commands = list(every_command(parser))
    assert ["deblur", "train"] in commands and ["fewshot", "evaluate"] in commands and ["demo"] in commands
    for argv in [[], *commands]:
        with pytest.raises(SystemExit) as info:
            parser.parse_args([*argv, "--help"])
        assert info.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: {' '.join(['hgzoo', *argv])} ")


def test_every_family_is_a_command_with_actions(capsys):
    parser = build_parser()
    for family in FAMILIES:
        assert parser.family_actions[family.name], f"hgzoo {family.name} has no actions"
        with pytest.raises(SystemExit):
            parser.parse_args([family.name, "--help"])
        assert family.summary in " ".join(capsys.readouterr().out.split())  # argparse wraps to the terminal


def launcher(*argv, env=None):
    """Run the console script's launcher in a fresh process; print whether TensorFlow/Keras got imported."""
    code = ("import sys, hgzoo_launcher\n"
            "try:\n    code = hgzoo_launcher.main(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
            "print('imported:', 'tensorflow' in sys.modules, 'keras' in sys.modules)\nsys.exit(code)")
    # Outside the checkout, so the fresh process imports the installed hgzoo (with its packaged data).
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          cwd=tempfile.gettempdir(), env=env, timeout=300)


@pytest.mark.parametrize("argv", [["--help"], ["deblur", "--help"], ["fewshot", "evaluate", "--help"], ["list"]])
def test_help_and_list_import_no_tensorflow(argv):
    result = launcher(*argv)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "imported: False False"


def test_list_is_the_registry_list():
    result = launcher("list")
    assert result.stdout.splitlines()[:-1] == hgzoo.list_models()
    for pattern, task, pretrained in [(None, "deblur", True), ("*mpn*", None, False), ("sosn*", "fewshot", None),
                                      (None, "text", None), ("nothing*", None, None)]:
        assert listing.list_models(pattern, task, pretrained) == hgzoo.list_models(pattern, task, pretrained)


def test_tensorflow_start_up_lines_are_hidden():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = launcher("info", "sosn_omniglot", env=env)
    assert result.returncode == 0 and result.stdout.splitlines()[-1] == "imported: True True"
    assert result.stderr == ""
    assert json.loads("\n".join(result.stdout.splitlines()[:-1]))["id"] == "sosn_omniglot"


def test_list_and_info(capsys):
    assert main(["list", "--task", "deblur", "--pretrained"]) == 0
    assert capsys.readouterr().out.split() == ["dmphn_1_2_4_8_gopro", "dmphn_1_2_4_gopro", "dmphn_1_2_synthetic",
                                               "stack_mpn_4_gopro"]
    assert main(["info", "stack_mpn_4_gopro"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["class"] == "StackMPN" and info["config"]["num_stages"] == 4
    assert main(["info", "dmphn"]) == 0
    assert "dmphn_1_2_4_gopro" in json.loads(capsys.readouterr().out)["presets"]


def test_errors_are_one_line_and_status_2(capsys, tmp_path):
    assert main(["info", "nothing_like_it"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hgzoo info: error: unknown model 'nothing_like_it'") and err.count("\n") == 1
    assert main(["deblur", "run", str(tmp_path / "nope.png"), "--model", PACKAGED, "-o", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"hgzoo deblur run: error: {tmp_path / 'nope.png'}: no such file\n"
    assert not list(tmp_path.iterdir())


def test_weights_where_verify_download(capsys, weights_dir, tmp_path):
    assert main(["weights", "where", "dmphn_1_2_4_gopro"]) == 0
    assert capsys.readouterr().out.count("ok ") == 6
    assert main(["weights", "verify", "dmphn_1_2_4_gopro"]) == 0
    assert main(["weights", "download", "dmphn_1_2_4_gopro", "--dest", str(tmp_path / "mirror")]) == 0
    assert (tmp_path / "mirror/checkpoints/DMPHN_1_2_4/decoder_lv3.pkl").is_file()


def test_offline_download_fails_clearly(capsys, tmp_path):
    assert main(["weights", "download", "stack_mpn_4_gopro", "--dest", str(tmp_path)]) == 2
    assert "HGZOO_OFFLINE" in capsys.readouterr().err


@pytest.fixture(scope="module")
def photo():
    """A real 48×64 crop of the packaged sample photo (uint8 RGB)."""
    return read_image(sample_paths()[0])[100:148, 150:214]


@pytest.fixture(scope="module")
def deblurred(photo):
    return hgzoo.deblur.deblur(hgzoo.create_model(PACKAGED, pretrained=True), photo)


def test_deblur_run_writes_the_deblurred_images(tmp_path, photo, deblurred, capsys):
    Image.fromarray(photo).save(tmp_path / "a.png")
    Image.fromarray(photo[:, ::-1]).save(tmp_path / "b.png")
    out = tmp_path / "out"
    assert main(["deblur", "run", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(out),
                 "--model", PACKAGED, "--compare"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "a_compare.png", "b.png", "b_compare.png"]
    a = np.asarray(Image.open(out / "a.png"))
    assert a.dtype == np.uint8 and a.shape == photo.shape
    np.testing.assert_array_equal(a, deblurred)
    assert np.abs(a.astype(int) - photo).mean() > 0.5  # it changed the photo
    compare = np.asarray(Image.open(out / "a_compare.png"))
    assert compare.shape == (48, 64 * 2 + 8, 3)
    np.testing.assert_array_equal(compare[:, :64], photo)
    assert (compare[:, 64:72] == 255).all()
    np.testing.assert_array_equal(compare[:, 72:], deblurred)


def test_shorthand_and_a_file_named_like_an_action(tmp_path, monkeypatch, photo, deblurred, capsys):
    monkeypatch.chdir(tmp_path)
    Image.fromarray(photo).save(tmp_path / "train", format="PNG")
    for argv in (["deblur", "./train", "-o", "short"], ["deblur", "run", "train", "-o", "explicit"],
                 ["deblur", "-o", "option_first", "train"]):
        assert main([*argv, "--model", PACKAGED]) == 0, argv
        written = np.asarray(Image.open(tmp_path / argv[argv.index("-o") + 1] / "train.png"))
        np.testing.assert_array_equal(written, deblurred)
    with pytest.raises(SystemExit) as info:  # 'train' right after 'deblur' is the action
        main(["deblur", "train", "-o", "out", "--model", PACKAGED])
    assert info.value.code == 2
    assert "hgzoo deblur train: error:" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_old_verb_first_forms_still_work_with_a_notice(capsys):
    for verb in ("train", "tune"):
        with pytest.raises(SystemExit) as info:
            main([verb, "deblur", "--help"])
        assert info.value.code == 0
        captured = capsys.readouterr()
        assert captured.out.startswith(f"usage: hgzoo deblur {verb} ")
        assert captured.err == (f"hgzoo: 'hgzoo {verb} deblur' is deprecated and goes in the next release; "
                                f"use 'hgzoo deblur {verb}'\n")


def test_demo_prints_the_psnr_of_the_files_it_wrote(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HGZOO_HOME", str(tmp_path / "fresh_home"))  # nothing converted yet
    assert main(["demo", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"Using preset {PACKAGED}" in out
    printed = re.search(r"PSNR against the sharp photo: blurry (\d+\.\d\d) dB -> deblurred (\d+\.\d\d) dB", out)
    blurry, sharp = (read_image(p) for p in sample_paths())
    result = read_image(tmp_path / "demo_deblurred.png")
    assert result.shape == sharp.shape and result.dtype == np.uint8

    def psnr(image):
        return f"{float(hgzoo.metrics.psnr(sharp, image, max_value=255)):.2f}"

    assert printed.groups() == (psnr(blurry), psnr(result))
    assert float(printed[2]) > float(printed[1])  # deblurring brought it closer to the sharp photo
    compare = read_image(tmp_path / "demo_compare.png")
    w = sharp.shape[1]
    assert compare.shape == (sharp.shape[0], 3 * w + 16, 3)
    for i, image in enumerate((blurry, result, sharp)):
        np.testing.assert_array_equal(compare[:, i * (w + 8):i * (w + 8) + w], image)


def test_readme_model_table_is_generated():
    from pathlib import Path

    from hgzoo.cli.listing import markdown_table

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert f"<!-- models:start -->\n{markdown_table()}<!-- models:end -->" in readme, \
        "README model table is stale: run python tools/update_readme.py"
