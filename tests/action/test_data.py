"""Class splits (ARN's UCF101 lists with their typos mapped, hgzoo's HMDB51 split), tfds builders on fake
trees of the real layouts, and the real-image motion clips."""

import numpy as np
import pytest

from hgzoo.action.data import splits
from hgzoo.action.data.motion import MOTIONS, TEST_MOTIONS, TRAIN_MOTIONS, motion_clip_classes


def test_ucf101_arn_lists_map_onto_the_release_classes():
    published = [n for names in splits.UCF101_ARN_AS_PUBLISHED.values() for n in names]
    assert [len(v) for v in splits.UCF101_ARN_AS_PUBLISHED.values()] == [70, 10, 21]
    assert {"Bal-anceBeam", "Mop-pingFloow", "HorseR-ace"} <= set(published)  # the PDF typos the issue names
    real = [n for names in splits.UCF101_ARN.values() for n in names]
    assert sorted(real) == sorted(splits.UCF101_CLASSES) and len(set(splits.UCF101_CLASSES)) == 101
    assert set(splits.UCF101_TYPOS) <= set(published)  # no dead entries in the table
    assert not set(splits.UCF101_TYPOS.values()) & set(published)
    assert splits.UCF101_ARN["train"][splits.UCF101_ARN_AS_PUBLISHED["train"].index("Mop-pingFloow")] == "MoppingFloor"


def test_hmdb51_split_is_disjoint_and_complete():
    parts = [set(splits.HMDB51_SPLIT[k]) for k in ("train", "val", "test")]
    assert len(splits.HMDB51_CLASSES) == 51 and set.union(*parts) == set(splits.HMDB51_CLASSES)
    assert sum(len(p) for p in parts) == 51
    assert splits.HMDB51_SPLIT["test"][0] == sorted(splits.HMDB51_CLASSES)[2]


def test_motion_classes_are_disjoint_and_only_motion_tells_them_apart():
    assert not set(TRAIN_MOTIONS) & set(TEST_MOTIONS) and set(TRAIN_MOTIONS) | set(TEST_MOTIONS) == set(MOTIONS)
    digits = np.zeros((10, 28, 28), np.uint8)
    digits[:, 8:20, 12:16] = 255
    motions = ["right", "left", "circle_ccw", "bounce_horizontal", "zoom_out"]
    pool = motion_clip_classes(digits, motions, clips_per_class=6, frames=8, size=32, seed=0)
    right, left = (c[..., 0].astype(float) for c in pool.images[:2])

    def centre_x(clips):
        columns = clips.sum(axis=2)  # (n, T, W)
        return (columns * np.arange(32)).sum(-1) / np.maximum(columns.sum(-1), 1)

    assert (np.diff(centre_x(right), axis=1) > 0).mean() > 0.9 and (np.diff(centre_x(left), axis=1) < 0).mean() > 0.9
    # the middle frame (the one a single-frame model sees): the object at the centre, up to the per-clip
    # jitter, at the same size, whatever the motion; the crossing classes (two objects) are meta-train only
    middles = [c[:, 4, ..., 0].astype(float) for c in pool.images]
    for clips in middles:
        assert abs(centre_x(clips[:, None])[:, 0].mean() - centre_x(middles[0][:, None])[:, 0].mean()) < 1.5
        assert abs((clips > 127).sum((1, 2)).mean() - (middles[0] > 127).sum((1, 2)).mean()) < 6
    assert not {"cross_horizontal", "cross_vertical"} & set(TEST_MOTIONS)


def _fake_tree(root, classes, write):
    for name in classes:
        (root / name).mkdir(parents=True)
        write(root / name / f"v_{name}_g01_c01.avi")


@pytest.mark.parametrize("dataset", ["ucf101", "hmdb51"])
def test_tfds_builders_read_a_fake_tree(tmp_path, dataset):
    tfds = pytest.importorskip("tensorflow_datasets")
    av = pytest.importorskip("av")
    from hgzoo.action.data import tfds_builders

    def write(path):
        with av.open(str(path), "w") as container:
            stream = container.add_stream("mpeg4", rate=10)
            stream.height, stream.width, stream.pix_fmt = 16, 16, "yuv420p"
            for i in range(5):
                frame = np.full((16, 16, 3), 20 * i, np.uint8)
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            container.mux(stream.encode())

    if dataset == "ucf101":
        base, classes, root = tfds_builders.Ucf101FewShot, splits.UCF101_CLASSES, tmp_path / "manual" / "UCF-101"
    else:
        base, classes, root = tfds_builders.Hmdb51FewShot, splits.HMDB51_CLASSES, tmp_path / "manual"
    _fake_tree(root, classes, write)
    (root / classes[0] / "broken.avi").write_text("not a video")  # skipped, not fatal

    class Small(base, skip_registration=True):
        FRAMES, SIZE = 4, (8, 8)

    builder = Small(data_dir=str(tmp_path / "tfds"))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(tmp_path / "manual")))
    expected = splits.UCF101_ARN if dataset == "ucf101" else splits.HMDB51_SPLIT
    for split in ("train", "val", "test"):
        examples = list(tfds.as_numpy(builder.as_dataset(split=split)))
        assert sorted(e["label"].decode() for e in examples) == sorted(expected[split])
        assert examples[0]["video"].shape == (4, 8, 8, 3)


def test_tfds_builder_names_missing_classes(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    from hgzoo.action.data.tfds_builders import Ucf101FewShot

    (tmp_path / "UCF-101" / "ApplyEyeMakeup").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="class folders .*'Archery'"):
        Ucf101FewShot(data_dir=str(tmp_path / "tfds")).download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=str(tmp_path)))
