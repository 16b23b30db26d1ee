"""Pixel-4 reader (real captures), RGB-D sources and the simulated tf.data pipeline."""

import numpy as np
import pytest
from PIL import Image

from hgzoo.dualpixel import read_pixel4_scene, read_pixel4_view
from hgzoo.dualpixel.data import dual_pixel_dataset, motorcycle, rgbd_folder
from hgzoo.dualpixel.losses import radius_from_disparity


def test_pixel4_scene_reads_normalised_green_views(shared_data):
    left, right = read_pixel4_scene(shared_data / "dualpixel" / "pixel4", "001")
    assert left.shape == right.shape == (1512, 2016) and left.dtype == np.float32
    assert 0.0 <= left.min() and left.max() <= 1.0
    raw = np.asarray(Image.open(shared_data / "dualpixel" / "pixel4" / "001_left.png"), np.float64)
    np.testing.assert_allclose(left[::97, ::89], np.clip((raw[::97, ::89] - 1024) / 15359, 0, 1), rtol=1e-6)


def test_pixel4_reader_refuses_8_bit_and_mismatched_views(tmp_path):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "eight.png")
    with pytest.raises(ValueError, match="16-bit"):
        read_pixel4_view(tmp_path / "eight.png")
    Image.fromarray(np.full((4, 4), 2000, np.uint16)).save(tmp_path / "s_left.png")
    Image.fromarray(np.full((4, 6), 2000, np.uint16)).save(tmp_path / "s_right.png")
    with pytest.raises(ValueError, match="differ in size"):
        read_pixel4_scene(tmp_path, "s")


def test_rgbd_folder_and_pipeline(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((80, 72, 3)) * 255).astype(np.uint8)).save(tmp_path / "a.png")
    depth = np.full((80, 72), 2.0)
    depth[:, 36:] = 4.0
    depth[0, 0] = 0.0  # a hole: filled from its neighbours
    np.save(tmp_path / "a_depth.npy", depth)
    (image, filled), = rgbd_folder(tmp_path)
    assert image.shape == (80, 72, 3) and filled.min() == pytest.approx(2.0)
    (left, right), target = next(iter(dual_pixel_dataset([(image, filled)], crop=64, batch_size=2)))
    assert left.shape == (2, 64, 64, 3) and target.shape == (2, 64, 64, 4)
    radius = np.asarray(radius_from_disparity(target[..., 3]))
    assert radius.min() < 0 < radius.max()  # focus lies between the two planes
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "b.png")
    with pytest.raises(ValueError, match="b_depth"):
        rgbd_folder(tmp_path)


def test_motorcycle_depth_is_metric_and_complete():
    image, depth = motorcycle((1.0, 4.0))
    assert image.shape[:2] == depth.shape and np.isfinite(depth).all()
    assert depth.min() == pytest.approx(1.0, rel=1e-4) and depth.max() == pytest.approx(4.0, rel=1e-4)


def test_cli_simulate_writes_views(tmp_path):
    from hgzoo.cli.main import build_parser

    Image.fromarray((np.random.default_rng(0).random((24, 24, 3)) * 255).astype(np.uint8)).save(tmp_path / "p.png")
    depth = np.full((24, 24), 1.5)
    depth[:, 12:] = 3.0
    np.save(tmp_path / "d.npy", depth)
    args = build_parser().parse_args(["dualpixel", "simulate", str(tmp_path / "p.png"), str(tmp_path / "d.npy"),
                                      "--focus", "2", "-o", str(tmp_path / "out")])
    args.func(args)
    left = np.asarray(Image.open(tmp_path / "out" / "left.png"))
    right = np.asarray(Image.open(tmp_path / "out" / "right.png"))
    radius = np.load(tmp_path / "out" / "blur_radius.npy")
    assert left.shape == right.shape == (24, 24, 3) and not np.array_equal(left, right)
    assert radius[:, 0].max() < 0 < radius[:, -1].min()
