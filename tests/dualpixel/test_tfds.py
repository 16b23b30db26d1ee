"""tfds builders (manual download) for NYU-v2's labelled .mat and DPDD's folders, on tiny fake trees."""

import numpy as np
import pytest

tfds = pytest.importorskip("tensorflow_datasets")
h5py = pytest.importorskip("h5py")

from hgzoo.dualpixel.data import tfds_builders  # noqa: E402


def _prepare(builder_class, tmp_path, manual):
    builder = builder_class(data_dir=str(tmp_path / "tfds"))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))
    return builder


def test_nyu_builder_reads_the_labelled_mat_in_image_layout(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (3, 3, 8, 6), dtype=np.uint8)  # MATLAB (N, 3, W, H) as h5py sees it
    depths = rng.uniform(0.5, 9.0, (3, 8, 6)).astype(np.float32)
    with h5py.File(tmp_path / "nyu_depth_v2_labeled.mat", "w") as f:
        f["images"], f["depths"] = images, depths

    class Small(tfds_builders.NyuDepthV2Labeled, skip_registration=True):
        SPLITS = {"train": (0, 2), "test": (2, None)}

    builder = _prepare(Small, tmp_path, tmp_path)
    train = list(tfds.as_numpy(builder.as_dataset(split="train")))
    (test,) = tfds.as_numpy(builder.as_dataset(split="test"))
    assert sorted(e["index"] for e in train) == [1, 2] and test["index"] == 3
    assert test["image"].shape == (6, 8, 3) and test["depth"].shape == (6, 8)
    np.testing.assert_array_equal(test["image"][4, 7], images[2, :, 7, 4])
    np.testing.assert_allclose(test["depth"], depths[2].T)


def test_dpdd_builder_pairs_the_four_folders_and_names_what_is_missing(tmp_path):
    import tensorflow as tf

    root = tmp_path / "dd_dp_dataset_canon"
    for split in ("train", "val", "test"):
        for sub, value in (("_c/source", 1000), ("_c/target", 2000), ("_l/source", 3000), ("_r/source", 4000)):
            (root / (split + sub)).mkdir(parents=True)
            image = tf.fill((4, 6, 3), tf.constant(value, tf.uint16))
            tf.io.write_file(str(root / (split + sub) / f"1P0A{value}.png"), tf.io.encode_png(image))
    (example,) = tfds.as_numpy(_prepare(tfds_builders.DualPixelDefocusDeblurring, tmp_path, tmp_path)
                               .as_dataset(split="val"))
    assert example["left"].dtype == np.uint16 and example["left"].shape == (4, 6, 3)
    assert [int(example[k][0, 0, 0]) for k in ("combined", "target", "left", "right")] == [1000, 2000, 3000, 4000]
    (root / "test_r" / "source" / "1P0A4000.png").unlink()
    (root / "test_r" / "source" / "extra.txt").write_text("")
    with pytest.raises(ValueError, match="different numbers of images"):
        _prepare(tfds_builders.DualPixelDefocusDeblurring, tmp_path / "again", tmp_path)
