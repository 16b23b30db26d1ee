"""export_for_serving never loses a served version: the new one is written beside it, reloaded, swapped in."""

import json
import os
import subprocess
import sys

import keras
import pytest

from hgzoo.errors import ExportError
from hgzoo.export import export_for_serving

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="SavedModel export needs TF")


def _tiny(units=2):
    """A Dense model with the one method export_for_serving asks of hgzoo models."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units)])
    model.serving_signature = lambda input_dtype="float32": ({"x": ((None, 3), input_dtype)},
                                                             lambda x: {"y": model(x)})
    return model


def _units(version_dir):
    meta = json.loads((version_dir / "assets.extra" / "hgzoo.json").read_text())
    return meta["model_config"]["layers"][-1]["config"]["units"]


def _hidden(base):
    return sorted(p.name for p in base.iterdir() if p.name.startswith("."))


def _archive_class():
    return type(keras.export.ExportArchive())  # ExportArchive() builds the backend's own class


def _dead_pid():
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout)


def test_overwrite_swaps_in_the_new_version(tmp_path):
    export_for_serving(_tiny(2), tmp_path, version=1)
    path = export_for_serving(_tiny(4), tmp_path, version=1, overwrite=True)
    assert path == os.path.join(str(tmp_path), "1")
    assert _units(tmp_path / "1") == 4
    assert sorted(os.listdir(tmp_path)) == ["1"]  # nothing left beside it


def test_failing_export_leaves_the_old_version(tmp_path, monkeypatch):
    export_for_serving(_tiny(2), tmp_path, version=1)

    def crash(self, filepath, **kwargs):
        os.makedirs(filepath)
        (open(os.path.join(filepath, "saved_model.pb"), "wb")).close()
        raise RuntimeError("disk full")

    monkeypatch.setattr(_archive_class(), "write_out", crash)
    with pytest.raises(ExportError, match="disk full"):
        export_for_serving(_tiny(4), tmp_path, version=1, overwrite=True)
    assert _units(tmp_path / "1") == 2 and sorted(os.listdir(tmp_path)) == ["1"]


def test_export_that_does_not_reload_is_refused(tmp_path, monkeypatch):
    export_for_serving(_tiny(2), tmp_path, version=1)

    def broken(self, filepath, **kwargs):
        os.makedirs(filepath)
        with open(os.path.join(filepath, "saved_model.pb"), "wb") as f:
            f.write(b"not a protobuf")

    monkeypatch.setattr(_archive_class(), "write_out", broken)
    with pytest.raises(ExportError, match="reload"):
        export_for_serving(_tiny(4), tmp_path, version=1, overwrite=True)
    assert _units(tmp_path / "1") == 2 and sorted(os.listdir(tmp_path)) == ["1"]


def test_without_overwrite_an_existing_version_is_untouched(tmp_path):
    export_for_serving(_tiny(2), tmp_path, version=1)
    with pytest.raises(FileExistsError):
        export_for_serving(_tiny(4), tmp_path, version=1)
    assert _units(tmp_path / "1") == 2


def test_leftovers_of_killed_exports_are_cleaned(tmp_path):
    export_for_serving(_tiny(2), tmp_path, version=1)
    dead = _dead_pid()
    (tmp_path / f".3.tmp-{dead}").mkdir()  # killed while writing version 3
    os.rename(tmp_path / "1", tmp_path / f".1.old-{dead}")  # killed mid-swap: version 1 set aside
    live = tmp_path / f".5.tmp-{os.getppid()}"  # a live process's export in progress: never touched
    live.mkdir()
    export_for_serving(_tiny(4), tmp_path, version=2)
    assert sorted(os.listdir(tmp_path)) == [live.name, "1", "2"]
    assert _units(tmp_path / "1") == 2  # the version set aside is put back, not deleted
