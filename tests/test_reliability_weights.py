"""Weights files and saved configs never load silently into the wrong model, and never fetch."""

import json
import zipfile

import keras
import numpy as np
import pytest

import hgzoo
from hgzoo.errors import HgzooError, InvalidConfigError, WeightsMismatchError, WeightsUnavailableError


@pytest.fixture(scope="module")
def dmphn_124_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "dmphn_1_2_4.weights.h5"
    hgzoo.deblur.DMPHN(levels=(1, 2, 4)).save_weights(path)
    return path


def test_bigger_model_file_is_refused(dmphn_124_file):
    expected = (r"holds 180 weights, the model has 120.*"
                r"only in the file: decoder_lv3, encoder_lv3.*bigger model")
    with pytest.raises(WeightsMismatchError, match=expected):
        hgzoo.deblur.DMPHN(levels=(1, 2), pretrained=str(dmphn_124_file))


def test_smaller_model_file_is_refused(tmp_path):
    path = tmp_path / "dmphn_1.weights.h5"
    hgzoo.deblur.DMPHN(levels=(1,)).save_weights(path)
    with pytest.raises(WeightsMismatchError, match="dmphn_1.weights.h5"):
        hgzoo.deblur.DMPHN(levels=(1, 2), pretrained=path)


def test_other_family_file_is_refused():
    from hgzoo.weights import store

    sosn_file = str(next(iter(store.fetch_preset("sosn_omniglot").values())))  # whichever version is packaged
    with pytest.raises(WeightsMismatchError, match="does not fit this DMPHN: the file holds 52 weights"):
        hgzoo.deblur.DMPHN(levels=(1, 2), pretrained=sosn_file)


def test_stale_converted_cache_is_converted_again(weights_dir):
    """A cached conversion that does not fit (another layout) is redone, never loaded."""
    from hgzoo.weights import manifest, store

    preset = manifest.get("dmphn_1_2_4_gopro")
    path = store.converted_path(preset)
    path.parent.mkdir(parents=True, exist_ok=True)
    hgzoo.deblur.DMPHN(levels=(1,)).save_weights(path)  # intact, but does not fit DMPHN(1, 2, 4)
    (path.parent / f"{path.name}.sha256").write_text(store.sha256_file(path) + "\n")
    model = hgzoo.deblur.DMPHN(pretrained="dmphn_1_2_4_gopro")
    assert model.pretrained_cfg["id"] == "dmphn_1_2_4_gopro"
    assert store.load_converted(preset) is not None  # rewritten by the new conversion
    reloaded = hgzoo.deblur.DMPHN(pretrained="dmphn_1_2_4_gopro")
    np.testing.assert_array_equal(reloaded.get_weights()[0], model.get_weights()[0])


def test_same_counts_other_shapes_are_refused(tmp_path):
    path = tmp_path / "wide.weights.h5"
    model = hgzoo.fewshot.SoSN(image_size=(28, 28), channels=1)
    model.save_weights(path)
    with pytest.raises(WeightsMismatchError, match=r"shape \(3, 3, 1, 64\).*\(3, 3, 3, 64\)"):
        hgzoo.fewshot.SoSN(image_size=(28, 28), channels=3, pretrained=str(path))


def test_matching_file_loads(tmp_path):
    source = hgzoo.deblur.DMPHN(levels=(1, 2))
    path = tmp_path / "same.weights.h5"
    source.save_weights(path)
    model = hgzoo.deblur.DMPHN(levels=(1, 2), pretrained=str(path))
    assert model.pretrained_cfg == {"path": str(path)}
    for a, b in zip(source.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_trained_file_with_optimizer_state_loads(tmp_path):
    source = hgzoo.deblur.DMPHN(levels=(1,))
    source.compile(optimizer="adam", loss="mse")
    x = np.zeros((1, 16, 16, 3), np.float32)
    source.fit(x, x, verbose=0)
    path = tmp_path / "trained.weights.h5"
    source.save_weights(path)
    model = hgzoo.deblur.DMPHN(levels=(1,), pretrained=str(path))
    np.testing.assert_array_equal(model.get_weights()[0], source.get_weights()[0])


@pytest.mark.parametrize("preset", ["dmphn_1_2_synthetic", "sosn_omniglot"])
def test_packaged_presets_still_load(preset):
    model = hgzoo.create_model(preset, pretrained=True)
    assert model.pretrained_cfg["id"] == preset


@pytest.mark.parametrize("missing", ["/no/such/file", "/no/such/file.weights.h5"])
def test_missing_path_is_one_clear_line(missing):
    with pytest.raises(WeightsUnavailableError, match=f"{missing}") as info:
        hgzoo.deblur.DMPHN(levels=(1, 2), pretrained=missing)
    assert "\n" not in str(info.value)


def test_not_an_h5_file_is_one_clear_line(tmp_path):
    path = tmp_path / "notes.weights.h5"
    path.write_text("not hdf5")
    with pytest.raises(HgzooError, match="notes.weights.h5.*not a Keras .weights.h5") as info:
        hgzoo.deblur.DMPHN(levels=(1,), pretrained=str(path))
    assert "\n" not in str(info.value)


def _with_config(saved, target, **extra):
    """A copy of the .keras archive ``saved`` whose model config has ``extra`` keys added."""
    with zipfile.ZipFile(saved) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                config["config"].update(extra)
                data = json.dumps(config).encode()
            dst.writestr(item, data)
    return target


@pytest.mark.parametrize("pretrained", [True, "dmphn_1_2_synthetic", "/tmp/x.weights.h5"])
def test_saved_config_cannot_ask_for_pretrained(tmp_path, monkeypatch, pretrained):
    from hgzoo.weights import store

    saved = tmp_path / "model.keras"
    hgzoo.deblur.DMPHN(levels=(1, 2)).save(saved)  # a packaged preset's levels: pretrained=True would fetch
    edited = _with_config(saved, tmp_path / "edited.keras", pretrained=pretrained)

    def no_fetch(*args, **kwargs):
        raise AssertionError("loading a saved model tried to fetch weights")

    monkeypatch.setattr(store, "fetch", no_fetch)
    monkeypatch.setenv("HGZOO_OFFLINE", "1")
    with pytest.raises(InvalidConfigError, match="pretrained"):
        keras.saving.load_model(edited)


def test_saved_config_cannot_ask_for_init_from(tmp_path, monkeypatch):
    from hgzoo.weights import store

    saved = tmp_path / "model.keras"
    hgzoo.deblur.EventMPN(levels=(1, 2)).save(saved)
    edited = _with_config(saved, tmp_path / "edited.keras", init_from="dmphn_1_2_synthetic")
    monkeypatch.setattr(store, "fetch", lambda *a, **k: pytest.fail("loading a saved model tried to fetch weights"))
    with pytest.raises(InvalidConfigError, match="init_from"):
        keras.saving.load_model(edited)


def test_saved_model_still_loads(tmp_path):
    saved = tmp_path / "model.keras"
    hgzoo.deblur.DMPHN(levels=(1,)).save(saved)
    assert keras.saving.load_model(saved).pretrained_cfg is None
