"""Reading clips: video files (PyAV), frame folders, temporal sampling, bad files, batch skip-and-report."""

import numpy as np
import pytest
from PIL import Image

from hgzoo.action import InvalidVideoError, read_clip, read_clip_folder, sample_indices
from hgzoo.action.video import clip_classes_from_folder, read_clips

av = pytest.importorskip("av")


def write_video(path, frames=12, size=(24, 32)):
    """An MPEG-4 video whose frame i is a bright bar at column 2i (what the reading tests look for)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.height, stream.width = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            image = np.zeros((*size, 3), np.uint8)
            image[:, 2 * i:2 * i + 2] = 255
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return str(path)


def write_frames(folder, frames=6, size=(8, 8)):
    folder.mkdir()
    for i in range(frames):
        image = np.full((*size, 3), 40 * i, np.uint8)
        Image.fromarray(image).save(folder / f"{i:04d}.png")
    return str(folder)


def bar_column(frame):
    return int(np.argmax(frame.mean(axis=(0, 2))))


def test_sampling_is_uniform_or_random_within_segments():
    assert sample_indices(12, 4).tolist() == [1, 4, 7, 10]
    random = sample_indices(12, 4, "random", seed=0)
    assert all(3 * i <= j < 3 * (i + 1) for i, j in enumerate(random))
    assert not np.array_equal(sample_indices(120, 8, "random", seed=1), sample_indices(120, 8, "random", seed=2))
    with pytest.raises(InvalidVideoError, match="3 frames, fewer than the 4"):
        sample_indices(3, 4)


def test_video_file_is_decoded_and_sampled(tmp_path):
    path = write_video(tmp_path / "bar.mp4")
    clip = read_clip(path, frames=4)
    assert clip.shape == (4, 24, 32, 3) and clip.dtype == np.uint8
    assert [bar_column(f) for f in clip] == [2 * i for i in sample_indices(12, 4)]
    assert read_clip(path, frames=2, size=(8, 8), channels=1).shape == (2, 8, 8, 1)
    assert read_clip(path).shape[0] == 12


def test_frame_folders(tmp_path):
    folder = write_frames(tmp_path / "clip")
    clip = read_clip_folder(folder, frames=3)
    assert clip.shape == (3, 8, 8, 3) and clip[:, 0, 0, 0].tolist() == [40, 120, 200]


def test_bad_videos_name_the_file(tmp_path):
    (tmp_path / "text.mp4").write_text("not a video")
    (tmp_path / "empty").mkdir()
    mixed = write_frames(tmp_path / "mixed", frames=2)
    Image.fromarray(np.zeros((9, 9, 3), np.uint8)).save(tmp_path / "mixed" / "0009.png")
    short = write_video(tmp_path / "short.mp4", frames=3)
    cases = [(tmp_path / "text.mp4", "text.mp4: cannot be decoded"), (tmp_path / "empty", "holds no images"),
             (mixed, "frames differ in size"), (short, "short.mp4: the clip has 3 frames, fewer than the 8"),
             (tmp_path / "missing.avi", "no such video file")]
    for path, message in cases:
        with pytest.raises(InvalidVideoError, match=message):
            read_clip(path, frames=3 if path == mixed else 8)
    assert read_clip(mixed, size=(4, 4)).shape == (3, 4, 4, 3)  # resizing makes them one size


def test_batches_skip_and_report_bad_files(tmp_path):
    good = write_video(tmp_path / "good.mp4", frames=8)
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 100)
    clips, read, skipped = read_clips([good, str(tmp_path / "bad.mp4")], frames=4, size=(8, 8))
    assert clips.shape == (1, 4, 8, 8, 3) and read == [good]
    assert len(skipped) == 1 and skipped[0][0].endswith("bad.mp4") and "cannot be decoded" in skipped[0][1]


def test_class_folders_become_a_clip_pool(tmp_path):
    for name in ("wave", "jump"):
        (tmp_path / name).mkdir()
        write_video(tmp_path / name / "a.mp4", frames=8)
        write_frames(tmp_path / name / "b", frames=5)
    (tmp_path / "jump" / "broken.avi").write_text("x")
    pool, skipped = clip_classes_from_folder(tmp_path, frames=4, size=(8, 8))
    assert pool.names == ["jump", "wave"] and pool.clip_shape == (4, 8, 8, 3) and len(pool) == 4
    assert [s[0].endswith("broken.avi") for s in skipped] == [True]
