"""The authors' weights, converted locally, reproduce the authors' published outputs.

Official PNGs were written by truncation; hgzoo quantises with round-half-up,
so up to 1 level of difference per value is expected from quantisation alone.
"""

import numpy as np
import pytest
from PIL import Image

import hgzoo
from hgzoo.data.images import quantise
from hgzoo.metrics import psnr as tensor_psnr


def read(path):
    return np.asarray(Image.open(path).convert("RGB")).astype(np.float64)


def psnr(a, b):
    return float(tensor_psnr(a, b, max_value=255))


@pytest.fixture(scope="module")
def frame1(dmphn_mirror):
    return np.asarray(Image.open(dmphn_mirror / "test_samples/000001.png").convert("RGB"))


CASES = [("dmphn_1_2_4_gopro", "DMPHN_1_2_4"), ("stack_mpn_4_gopro", "SDNet4"),
         ("dmphn_1_2_4_8_gopro", "DMPHN_1_2_4_8")]


@pytest.mark.parametrize("preset,folder", CASES)
def test_official_outputs_reproduced(preset, folder, frame1, weights_dir, shared_data):
    model = hgzoo.create_model(preset, pretrained=True)
    assert model.pretrained_cfg["id"] == preset
    y = np.asarray(model.predict_on_batch(frame1[None].astype(np.float32) / 255))[0]
    ours = quantise(y).astype(np.float64)
    official = read(weights_dir / f"test_results/{folder}/000001.png")
    diff = np.abs(ours - official)
    assert psnr(ours, official) >= 48.0
    if preset == "dmphn_1_2_4_8_gopro":  # the published 1-2-4-8 PNGs came from slightly other numerics
        assert (diff <= 2).mean() >= 0.999
    else:
        assert diff.max() <= 2
        truncated = np.floor(np.clip(y * 255, 0, 255))  # the authors' own quantisation
        assert np.abs(truncated - official).max() <= 1
    sharp = read(shared_data / "gopro/Istanbul_sharp1.png")
    assert abs(psnr(ours, sharp) - psnr(official, sharp)) <= 0.05


def test_conversion_is_cached_and_reused(frame1, weights_dir, monkeypatch):
    first = hgzoo.deblur.DMPHN(pretrained=True)  # converts (or reuses) into HGZOO_HOME
    monkeypatch.setitem(hgzoo.deblur.DMPHN.converters, "dmphn_torch", (1, _must_not_convert))
    monkeypatch.delenv("HGZOO_WEIGHTS_DIR")  # a cache hit needs neither the source files nor network
    second = hgzoo.deblur.DMPHN(pretrained=True)
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)


def _must_not_convert(model, files):
    raise AssertionError("converted again despite a cached conversion")


def test_pretrained_model_saves_and_reloads_without_downloading(tmp_path, weights_dir, monkeypatch):
    import keras

    model = hgzoo.deblur.DMPHN(pretrained=True)
    model.save(tmp_path / "m.keras")
    monkeypatch.delenv("HGZOO_WEIGHTS_DIR")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(0).random((1, 16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)
