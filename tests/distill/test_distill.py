"""The distillation loop: real initialisation, resuming, atomic checkpoints, bad input, the saved set, evaluation."""

import os
from pathlib import Path

import numpy as np
import pytest

from hgzoo.data.images import read_image
from hgzoo.distill import DistilledSet, distill, evaluate_synthetic, standardise
from hgzoo.distill.data import load_image_folder
from hgzoo.errors import InvalidImageError, ResumeError

TINY = {"real_batch": 6, "width": 4, "depth": 2, "pool_size": 1, "pool_epochs": 1, "progress": False}


def dataset(n_per_class=8, classes=3, size=8, seed=0):
    x = np.random.default_rng(seed).integers(0, 256, (n_per_class * classes, size, size, 3), dtype=np.uint8)
    return x, np.repeat(np.arange(classes), n_per_class)


def test_synthetic_images_start_as_real_images_of_their_class_and_move():
    x, y = dataset()
    start = distill(x, y, images_per_class=2, iterations=0, method="dm", **TINY)
    real = standardise(x, start.mean, start.std)
    for image, label in zip(start.images, start.labels):
        assert any(np.allclose(image, r) for r in real[y == label])
    moved = distill(x, y, images_per_class=2, iterations=3, method="iid", **TINY)
    assert not np.allclose(moved.images, start.images)
    assert [h["iteration"] for h in moved.history] == [1, 2, 3]


def test_resumed_run_equals_an_uninterrupted_one(tmp_path):
    x, y = dataset()
    straight = distill(x, y, images_per_class=2, iterations=4, method="iid", **TINY)
    checkpoint = str(tmp_path / "checkpoint.npz")
    half = distill(x, y, images_per_class=2, iterations=2, method="iid", checkpoint=checkpoint, **TINY)
    assert half.iteration == 2 and DistilledSet.load(checkpoint).iteration == 2
    resumed = distill(x, y, images_per_class=2, iterations=4, method="iid", checkpoint=checkpoint, **TINY)
    assert resumed.iteration == 4 and len(resumed.history) == 4
    np.testing.assert_allclose(resumed.images, straight.images, atol=1e-5)


def test_a_failed_write_keeps_the_good_checkpoint(tmp_path, monkeypatch):
    x, y = dataset()
    checkpoint = str(tmp_path / "checkpoint.npz")
    distill(x, y, images_per_class=1, iterations=1, method="dm", checkpoint=checkpoint, **TINY)
    good = Path(checkpoint).read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        distill(x, y, images_per_class=1, iterations=2, method="dm", checkpoint=checkpoint, **TINY)
    assert Path(checkpoint).read_bytes() == good
    assert os.listdir(tmp_path) == ["checkpoint.npz"]


def test_corrupt_or_foreign_checkpoints_are_refused(tmp_path):
    x, y = dataset()
    checkpoint = tmp_path / "checkpoint.npz"
    distill(x, y, images_per_class=1, iterations=1, method="dm", checkpoint=str(checkpoint), **TINY)
    with pytest.raises(ResumeError, match="another setting"):
        distill(x, y, images_per_class=2, iterations=2, method="dm", checkpoint=str(checkpoint), **TINY)
    checkpoint.write_bytes(checkpoint.read_bytes()[:200])
    with pytest.raises(ResumeError, match="corrupt or truncated"):
        distill(x, y, images_per_class=1, iterations=2, method="dm", checkpoint=str(checkpoint), **TINY)
    np.savez(tmp_path / "other.npz", weights=np.ones(3))
    with pytest.raises(ResumeError, match="not a distilled set"):
        DistilledSet.load(tmp_path / "other.npz")


@pytest.mark.parametrize("change,message", [
    ({"images_per_class": 0}, "images_per_class must be a positive"),
    ({"images_per_class": -1}, "images_per_class must be a positive"),
    ({"real_batch": 9}, "class 0 has 8 real images, fewer than real_batch=9"),
    ({"labels": np.repeat(np.arange(3), 8)[:-1]}, "one integer per image"),
    ({"images": [np.zeros((8, 8, 3), np.uint8)] * 23 + [np.zeros((9, 8, 3), np.uint8)]}, "mixed sizes"),
    ({"images": np.full((24, 8, 8, 3), 200.0)}, r"in \[0, 1\]"),
    ({"method": "mtt"}, "method must be one of"),
])
def test_bad_input_is_refused_clearly(change, message):
    x, y = dataset()
    kwargs = {"images": x, "labels": y, "images_per_class": 1, "iterations": 1, **TINY, **change}
    with pytest.raises(ValueError, match=message):
        distill(**kwargs)


def test_saved_set_has_the_npz_and_one_grid_per_class(tmp_path):
    x, y = dataset()
    result = distill(x, y, images_per_class=2, iterations=1, method="dm", class_names=["a", "b", "c"], **TINY)
    path = result.save(str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["class_00_a.png", "class_01_b.png", "class_02_c.png", "distilled.npz"]
    loaded = DistilledSet.load(path)
    np.testing.assert_array_equal(loaded.images, result.images)
    np.testing.assert_array_equal(loaded.pixels(), result.pixels())
    assert read_image(str(tmp_path / "class_01_b.png")).shape == (8, 18, 3)  # two 8×8 images, 2-pixel gap


def test_evaluation_learns_a_separable_synthetic_set():
    # Class 0 bright on the left, class 1 on the right (instance norm removes plain brightness, not layout):
    # a net trained on 2 images of each must beat chance on held-out images.
    rng = np.random.default_rng(0)

    def make(n):
        x = rng.normal(0, 0.3, (2 * n, 16, 16, 3))
        x[:n, :, :8] += 2.0
        x[n:, :, 8:] += 2.0
        return x.astype("float32")

    result = evaluate_synthetic(make(2), [0, 0, 1, 1], make(20), np.repeat([0, 1], 20), epochs=20, runs=2, width=4,
                                dsa=False, num_classes=2, lr=0.05)
    assert result["mean"] > 0.9 and len(result["accuracies"]) == 2
    with pytest.raises(ValueError, match="architecture"):
        evaluate_synthetic(make(2), [0, 0, 1, 1], make(2), [0, 0, 1, 1], architecture="alexnet", epochs=1)


def test_image_folder_reader(tmp_path):
    from PIL import Image

    for name, size in (("cat", 8), ("dog", 8)):
        os.makedirs(tmp_path / name)
        for i in range(3):
            Image.fromarray(np.full((size, size, 3), 40 * i, np.uint8)).save(tmp_path / name / f"{i}.png")
    images, labels, names = load_image_folder(str(tmp_path), per_class=2)
    assert images.shape == (4, 8, 8, 3) and labels.tolist() == [0, 0, 1, 1] and names == ["cat", "dog"]
    Image.fromarray(np.zeros((9, 8, 3), np.uint8)).save(tmp_path / "dog" / "odd.png")
    with pytest.raises(InvalidImageError, match="mixed sizes"):
        load_image_folder(str(tmp_path))
