"""Images are never silently wrong: float ranges, float TIFFs, 16-bit colour, EXIF orientation, atomic
writes, clear errors; and the exported deblurring signature takes tiny images and says what is wrong."""

import io
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image, ImageOps

import hgzoo
from hgzoo.data import images
from hgzoo.data.images import read_image, write_image
from hgzoo.errors import InvalidImageError, OutputPathError


def png16(path, array):
    """Write a 16-bit PNG (gray, gray+alpha, RGB or RGBA) byte by byte: Pillow cannot write 16-bit colour."""
    h, w = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    rows = array.astype(">u2").reshape(h, w * channels).view(np.uint8)
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rows], axis=1).tobytes()  # filter 0 on every row

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 16, {1: 0, 2: 4, 3: 2, 4: 6}[channels], 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
                + chunk(b"IEND", b""))


def random16(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 65536, shape).astype(np.uint16)


class Identity:
    """A deblurring 'model' that returns its input: what comes out is what the image pipeline made of it."""

    multiple_of = (4, 4)

    def predict_on_batch(self, x):
        return x


# Silent wrong results --------------------------------------------------------------------------------

def test_float_pixels_in_0_255_are_refused_not_whitened():
    image = np.full((6, 7, 3), 128.0, np.float32)
    with pytest.raises(InvalidImageError, match=r"float pixels must be in \[0, 1\].*128.*divide by 255"):
        hgzoo.deblur.deblur(Identity(), image)


def test_float_pixels_slightly_out_of_range_are_clipped():
    x = np.linspace(-0.05, 1.05, 6 * 7 * 3, dtype=np.float32).reshape(6, 7, 3)
    out = hgzoo.deblur.deblur(Identity(), x)
    np.testing.assert_allclose(out, np.clip(x, 0, 1), atol=1e-6)


def test_float_tiff_is_read_as_float_not_black(tmp_path):
    x = np.random.default_rng(0).random((6, 9)).astype(np.float32)
    Image.fromarray(x).save(tmp_path / "f.tif")
    array = read_image(tmp_path / "f.tif")
    assert array.dtype == np.float32
    np.testing.assert_array_equal(array, x)
    out = hgzoo.deblur.deblur(Identity(), str(tmp_path / "f.tif"))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, x, atol=1e-6)


def test_float_tiff_in_0_255_names_the_file(tmp_path):
    Image.fromarray(np.full((4, 4), 200.0, np.float32)).save(tmp_path / "f255.tif")
    with pytest.raises(InvalidImageError, match="f255.tif: float pixels must be in"):
        hgzoo.deblur.deblur(Identity(), str(tmp_path / "f255.tif"))


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 3), (5, 7, 4)])
def test_16_bit_png_read_with_all_16_bits(tmp_path, shape):
    array = random16(shape)
    png16(tmp_path / "x.png", array)
    read = read_image(tmp_path / "x.png")
    assert read.dtype == np.uint16
    np.testing.assert_array_equal(read, array)


def test_16_bit_gray_alpha_png_read_as_16_bit_rgba(tmp_path):
    array = random16((5, 7, 2))
    png16(tmp_path / "la.png", array)
    read = read_image(tmp_path / "la.png")
    assert read.dtype == np.uint16
    np.testing.assert_array_equal(read, array[..., [0, 0, 0, 1]])


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 3), (5, 7, 4)])
def test_16_bit_png_round_trips_through_write_image(tmp_path, shape):
    array = random16(shape, seed=1)
    write_image(tmp_path / "y.png", array)
    np.testing.assert_array_equal(read_image(tmp_path / "y.png"), array)


def test_16_bit_rgb_stays_16_bit_end_to_end(tmp_path):
    array = random16((6, 10, 3), seed=2)
    png16(tmp_path / "in.png", array)
    out = hgzoo.deblur.deblur(Identity(), str(tmp_path / "in.png"))
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, array)  # identity model: nothing lost on the way
    write_image(tmp_path / "out.png", out)
    np.testing.assert_array_equal(read_image(tmp_path / "out.png"), array)


def test_16_bit_colour_is_never_cut_to_8_bits_on_write(tmp_path):
    with pytest.raises(InvalidImageError, match="16-bit colour.*png"):
        write_image(tmp_path / "x.jpg", random16((4, 4, 3)))
    assert not os.listdir(tmp_path)


def test_floats_are_written_as_16_bit(tmp_path):
    x = np.random.default_rng(3).random((4, 5, 3)).astype(np.float32)
    write_image(tmp_path / "f.png", x)
    np.testing.assert_array_equal(read_image(tmp_path / "f.png"), images.quantise(x, np.uint16))
    with pytest.raises(InvalidImageError, match="float pixels must be in"):
        write_image(tmp_path / "g.png", x * 255)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(tmp_path, orientation):
    pixels = np.random.default_rng(orientation).integers(0, 256, (4, 6, 3)).astype(np.uint8)
    im = Image.fromarray(pixels)
    exif = im.getexif()
    exif[0x0112] = orientation
    im.save(tmp_path / "o.png", exif=exif.tobytes())
    with Image.open(tmp_path / "o.png") as reference:
        expected = np.asarray(ImageOps.exif_transpose(reference))
    read = read_image(tmp_path / "o.png")
    np.testing.assert_array_equal(read, expected)
    assert read.shape[:2] == ((6, 4) if orientation >= 5 else (4, 6))


def test_exif_orientation_applies_to_16_bit_too(tmp_path):
    gray = random16((4, 6), seed=4)
    im = Image.fromarray(gray)
    exif = im.getexif()
    exif[0x0112] = 6  # a phone held upright: rotate 90° clockwise to view
    im.save(tmp_path / "o16.png", exif=exif.tobytes())
    np.testing.assert_array_equal(read_image(tmp_path / "o16.png"), np.rot90(gray, -1))


# Clear errors ----------------------------------------------------------------------------------------

def test_a_folder_is_not_an_image(tmp_path):
    with pytest.raises(InvalidImageError, match="is a folder, not an image file"):
        read_image(tmp_path)


def test_decompression_bomb_is_a_clear_error(tmp_path, monkeypatch):
    Image.fromarray(np.zeros((40, 40), np.uint8)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 1600 pixels is over twice the limit: Pillow refuses
    with pytest.raises(InvalidImageError, match="big.png: .*decompression bomb"):
        read_image(tmp_path / "big.png")


def test_unreadable_file_is_a_clear_error(tmp_path, monkeypatch):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "locked.png")

    def denied(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", os.fspath(path))

    monkeypatch.setattr(images.Image, "open", denied)  # as root, chmod cannot make a file unreadable
    with pytest.raises(InvalidImageError, match="locked.png: permission denied"):
        read_image(tmp_path / "locked.png")


def test_write_into_a_file_or_an_unwritable_folder(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    pixels = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(OutputPathError, match="is a file, not a folder"):
        write_image(tmp_path / "file" / "x.png", pixels)
    with pytest.raises(OutputPathError, match="is a folder"):
        write_image(tmp_path, pixels)
    with pytest.raises(InvalidImageError, match="unknown image extension"):
        write_image(tmp_path / "x.nothing", pixels)
    real_open = io.open

    def denied(path, *args, **kwargs):
        if os.fspath(path).startswith(os.fspath(tmp_path)):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    with monkeypatch.context() as m:  # root ignores chmod, so the denial is simulated
        m.setattr(io, "open", denied)
        with pytest.raises(OutputPathError, match="x.png: permission denied"):
            write_image(tmp_path / "x.png", pixels)
    assert sorted(os.listdir(tmp_path)) == ["file"]


def test_writes_are_atomic(tmp_path, monkeypatch):
    target = tmp_path / "x.png"
    write_image(target, np.zeros((4, 4, 3), np.uint8))
    before = target.read_bytes()

    def killed(src, dst):
        raise KeyboardInterrupt  # the process dies just before the rename

    with monkeypatch.context() as m:
        m.setattr(os, "replace", killed)
        with pytest.raises(KeyboardInterrupt):
            write_image(target, np.full((4, 4, 3), 255, np.uint8))
    assert target.read_bytes() == before  # the old file is whole, and no temporary is left behind
    assert os.listdir(tmp_path) == ["x.png"]


def test_unsupported_write_dtype(tmp_path):
    with pytest.raises(InvalidImageError, match="unsupported dtype"):
        write_image(tmp_path / "x.png", np.zeros((4, 4), np.int64))


# The exported deblurring signature --------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("SavedModel export needs TensorFlow")
    import tensorflow as tf

    model = hgzoo.deblur.DMPHN(levels=(1, 2))  # pads to multiples of (8, 4): more than a 3x5 image holds
    path = hgzoo.export.export_for_serving(model, tmp_path_factory.mktemp("export") / "dmphn")
    return model, path, tf.saved_model.load(path).signatures["serving_default"]


@pytest.mark.parametrize("h,w", [(1, 1), (3, 5), (2, 9)])
def test_exported_signature_takes_images_smaller_than_its_padding(served, h, w):
    import tensorflow as tf

    model, _, fn = served
    x = np.random.default_rng(h * w).random((h, w, 3)).astype(np.float32)
    out = fn(image=tf.constant(x[None]))["deblurred"].numpy()
    assert out.shape == (1, h, w, 3)
    np.testing.assert_allclose(out[0], hgzoo.deblur.deblur(model, x), atol=1e-4)  # padded as deblur() pads


def test_serving_function_says_what_is_wrong_with_the_input(served):
    import tensorflow as tf

    model, _, fn = served
    _, serve = model.serving_signature()
    with pytest.raises(ValueError, match=r"image must be \(B, H, W, 3\) with 3 channels"):
        serve(tf.zeros((1, 8, 8, 4)))
    with pytest.raises(ValueError, match="image must be .*rank 4"):
        serve(tf.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="image must be .*not empty"):
        serve(tf.zeros((1, 0, 8, 3)))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"image \[1,8,8,4\] is not compatible with .*,3\]"):
        fn(image=tf.zeros((1, 8, 8, 4)))


def test_exported_signature_refuses_a_wrong_rank_without_crashing(served):
    """A rank-3 image reached the convolutions, where oneDNN aborted the whole process: check it in a child."""
    code = ("import sys, tensorflow as tf\n"
            "fn = tf.saved_model.load(sys.argv[1]).signatures['serving_default']\n"
            "try:\n    fn(image=tf.zeros((8, 8, 3)))\nexcept tf.errors.InvalidArgumentError as e:\n"
            "    print(e.message)\n")
    result = subprocess.run([sys.executable, "-c", code, served[1]], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "image [8,8,3] is not compatible with expected shape [?,?,?,3]" in result.stdout
