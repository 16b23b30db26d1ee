"""SavedModel export for TF Serving, checked without hgzoo in the serving process."""

import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image

import hgzoo
from hgzoo.cli.main import main

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="SavedModel export needs TF")

SERVE = """
import json, sys, numpy as np, tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
fn = loaded.signatures["serving_default"]
body = json.loads(open(sys.argv[2]).read())
_, specs = fn.structured_input_signature
(name, spec), = specs.items()
batch = np.asarray(body["instances"] if "instances" in body else body["inputs"][name], spec.dtype.as_numpy_dtype)
out = fn(**{name: tf.constant(batch)})
assert "hgzoo" not in sys.modules
np.save(sys.argv[3], out[sys.argv[4]].numpy())
print(json.dumps({"inputs": list(specs), "outputs": list(out)}))
"""


def serve_in_tf_only(path, body, tmp_path, output="deblurred"):
    (tmp_path / "body.json").write_text(body)
    proc = subprocess.run([sys.executable, "-c", SERVE, str(path), str(tmp_path / "body.json"),
                           str(tmp_path / "out.npy"), output], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), np.load(tmp_path / "out.npy")


@pytest.fixture(scope="module")
def photo():
    from hgzoo.deblur.demo import sample_paths

    return np.asarray(Image.open(sample_paths()[0]).convert("RGB"))[:45, :61]  # odd sizes on purpose


@pytest.mark.parametrize("fmt", ["instances", "inputs"])
def test_float_export_matches_keras_in_a_tf_only_process(tmp_path, photo, fmt):
    model = hgzoo.deblur.DMPHN(levels=(1, 2))
    path = hgzoo.export.export_for_serving(model, tmp_path / "dmphn", version=3)
    assert path.endswith(os.path.join("dmphn", "3")) and os.path.isfile(os.path.join(path, "saved_model.pb"))
    x = photo.astype(np.float32) / 255
    names, served = serve_in_tf_only(path, hgzoo.export.predict_request({"image": x[None]}, fmt), tmp_path)
    assert names == {"inputs": ["image"], "outputs": ["deblurred"]}
    np.testing.assert_allclose(served[0], hgzoo.deblur.deblur(model, x), atol=1e-4)
    meta = json.loads(open(os.path.join(path, "assets.extra", "hgzoo.json")).read())
    assert meta["model_class"] == "DMPHN" and meta["signature"]["inputs"]["image"]["dtype"] == "float32"


def test_uint8_export_with_authors_weights(tmp_path, photo, weights_dir):
    model = hgzoo.deblur.DMPHN(pretrained=True)
    path = hgzoo.export.export_for_serving(model, tmp_path / "m", input_dtype="uint8")
    _, served = serve_in_tf_only(path, hgzoo.export.predict_request({"image": photo[None]}), tmp_path)
    assert served.dtype == np.uint8
    expected = hgzoo.deblur.deblur(model, photo)
    assert np.abs(served[0].astype(int) - expected).max() <= 1
    meta = json.loads(open(os.path.join(path, "assets.extra", "hgzoo.json")).read())
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
