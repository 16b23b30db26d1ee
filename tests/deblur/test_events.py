"""The event simulator against hand-computed events, voxel grids, event files, event-blur triples."""

import numpy as np
import pytest

from hgzoo.deblur.data.events import (EventStream, read_events, render_event_blur, simulate_events, voxel_grid,
                               write_events)
from hgzoo.errors import InvalidEventsError


def pixel_sequence(logs, size=(1, 1)):
    return np.exp(np.asarray(logs, np.float64))[:, None, None] * np.ones(size)


def test_one_pixel_up_then_down():
    # log I: 0 -> 0.5 (t 0..1) -> 0.1 (t 1..2), C = 0.2.
    # Up: levels 0.2 and 0.4 crossed at t = 0.4, 0.8; the reference ends at 0.4.
    # Down from 0.5 to 0.1: level 0.4 - 0.2 = 0.2 crossed at t = 1 + (0.2 - 0.5) / (0.1 - 0.5) = 1.75;
    # the next level, 0.0, is below 0.1: no second event.
    events = simulate_events(pixel_sequence([0.0, 0.5, 0.1]), [0.0, 1.0, 2.0], 0.2, log_eps=0.0)
    assert events.p.tolist() == [1, 1, -1]
    np.testing.assert_allclose(events.t, [0.4, 0.8, 1.75])
    assert events.x.tolist() == [0, 0, 0] and events.y.tolist() == [0, 0, 0]


def test_counts_per_pixel_are_floor_of_log_change_over_threshold():
    end = np.array([[0.05, 0.25], [-0.65, 0.61]])  # |Δ log| / 0.2 -> 0, 1, 3, 3 events
    frames = np.exp(np.stack([np.zeros((2, 2)), end]))
    events = simulate_events(frames, [0.0, 1.0], 0.2, log_eps=0.0)
    counts = np.zeros((2, 2), int)
    np.add.at(counts, (events.y, events.x), events.p)
    assert counts.tolist() == [[0, 1], [-3, 3]]
    assert np.all(np.diff(events.t) >= 0)


def test_refractory_period_drops_events_too_close_to_the_last_kept_one():
    # log 0 -> 1 over one second: five events at 0.2, 0.4, ..., 1.0; a 0.3 s refractory period keeps 0.2, 0.6, 1.0.
    events = simulate_events(pixel_sequence([0.0, 1.0]), [0.0, 1.0], 0.2, refractory_period=0.3, log_eps=0.0)
    np.testing.assert_allclose(events.t, [0.2, 0.6, 1.0])


def test_threshold_noise_varies_per_pixel_around_the_mean():
    frames = pixel_sequence([0.0, 2.0], size=(40, 40))
    counts = np.zeros((40, 40), int)
    events = simulate_events(frames, [0.0, 1.0], 0.2, threshold_sigma=0.04, rng=np.random.default_rng(0), log_eps=0.0)
    np.add.at(counts, (events.y, events.x), 1)
    assert counts.min() < 10 < counts.max()  # 2.0 / 0.2 = 10 without noise
    assert abs(counts.mean() - 10) < 1


def test_black_pixels_stay_finite_and_no_change_gives_no_events():
    frames = np.zeros((3, 4, 4))
    assert len(simulate_events(frames, [0, 1, 2], 0.2)) == 0
    frames[2, 1, 1] = 1.0  # from black to white: log(1 + eps) - log(eps) ≈ 6.9
    assert len(simulate_events(frames, [0, 1, 2], 0.5)) == 13


@pytest.mark.parametrize("kwargs, message", [
    ({"frames": np.ones((1, 2, 2)), "timestamps": [0.0]}, "T >= 2"),
    ({"frames": np.ones((2, 2, 2)), "timestamps": [1.0, 1.0]}, "strictly increasing"),
    ({"frames": np.ones((2, 2, 2)), "timestamps": [0.0, 1.0], "contrast_threshold": 0}, "positive"),
])
def test_simulator_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate_events(**kwargs)


def test_voxel_grid_splits_events_linearly_between_bins():
    stream = EventStream([0, 0, 1], [0, 0, 0], [0.0, 0.25, 1.0], [1, -1, 1], height=1, width=2)
    grid = voxel_grid(stream, bins=3, t_start=0.0, t_end=1.0)
    # t = 0.25 sits halfway between bins 0 and 1.
    np.testing.assert_allclose(grid[0, 0], [1 - 0.5, -0.5, 0.0])
    np.testing.assert_allclose(grid[0, 1], [0.0, 0.0, 1.0])
    assert grid.dtype == np.float32 and voxel_grid(stream, 4).shape == (1, 2, 4)


def test_event_files_round_trip_and_errors(tmp_path):
    stream = simulate_events(pixel_sequence([0.0, 0.7, 0.0], size=(3, 5)), [0.0, 0.5, 1.0], 0.2)
    path = write_events(tmp_path / "events.npz", stream)
    back = read_events(path)
    assert (back.height, back.width, len(back)) == (3, 5, len(stream))
    np.testing.assert_array_equal(back.t, stream.t)

    import h5py

    with h5py.File(tmp_path / "events.h5", "w") as f:
        group = f.create_group("events")
        for name, values in (("x", [2, 0]), ("y", [1, 0]), ("t", [0.5, 0.1]), ("p", [1, 0])):
            group[name] = np.asarray(values)
    h5 = read_events(tmp_path / "events.h5", polarity01=True)
    assert h5.t.tolist() == [0.1, 0.5] and h5.p.tolist() == [-1, 1] and (h5.height, h5.width) == (2, 3)

    def npz(name, **arrays):
        np.savez(tmp_path / name, **arrays)
        return tmp_path / name

    with pytest.raises(InvalidEventsError, match=r"lacks the event array\(s\) \['p'\]"):
        read_events(npz("a.npz", x=[0], y=[0], t=[0.0]))
    with pytest.raises(InvalidEventsError, match="different lengths"):
        read_events(npz("b.npz", x=[0, 1], y=[0], t=[0.0], p=[1]))
    with pytest.raises(InvalidEventsError, match="polarities must be -1 or \\+1"):
        read_events(npz("c.npz", x=[0], y=[0], t=[0.0], p=[2]))
    with pytest.raises(InvalidEventsError, match="outside the 2x2 sensor"):
        read_events(npz("d.npz", x=[5], y=[0], t=[0.0], p=[1]), height=2, width=2)
    with pytest.raises(InvalidEventsError, match="unknown event file type"):
        read_events(_touch(tmp_path / "e.txt"))
    with pytest.raises(InvalidEventsError, match="not a readable"):
        read_events(_touch(tmp_path / "broken.npz", b"garbage"))


def _touch(path, content=b""):
    path.write_bytes(content)
    return path


def test_render_event_blur_triples():
    rng = np.random.default_rng(0)
    photo = np.random.default_rng(1).random((200, 220, 3)).astype(np.float32)
    blurry, voxels, sharp = render_event_blur(rng, photo, crop=64, bins=5)
    assert blurry.shape == sharp.shape == (64, 64, 3) and voxels.shape == (64, 64, 5)
    assert np.abs(voxels).sum() > 0 and np.abs(blurry - sharp).mean() > 0.01
    again = render_event_blur(np.random.default_rng(0), photo, crop=64, bins=5)
    np.testing.assert_array_equal(again[1], voxels)
    # A flat photo has nothing to blur and no brightness change: no events, blurry = sharp (8-bit).
    flat_blurry, flat_voxels, flat_sharp = render_event_blur(rng, np.full((200, 220, 3), 0.5, np.float32), crop=64,
                                                             noise=(0.0, 0.0))
    assert not flat_voxels.any() and np.abs(flat_blurry - flat_sharp).max() <= 0.5 / 255 + 1e-6
    with pytest.raises(ValueError, match="too small"):
        render_event_blur(rng, photo[:50, :50], crop=64)


def test_tfds_gopro_events_builder(tmp_path):
    import tensorflow_datasets as tfds
    from PIL import Image

    from hgzoo.deblur.data.events import luminance
    from hgzoo.deblur.data.tfds_gopro_events import GAMMA, GoproEvents, GoproEventsConfig

    rng = np.random.default_rng(0)
    manual = tmp_path / "GOPRO_Large_all"
    scene = rng.random((20, 40, 3))
    for split, sequences, frames in (("train", 2, 8), ("test", 1, 6)):
        for s in range(sequences):
            folder = manual / split / f"GOPR000{s}_00_00"
            folder.mkdir(parents=True)
            for f in range(frames):  # the scene pans one pixel per frame
                Image.fromarray((scene[:, f:f + 24] * 255).astype(np.uint8)).save(folder / f"{f:06d}.png")
    config = GoproEventsConfig(name="test", frames_per_blur=3, bins=4, threshold_sigma=0.0)
    builder = GoproEvents(data_dir=str(tmp_path / "tfds"), config=config)
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(manual)))
    assert builder.info.splits["train"].num_examples == 4  # 8 frames -> two 3-frame windows, per sequence
    assert builder.info.splits["test"].num_examples == 2
    example = next(iter(tfds.as_numpy(builder.as_dataset(split="test"))))
    assert example["blur"].shape == example["sharp"].shape == (20, 24, 3) and example["events"].shape == (20, 24, 4)
    frames = np.stack([np.asarray(Image.open(manual / "test" / "GOPR0000_00_00" / f"{f:06d}.png")) / 255.0
                       for f in range(3)])
    np.testing.assert_array_equal(example["sharp"], (frames[1] * 255).round().astype(np.uint8))
    expected = voxel_grid(simulate_events(luminance(frames ** GAMMA), np.arange(3) / 240, 0.2), 4, 0, 2 / 240)
    np.testing.assert_allclose(example["events"].astype(np.float32), expected, rtol=1e-3, atol=2e-3)  # float16
    inputs, sharp = next(iter(builder.as_dataset(split="train", as_supervised=True)))
    assert sorted(inputs) == ["events", "image"] and sharp.shape == (20, 24, 3)
