"""Event cameras: an ESIM-style simulator, voxel grids, event files, and event-blur triples.

An event camera reports, per pixel and asynchronously, each time the log
intensity has changed by a contrast threshold C since that pixel's last
event: (x, y, t, p) with polarity p = ±1. :func:`simulate_events` renders
that from a frame sequence in the manner of ESIM (Rebecq et al., CoRL 2018):
the log intensity is interpolated linearly in time between frames, every
crossing of a threshold level emits one event at its interpolated time,
per-pixel thresholds are drawn once from N(C, σ_C) (sensor mismatch), and a
refractory period drops events that follow a pixel's previous event too
closely. :func:`render_event_blur` turns one sharp photo into a consistent
(blurry image, events, sharp image) triple by moving a virtual camera along
a random hand-shake trajectory during the exposure.

Example:

>>> import numpy as np
>>> frames = np.exp(np.array([0.0, 0.5])).reshape(2, 1, 1)  # one pixel brightening by 0.5 in log
>>> events = simulate_events(frames, [0.0, 1.0], contrast_threshold=0.2, log_eps=0.0)
>>> events.p.tolist(), np.round(events.t, 3).tolist()
([1, 1], [0.4, 0.8])
"""

import dataclasses
import os

import numpy as np

from hgzoo.deblur.data.camera_shake import random_trajectory
from hgzoo.errors import InvalidEventsError

EVENT_FIELDS = ("x", "y", "t", "p")


@dataclasses.dataclass
class EventStream:
    """Events sorted by time: pixel columns ``x``, rows ``y``, times ``t`` (seconds), polarities ``p`` (±1).

    Example:

    >>> stream = EventStream(np.array([0]), np.array([1]), np.array([0.5]), np.array([-1]), height=2, width=3)
    >>> len(stream)
    1
    """

    x: np.ndarray
    y: np.ndarray
    t: np.ndarray
    p: np.ndarray
    height: int
    width: int

    def __post_init__(self):
        self.x, self.y = np.asarray(self.x, np.int32), np.asarray(self.y, np.int32)
        self.t, self.p = np.asarray(self.t, np.float64), np.asarray(self.p, np.int8)
        sizes = {k: getattr(self, k).shape for k in EVENT_FIELDS}
        if any(len(s) != 1 for s in sizes.values()) or len(set(sizes.values())) != 1:
            raise InvalidEventsError(f"x, y, t and p must be 1-D arrays of one length, got shapes {sizes}")
        if len(self.x) and (self.x.min() < 0 or self.x.max() >= self.width or self.y.min() < 0
                            or self.y.max() >= self.height):
            raise InvalidEventsError(f"event coordinates outside the {self.height}x{self.width} sensor: "
                                     f"x in [{self.x.min()}, {self.x.max()}], y in [{self.y.min()}, {self.y.max()}]")
        if len(self.p) and not np.isin(self.p, (-1, 1)).all():
            raise InvalidEventsError(f"polarities must be -1 or +1 (0/1 files: pass polarity01=True), got "
                                     f"{sorted(set(np.unique(self.p).tolist()))}")
        if len(self.t) > 1 and np.any(np.diff(self.t) < 0):
            raise InvalidEventsError("event timestamps must be non-decreasing (sort the stream by t)")

    def __len__(self):
        return len(self.t)


def simulate_events(frames, timestamps, contrast_threshold=0.2, threshold_sigma=0.0, refractory_period=0.0,
                    log_eps=1e-3, rng=None):
    """Events from a (T, H, W) sequence of linear intensities at ``timestamps`` (seconds, increasing).

    Args:
        contrast_threshold: C, the log-intensity step per event (real sensors: 0.1-0.5).
        threshold_sigma: per-pixel threshold spread σ_C; each pixel's positive
            and negative thresholds are drawn once from N(C, σ_C), at least 0.01.
        refractory_period: seconds after an event during which the same pixel
            emits none (the reference level still follows the signal).
        log_eps: intensities are taken as log(I + eps), so black stays finite.
        rng: a numpy Generator for the threshold noise.

    Returns:
        An :class:`EventStream` sorted by time.
    """
    frames = np.asarray(frames, np.float64)
    timestamps = np.asarray(timestamps, np.float64)
    if frames.ndim != 3 or len(frames) < 2:
        raise ValueError(f"frames must be (T >= 2, H, W) intensities, got shape {frames.shape}")
    if timestamps.shape != (len(frames),) or np.any(np.diff(timestamps) <= 0):
        raise ValueError("timestamps must be one strictly increasing time per frame")
    if contrast_threshold <= 0:
        raise ValueError(f"contrast_threshold must be positive, got {contrast_threshold}")
    _, height, width = frames.shape
    rng = rng if rng is not None else np.random.default_rng()
    shape = (height, width)
    if threshold_sigma > 0:
        c_pos = np.maximum(rng.normal(contrast_threshold, threshold_sigma, shape), 0.01)
        c_neg = np.maximum(rng.normal(contrast_threshold, threshold_sigma, shape), 0.01)
    else:
        c_pos = c_neg = np.full(shape, float(contrast_threshold))
    log = np.log(frames + log_eps)
    reference = log[0].copy()
    xs, ys, ts, ps = [], [], [], []
    for k in range(1, len(frames)):
        start, end, t0, t1 = log[k - 1], log[k], timestamps[k - 1], timestamps[k]
        delta = end - start
        for sign, c in ((1, c_pos), (-1, c_neg)):
            # Crossings of levels reference + sign·j·c, j = 1..n, on the way from start to end.
            count = np.floor(np.maximum(sign * (end - reference), 0.0) / c + 1e-9).astype(np.int64)
            rows, cols = np.nonzero(count)
            if not len(rows):
                continue
            n = count[rows, cols]
            j = np.concatenate([np.arange(1, m + 1) for m in n])
            r, q = np.repeat(rows, n), np.repeat(cols, n)
            level = reference[r, q] + sign * j * c[r, q]
            fraction = np.clip((level - start[r, q]) / np.where(delta[r, q] == 0, 1.0, delta[r, q]), 0.0, 1.0)
            ys.append(r), xs.append(q), ts.append(t0 + fraction * (t1 - t0)), ps.append(np.full(len(r), sign))
            reference[rows, cols] += sign * n * c[rows, cols]
    if not ts:
        return EventStream(*(np.zeros(0) for _ in range(4)), height=height, width=width)
    x, y, t, p = (np.concatenate(a) for a in (xs, ys, ts, ps))
    order = np.lexsort((x, y, t))
    x, y, t, p = x[order], y[order], t[order], p[order]
    if refractory_period > 0:
        keep = _outside_refractory(y * width + x, t, refractory_period)
        x, y, t, p = x[keep], y[keep], t[keep], p[keep]
    return EventStream(x, y, t, p, height=height, width=width)


def _outside_refractory(pixel, t, period):
    """Mask of events at least ``period`` after the previous *kept* event of their pixel."""
    keep = np.zeros(len(t), bool)
    last = {}
    for i, (key, time) in enumerate(zip(pixel.tolist(), t.tolist())):
        if time - last.get(key, -np.inf) >= period:
            keep[i] = True
            last[key] = time
    return keep


def voxel_grid(events, bins, t_start=None, t_end=None):
    """Polarity-signed (H, W, bins) float32 grid; each event is split linearly between its two nearest bins.

    Bin centres are spread evenly from ``t_start`` to ``t_end`` (default: the
    stream's first and last times), as in Zhu et al. (CVPR 2019).

    Example:

    >>> stream = EventStream([0, 1], [0, 0], [0.0, 1.0], [1, -1], height=1, width=2)
    >>> voxel_grid(stream, bins=3)[0].tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, -1.0]]
    """
    if int(bins) < 1:
        raise ValueError(f"bins must be positive, got {bins}")
    grid = np.zeros((events.height, events.width, int(bins)), np.float32)
    if not len(events):
        return grid
    t_start = events.t[0] if t_start is None else t_start
    t_end = events.t[-1] if t_end is None else t_end
    span = max(t_end - t_start, 1e-12)
    position = np.clip((events.t - t_start) / span, 0.0, 1.0) * (bins - 1)
    left = np.floor(position).astype(np.int64)
    weight = position - left
    right = np.minimum(left + 1, bins - 1)
    np.add.at(grid, (events.y, events.x, left), events.p * (1.0 - weight))
    np.add.at(grid, (events.y, events.x, right), events.p * weight)
    return grid


def read_events(path, height=None, width=None, polarity01=False):
    """Read an event file: ``.npz`` or ``.h5``/``.hdf5`` holding arrays x, y, t, p (an ``events`` group too).

    ``height``/``width`` default to the file's ``height``/``width`` entries,
    else to the largest coordinates + 1. ``polarity01=True`` maps 0/1
    polarities to -1/+1. Unsorted timestamps are sorted.

    Raises:
        InvalidEventsError: a missing array, unequal lengths, coordinates
            off the sensor, or polarities other than ±1, with the file named.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such event file: {path}")
    extension = os.path.splitext(path)[1].lower()
    try:
        if extension == ".npz":
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: np.asarray(f[k]) for k in f.files}
        elif extension in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as f:
                group = f["events"] if "events" in f and isinstance(f["events"], h5py.Group) else f
                arrays = {k: np.asarray(group[k]) for k in group if isinstance(group[k], h5py.Dataset)}
                arrays.update({k: np.asarray(v) for k, v in f.attrs.items()})
        else:
            raise InvalidEventsError(f"{path}: unknown event file type {extension!r}; use .npz or .h5")
    except (OSError, ValueError) as e:
        if isinstance(e, InvalidEventsError):
            raise
        raise InvalidEventsError(f"{path} is not a readable {extension} file ({e})") from None
    missing = [k for k in EVENT_FIELDS if k not in arrays]
    if missing:
        raise InvalidEventsError(f"{path} lacks the event array(s) {missing}; found {sorted(arrays)}")
    x, y, t, p = (np.ravel(arrays[k]) for k in EVENT_FIELDS)
    if polarity01:
        p = np.where(p > 0, 1, -1)
    if len({len(x), len(y), len(t), len(p)}) != 1:
        raise InvalidEventsError(f"{path}: x, y, t, p have different lengths "
                                 f"{[len(x), len(y), len(t), len(p)]}")
    height = int(height or arrays.get("height", (y.max() + 1) if len(y) else 1))
    width = int(width or arrays.get("width", (x.max() + 1) if len(x) else 1))
    order = np.argsort(t, kind="stable")
    try:
        return EventStream(x[order], y[order], t[order], p[order], height=height, width=width)
    except InvalidEventsError as e:
        raise InvalidEventsError(f"{path}: {e}") from None


def write_events(path, events):
    """Write an :class:`EventStream` as ``.npz`` (x, y, t, p, height, width), atomically."""
    path = os.fspath(path)
    tmp = f"{path}.tmp-{os.getpid()}.npz"
    np.savez_compressed(tmp, x=events.x, y=events.y, t=events.t, p=events.p, height=events.height,
                        width=events.width)
    os.replace(tmp, path)
    return path


def luminance(rgb):
    """Rec. 601 luma of (..., 3) linear RGB, what a monochrome event sensor sees."""
    return rgb @ np.array([0.299, 0.587, 0.114])


def _shifted_crop(image, top, left, size):
    """A bilinear (size, size) window of ``image`` whose top-left corner is at real (top, left)."""
    y0, x0 = int(np.floor(top)), int(np.floor(left))
    fy, fx = top - y0, left - x0
    w = image[y0:y0 + size + 1, x0:x0 + size + 1]
    return ((1 - fy) * (1 - fx) * w[:-1, :-1] + (1 - fy) * fx * w[:-1, 1:]
            + fy * (1 - fx) * w[1:, :-1] + fy * fx * w[1:, 1:])


def render_event_blur(rng, sharp, crop=128, bins=6, extent=(8, 32), steps=32, contrast_threshold=0.2,
                      threshold_sigma=0.03, noise=(0.0, 0.01)):
    """One (blurry, voxel grid, sharp) triple from a float (H, W, 3) sharp photo in [0, 1].

    A virtual camera follows a random hand-shake trajectory of ``extent``
    pixels during the exposure; ``steps`` frames are rendered along it. The
    blurry image is their mean (plus Gaussian noise of a random level in
    ``noise``, then 8-bit quantisation), the sharp target is the middle
    frame (GoPro's convention), and the events are simulated from the same
    frames' luminance over the exposure [0, 1] and binned into ``bins``.

    Returns:
        ``(blurry, voxels, sharp)``: float32 (crop, crop, 3), (crop, crop, bins), (crop, crop, 3).
    """
    length = float(rng.uniform(*extent))
    path = random_trajectory(rng, length=1.0, steps=steps)
    path -= path[steps // 2]
    path *= length / (np.abs(path).max() + 1e-12) / 2
    margin = int(np.ceil(length / 2)) + 2
    h, w = sharp.shape[:2]
    if h < crop + 2 * margin + 1 or w < crop + 2 * margin + 1:
        raise ValueError(f"photo {h}x{w} is too small for {crop}-pixel crops with {length:.0f}-pixel shake")
    top = int(rng.integers(margin, h - crop - margin))
    left = int(rng.integers(margin, w - crop - margin))
    frames = np.stack([_shifted_crop(sharp, top + dy, left + dx, crop) for dx, dy in path])
    events = simulate_events(luminance(frames), np.linspace(0.0, 1.0, steps), contrast_threshold,
                             threshold_sigma, rng=rng)
    blurry = frames.mean(axis=0) + rng.normal(0.0, rng.uniform(*noise), frames.shape[1:])
    blurry = np.floor(np.clip(blurry, 0, 1) * 255 + 0.5) / 255
    return (blurry.astype(np.float32), voxel_grid(events, bins, 0.0, 1.0),
            frames[steps // 2].astype(np.float32))
