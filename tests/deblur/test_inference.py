"""hgzoo.deblur.deblur: dtypes, channels, sizes, tiling, and clear errors."""

import keras
import numpy as np
import pytest
from PIL import Image

import hgzoo
from hgzoo.data.images import quantise
from hgzoo.errors import InvalidImageError

pytestmark = pytest.mark.jax  # backend-agnostic: CI runs this file under JAX too


class PointwiseModel(keras.Model):
    """y = 0.5·x + 0.1 with a multiple-of constraint: tiling must be exact with it."""

    multiple_of = (8, 8)

    def __init__(self):
        inp = keras.Input((None, None, 3))
        super().__init__(inp, keras.layers.Rescaling(0.5, offset=0.1)(inp))


@pytest.fixture(scope="module")
def dmphn1():
    return hgzoo.deblur.DMPHN(levels=(1,))


@pytest.mark.parametrize("shape,dtype", [((30, 41), np.uint8), ((30, 41, 1), np.uint8), ((30, 41, 3), np.uint16),
                                         ((17, 9, 4), np.uint8), ((30, 41, 3), np.float32)])
def test_layouts_and_dtypes_round_trip(dmphn1, shape, dtype):
    rng = np.random.default_rng(0)
    top = {np.uint8: 255, np.uint16: 65535}.get(dtype, 1)
    image = (rng.random(shape) * top).astype(dtype)
    out = hgzoo.deblur.deblur(dmphn1, image)
    assert out.shape == image.shape and out.dtype == image.dtype
    if shape[-1:] == (4,):
        np.testing.assert_array_equal(out[..., 3], image[..., 3])  # alpha kept


def test_padding_crops_back_exactly():
    x = np.random.default_rng(1).random((13, 21, 3)).astype(np.float32)
    out = hgzoo.deblur.deblur(PointwiseModel(), x)
    np.testing.assert_allclose(out, np.clip(0.5 * x + 0.1, 0, 1), atol=1e-6)


@pytest.mark.parametrize("tile,overlap", [(64, 8), (48, 16), (200, 8)])
def test_tiles_stitch_exactly(tile, overlap):
    x = np.random.default_rng(2).random((100, 130, 3)).astype(np.float32)
    whole = hgzoo.deblur.deblur(PointwiseModel(), x, tile=None)
    tiled = hgzoo.deblur.deblur(PointwiseModel(), x, tile=tile, overlap=overlap)
    np.testing.assert_allclose(tiled, whole, atol=1e-6)


def test_tiled_dmphn_close_to_whole_frame(dmphn1):
    """Seams stay below half an 8-bit level: 24 px of overlap covers what a tile border changes."""
    from hgzoo.deblur.demo import sample_paths

    x = np.asarray(Image.open(sample_paths()[0]).convert("RGB"), np.float32)[:128, :192] / 255
    whole = hgzoo.deblur.deblur(dmphn1, x, tile=None)
    tiled = hgzoo.deblur.deblur(dmphn1, x, tile=96, overlap=24)
    assert tiled.shape == whole.shape
    diff = np.abs(tiled - whole)
    assert diff.max() <= 2e-3 and diff.mean() <= 1e-4, (diff.max(), diff.mean())


def test_quantise_rounds_half_up():
    np.testing.assert_array_equal(quantise(np.array([0.5 / 255, 1.49 / 255, -1, 2.0])), [1, 1, 0, 255])


def test_files_in_and_bad_files_named(tmp_path, dmphn1):
    good = tmp_path / "good.png"
    Image.fromarray(np.zeros((12, 20, 3), np.uint8)).save(good)
    assert hgzoo.deblur.deblur(dmphn1, str(good)).shape == (12, 20, 3)
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(InvalidImageError, match="empty.png: the file is empty"):
        hgzoo.deblur.deblur(dmphn1, str(tmp_path / "empty.png"))
    with pytest.raises(InvalidImageError, match="text.png: not a readable image"):
        hgzoo.deblur.deblur(dmphn1, str(tmp_path / "text.png"))
    with pytest.raises(InvalidImageError, match="no such file"):
        hgzoo.deblur.deblur(dmphn1, str(tmp_path / "missing.png"))


@pytest.mark.parametrize("array,message", [
    (np.zeros((5, 5, 5), np.uint8), "got shape"),
    (np.zeros((5, 5, 3), np.int64), "unsupported dtype"),
    (np.full((5, 5, 3), np.nan, np.float32), "NaN"),
    (np.zeros((0, 5, 3), np.uint8), "empty"),
])
def test_bad_arrays(dmphn1, array, message):
    with pytest.raises(InvalidImageError, match=message):
        hgzoo.deblur.deblur(dmphn1, array)


def test_absurd_size_is_refused_before_any_work(dmphn1, monkeypatch):
    monkeypatch.setattr("hgzoo.data.images.MAX_PIXELS", 100)
    with pytest.raises(InvalidImageError, match="over 100 pixels"):
        hgzoo.deblur.deblur(dmphn1, np.zeros((20, 20, 3), np.uint8))


def test_tile_too_small(dmphn1):
    with pytest.raises(ValueError, match="too small"):
        hgzoo.deblur.deblur(dmphn1, np.zeros((40, 40, 3), np.uint8), tile=16, overlap=8)
