"""SavedModel export for TF Serving, served without hgzoo (hgzoo.testing.run_export_test)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

import hgzoo
from hgzoo.cli.main import main
from hgzoo.testing import run_export_test

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="SavedModel export needs TF")

SIGNATURE = {"inputs": {"image": "float32"}, "outputs": {"deblurred": "float32"}}


@pytest.fixture(scope="module")
def photo():
    from hgzoo.deblur.demo import sample_paths

    return np.asarray(Image.open(sample_paths()[0]).convert("RGB"))[:45, :61]  # odd sizes on purpose


def test_float_export_matches_keras_in_a_tf_only_process(photo):
    model = hgzoo.deblur.DMPHN(levels=(1, 2))
    x = photo.astype(np.float32) / 255
    served = run_export_test(model, {"image": x[None]}, SIGNATURE)
    np.testing.assert_allclose(served["deblurred"][0], hgzoo.deblur.deblur(model, x), atol=1e-4)


def test_version_folder_and_metadata(tmp_path):
    path = hgzoo.export.export_for_serving(hgzoo.deblur.DMPHN(levels=(1,)), tmp_path / "dmphn", version=3)
    assert path.endswith(os.path.join("dmphn", "3")) and os.path.isfile(os.path.join(path, "saved_model.pb"))
    meta = json.loads(Path(path, "assets.extra", "hgzoo.json").read_text())
    assert meta["model_class"] == "DMPHN" and meta["signature"]["inputs"]["image"]["dtype"] == "float32"


@pytest.mark.parametrize("fmt", ["instances", "inputs"])
def test_predict_request_bodies_carry_the_batch(photo, fmt):
    body = json.loads(hgzoo.export.predict_request({"image": photo[None]}, fmt))
    batch = body["instances"] if fmt == "instances" else body["inputs"]["image"]
    np.testing.assert_array_equal(np.asarray(batch, np.uint8), photo[None])


def test_uint8_export_with_authors_weights(tmp_path, photo, weights_dir):
    model = hgzoo.deblur.DMPHN(pretrained=True)
    served = run_export_test(model, {"image": photo[None]}, {"inputs": {"image": "uint8"},
                                                             "outputs": {"deblurred": "uint8"}}, input_dtype="uint8")
    expected = hgzoo.deblur.deblur(model, photo)
    assert np.abs(served["deblurred"][0].astype(int) - expected).max() <= 1
    path = hgzoo.export.export_for_serving(model, tmp_path / "m", input_dtype="uint8")
    meta = json.loads(Path(path, "assets.extra", "hgzoo.json").read_text())
    assert meta["preset"] == "dmphn_1_2_4_gopro" and len(meta["weights_sha256"]) == 6


def test_saved_model_cli_lists_names(tmp_path):
    path = hgzoo.export.export_for_serving(hgzoo.deblur.DMPHN(levels=(1,)), tmp_path / "m")
    cli = shutil.which("saved_model_cli") or os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    proc = subprocess.run([cli, "show", "--dir", path, "--all"], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "signature_def['serving_default']" in proc.stdout
    assert "inputs['image']" in proc.stdout and "outputs['deblurred']" in proc.stdout


def test_versions_are_never_overwritten(tmp_path):
    model = hgzoo.deblur.DMPHN(levels=(1,))
    hgzoo.export.export_for_serving(model, tmp_path / "m", version=1)
    with pytest.raises(FileExistsError, match="immutable"):
        hgzoo.export.export_for_serving(model, tmp_path / "m", version=1)
    with pytest.raises(ValueError, match="positive"):
        hgzoo.export.export_for_serving(model, tmp_path / "m", version=0)
    with pytest.raises(ValueError, match="input_dtype"):
        hgzoo.export.export_for_serving(model, tmp_path / "m", version=2, input_dtype="float16")


def test_cli_export_from_keras_file(tmp_path, capsys):
    model = hgzoo.deblur.DMPHN(levels=(1,))
    model.save(tmp_path / "m.keras")
    assert main(["export", str(tmp_path / "m.keras"), str(tmp_path / "serving"), "--version", "2",
                 "--dtype", "uint8"]) == 0
    assert "tensorflow/serving" in capsys.readouterr().out
    assert os.path.isfile(tmp_path / "serving" / "2" / "saved_model.pb")
    assert main(["export", str(tmp_path / "m.keras"), str(tmp_path / "serving"), "--version", "2"]) == 2
