"""``hgzoo deblur`` loses nothing: never an input overwritten, no name collisions, existing outputs kept
unless --overwrite, atomic writes, a batch that survives bad files, and one clear line per error."""

import io
import os

import numpy as np
import pytest
from PIL import Image

from hgzoo.cli.main import main
from hgzoo.data import images
from hgzoo.data.images import read_image


class Identity:
    """A deblurring 'model' that returns its input, so each test runs in milliseconds and outputs are exact."""

    task = "deblur"
    multiple_of = (4, 4)

    def predict_on_batch(self, x):
        return x


@pytest.fixture(autouse=True)
def identity_model(monkeypatch):
    loaded = []

    def load_model(name):
        loaded.append(name)
        return Identity()

    monkeypatch.setattr("hgzoo.cli.general.load_model", load_model)
    return loaded


def photo(path, value=100, shape=(8, 12, 3)):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.full(shape, value, np.uint8)).save(path)
    return str(path)


def deblur(*argv):
    return main(["deblur", "run", *map(str, argv)])


def one_error_line(capsys):
    err = capsys.readouterr().err
    assert err.startswith("hgzoo deblur run: error: ") and err.count("\n") == 1, err
    return err


def test_never_overwrites_an_input(tmp_path, capsys):
    p = photo(tmp_path / "photos" / "p.png")
    before = open(p, "rb").read()
    for extra in ([], ["--overwrite"]):
        assert deblur(p, "-o", tmp_path / "photos", *extra) == 2
        err = one_error_line(capsys)
        assert "would replace the input" in err and "p.png" in err
        assert open(p, "rb").read() == before
    assert os.listdir(tmp_path / "photos") == ["p.png"]


def test_never_overwrites_an_input_through_a_link(tmp_path, capsys):
    p = photo(tmp_path / "in" / "p.png")
    os.makedirs(tmp_path / "out")
    os.link(p, tmp_path / "out" / "p.png")  # the output name is another name of the input
    assert deblur(p, "-o", tmp_path / "out", "--overwrite") == 2
    assert "would replace the input" in one_error_line(capsys)
    np.testing.assert_array_equal(read_image(p), np.full((8, 12, 3), 100, np.uint8))


def test_compare_output_never_replaces_an_input(tmp_path, capsys):
    a = photo(tmp_path / "x.png")
    b = photo(tmp_path / "x_compare.png", value=7)
    assert deblur(a, b, "-o", tmp_path / "out", "--compare") == 2
    assert "x_compare.png" in one_error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_colliding_names_are_refused(tmp_path, capsys):
    a = photo(tmp_path / "a" / "x.png")
    b = photo(tmp_path / "b" / "x.jpg")
    assert deblur(a, b, "-o", tmp_path / "out") == 2
    err = one_error_line(capsys)
    assert "a/x.png" in err and "b/x.jpg" in err and "out/x.png" in err
    assert not (tmp_path / "out").exists()


def test_the_same_input_twice_is_deblurred_once(tmp_path, capsys):
    a = photo(tmp_path / "x.png")
    assert deblur(a, tmp_path / "." / "x.png", "-o", tmp_path / "out") == 0
    assert os.listdir(tmp_path / "out") == ["x.png"]


def test_existing_output_is_kept_unless_overwrite(tmp_path, capsys):
    a = photo(tmp_path / "x.png", value=50)
    out = tmp_path / "out"
    photo(out / "x.png", value=200)
    assert deblur(a, "-o", out) == 2
    assert "exists" in one_error_line(capsys)
    assert read_image(out / "x.png")[0, 0, 0] == 200
    assert deblur(a, "-o", out, "--overwrite") == 0
    assert read_image(out / "x.png")[0, 0, 0] == 50
    assert os.listdir(out) == ["x.png"]  # written atomically: no temporary left


def test_a_missing_input_is_named_before_any_model_loads(tmp_path, capsys, identity_model):
    # Offline, loading the default preset would fail on its weights and hide the typo.
    assert main(["deblur", str(tmp_path / "typo.png")]) == 2
    assert one_error_line(capsys) == f"hgzoo deblur run: error: {tmp_path / 'typo.png'}: no such file\n"
    assert identity_model == []  # no model was loaded


def test_a_batch_with_bad_files_deblurs_the_others_and_reports_them(tmp_path, capsys):
    good = [photo(tmp_path / "good1.png"), photo(tmp_path / "good2.png")]
    (tmp_path / "text.png").write_text("not an image")
    os.makedirs(tmp_path / "folder")
    inputs = [good[0], tmp_path / "text.png", tmp_path / "folder", tmp_path / "missing.png", good[1]]
    assert deblur(*inputs, "-o", tmp_path / "out") == 2
    err = one_error_line(capsys)
    assert "3 of 5 images failed" in err
    for reason in ("text.png: not a readable image", "folder: is a folder, not an image file",
                   "missing.png: no such file"):
        assert reason in err
    assert sorted(os.listdir(tmp_path / "out")) == ["good1.png", "good2.png"]


def test_16_bit_in_16_bit_out(tmp_path):
    array = np.random.default_rng(0).integers(0, 65536, (6, 10, 3)).astype(np.uint16)
    images.write_image(tmp_path / "in16.png", array)
    assert deblur(tmp_path / "in16.png", "-o", tmp_path / "out") == 0
    written = read_image(tmp_path / "out" / "in16.png")
    assert written.dtype == np.uint16
    np.testing.assert_array_equal(written, array)


@pytest.mark.parametrize("output", ["file", "file/sub"])
def test_output_that_is_a_file(tmp_path, capsys, output):
    p = photo(tmp_path / "x.png")
    (tmp_path / "file").write_text("x")
    assert deblur(p, "-o", tmp_path / output) == 2
    assert "is a file, not a folder" in one_error_line(capsys)
    assert (tmp_path / "file").read_text() == "x"


def test_unwritable_output_folder(tmp_path, capsys, monkeypatch):
    p = photo(tmp_path / "x.png")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if "locked" in os.fspath(path)
                        else real_access(path, mode, **kw))  # as root, chmod cannot make a folder read-only
    os.makedirs(tmp_path / "locked")
    assert deblur(p, "-o", tmp_path / "locked" / "out") == 2
    assert "permission denied" in one_error_line(capsys)


def test_permission_denied_while_writing(tmp_path, capsys, monkeypatch):
    p = photo(tmp_path / "x.png")
    real_open = io.open

    def denied(path, *args, **kwargs):
        if "out" in os.fspath(path):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(io, "open", denied)  # root ignores chmod, so the denial is simulated
    assert deblur(p, "-o", tmp_path / "out") == 2
    assert "x.png: permission denied" in one_error_line(capsys)


def test_unreadable_input(tmp_path, capsys, monkeypatch):
    p = photo(tmp_path / "x.png")

    def denied(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", os.fspath(path))

    monkeypatch.setattr(images.Image, "open", denied)
    assert deblur(p, "-o", tmp_path / "out") == 2
    assert one_error_line(capsys) == f"hgzoo deblur run: error: {p}: permission denied; cannot read it\n"


def test_decompression_bomb(tmp_path, capsys, monkeypatch):
    p = photo(tmp_path / "x.png", shape=(40, 40, 3))
    monkeypatch.setattr(images.Image, "MAX_IMAGE_PIXELS", 100)
    assert deblur(p, "-o", tmp_path / "out") == 2
    assert "decompression bomb" in one_error_line(capsys)


def test_a_folder_as_the_only_input(tmp_path, capsys):
    assert deblur(tmp_path, "-o", tmp_path / "out") == 2
    assert one_error_line(capsys) == (f"hgzoo deblur run: error: {tmp_path}: is a folder, not an image file "
                                      f"(for every image in it, pass {tmp_path}/*)\n")


@pytest.mark.parametrize("model", ["/no/such/file", "/no/such/file.keras", "/no/such/file.weights.h5"])
def test_a_model_that_does_not_exist(tmp_path, capsys, monkeypatch, model):
    monkeypatch.undo()  # the real loader
    p = photo(tmp_path / "x.png")
    assert deblur(p, "-o", tmp_path / "out", "--model", model) == 2
    assert model in one_error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_a_model_that_does_not_deblur(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("hgzoo.cli.general.load_model", lambda name: object())
    p = photo(tmp_path / "x.png")
    assert deblur(p, "-o", tmp_path / "out", "--model", "sosn") == 2
    assert "sosn is not a deblurring model" in one_error_line(capsys)
