"""``hgzoo generation generate`` on a tiny saved IDDiffusion, in-process."""

import importlib.util
import os

import numpy as np
import pytest
from PIL import Image

from hgzoo.cli.main import main
from hgzoo.data.images import read_image
from hgzoo.generation import IDDiffusion

from .conftest import TINY


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("generation")
    IDDiffusion(**TINY).save(root / "model.keras")
    for i in range(2):
        np.save(root / f"ref{i}.npy", np.random.default_rng(i).normal(size=8).astype("float32"))
    return root


def test_generate_writes_one_png_per_image(saved, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["generation", "generate", "--model", str(saved / "model.keras"), "--identity",
                 str(saved / "ref0.npy"), str(saved / "ref1.npy"), "--layout", "0.3,0.25,0.75", "--plugins",
                 "dli,idaf,idap", "--steps", "1", "--count", "2", "-o", str(out)]) == 0
    assert sorted(os.listdir(out)) == ["generated_0.png", "generated_1.png"]
    assert read_image(out / "generated_0.png").shape == (16, 16, 3)
    assert "2 images (dli+idaf+idap, 1 DDIM steps)" in capsys.readouterr().out


def status(argv):
    """main's exit status: returned, or raised by argparse."""
    try:
        return main(argv)
    except SystemExit as e:
        return e.code


@pytest.mark.parametrize("argv, message", [
    (["--layout", "0.5,0.1,0.5"], "inside the frame"),
    (["--layout", "0.5,0.5"], "scale,centre_x,centre_y"),
    (["--plugins", "dli,magic"], "unknown plug-in"),
])
def test_bad_requests_are_one_line_errors(saved, tmp_path, capsys, argv, message):
    args = {"--model": str(saved / "model.keras"), "--identity": str(saved / "ref0.npy"),
            "--layout": "0.3,0.5,0.5", "-o": str(tmp_path / "out"), **dict(zip(argv[::2], argv[1::2]))}
    assert status(["generation", "generate", *[x for kv in args.items() for x in kv], "--steps", "1"]) == 2
    assert message in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "out")


def test_an_identity_image_needs_the_extra_and_one_face(saved, tmp_path, capsys):
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(tmp_path / "wall.png")
    argv = ["generation", "generate", "--model", str(saved / "model.keras"), "--identity", str(tmp_path / "wall.png"),
            "--layout", "0.3,0.5,0.5", "-o", str(tmp_path / "out")]
    assert status(argv) == 2
    has_dlib = importlib.util.find_spec("dlib") and importlib.util.find_spec("face_recognition_models")
    assert ("no face found" if has_dlib else 'pip install "hgzoo[generation]"') in capsys.readouterr().err


def test_install_parts_prints_the_pinned_no_deps_command(capsys):
    assert main(["generation", "install-parts", "--print"]) == 0
    (command,) = capsys.readouterr().out.strip().splitlines()
    assert command.endswith("-m pip install --no-deps keras-hub==0.32.0 gan-face-generate==1.1.1")


def test_sd3_without_keras_hub_names_the_install_step(monkeypatch):
    from hgzoo.errors import MissingExtraError
    from hgzoo.generation.sd3 import SD3Denoiser

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "keras_hub" else
                        real_find_spec(name, *a))
    with pytest.raises(MissingExtraError, match="hgzoo generation install-parts"):
        SD3Denoiser(None, None, None)
