"""Reading clips from video files (PyAV, the ``action`` extra) and from folders of frames.

A clip is a uint8 array (T, H, W, C). ``frames`` picks T frames of the video:
``"uniform"`` sampling takes the centre of T equal segments (deterministic,
for evaluation), ``"random"`` a random frame in each segment (training
augmentation, TSN-style). Videos shorter than ``frames``, files that do not
decode, frame folders that are empty or mix frame sizes are refused with an
:class:`InvalidVideoError` naming the file; :func:`read_clips` reads many,
skipping and reporting the bad ones.

Example:

>>> from hgzoo.action.video import sample_indices
>>> sample_indices(100, 4).tolist()
[12, 37, 62, 87]
>>> sorted(sample_indices(100, 4, "random", seed=0).tolist()) == sample_indices(100, 4, "random", seed=0).tolist()
True
"""

import os

import numpy as np
from PIL import Image, UnidentifiedImageError

from hgzoo.action.episodes import ClipClasses
from hgzoo.config import require
from hgzoo.data.image_classes import IMAGE_SUFFIXES
from hgzoo.errors import HgzooError

VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".gif")
SAMPLING = ("uniform", "random")


class InvalidVideoError(HgzooError, ValueError):
    """A video file or frame folder that cannot be read as a clip (the message names it).

    >>> str(InvalidVideoError("a.mp4: no video stream"))
    'a.mp4: no video stream'
    """


def sample_indices(length, frames, sampling="uniform", seed=None):
    """``frames`` sorted frame indices of a ``length``-frame video, one per equal segment.

    ``"uniform"``: the segment centres; ``"random"``: a random frame in each
    segment (``seed`` makes it reproducible). ``length < frames`` is an error.
    """
    if sampling not in SAMPLING:
        raise ValueError(f"sampling must be one of {SAMPLING}, got {sampling!r}")
    if frames < 1:
        raise ValueError(f"frames must be at least 1, got {frames}")
    if length < frames:
        raise InvalidVideoError(f"the clip has {length} frames, fewer than the {frames} asked for")
    edges = np.arange(frames + 1) * length / frames
    if sampling == "uniform":
        return np.floor((edges[:-1] + edges[1:]) / 2).astype(np.int64)
    rng = np.random.default_rng(seed)
    return np.floor(edges[:-1] + rng.random(frames) * (edges[1:] - edges[:-1])).astype(np.int64)


def _convert(frame, channels, size):
    image = Image.fromarray(frame).convert("L" if channels == 1 else "RGB")
    if size is not None:
        image = image.resize((size[1], size[0]), Image.BILINEAR)
    array = np.asarray(image)
    return array.reshape(array.shape[:2] + (-1,))


def _decode_video(path):
    av = require("av", "action")
    try:
        with av.open(path) as container:
            if not container.streams.video:
                raise InvalidVideoError(f"{path}: has no video stream")
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    except InvalidVideoError:
        raise
    except Exception as e:  # noqa: BLE001 -- PyAV raises its own FFmpeg error classes, and OSError for missing files
        reason = str(e).splitlines()[0] if str(e).strip() else type(e).__name__
        raise InvalidVideoError(f"{path}: cannot be decoded as a video ({reason})") from None
    if not frames:
        raise InvalidVideoError(f"{path}: the video has no decodable frames")
    return frames


def _folder_frames(path):
    names = sorted(f for f in os.listdir(path) if f.lower().endswith(IMAGE_SUFFIXES))
    if not names:
        raise InvalidVideoError(f"{path}: the frame folder holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return [os.path.join(path, f) for f in names]


def _read_frame(path):
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise InvalidVideoError(f"{path}: not a readable frame image ({e})") from None


def read_clip(path, frames=None, sampling="uniform", size=None, channels=3, seed=None):
    """One clip (T, H, W, C) uint8 from a video file or a folder of frame images (sorted by name).

    Args:
        path: a video file (any format FFmpeg decodes, via PyAV) or a folder of frames.
        frames: T frames sampled from it (:func:`sample_indices`); None keeps them all.
        sampling: ``"uniform"`` or ``"random"``.
        size: (h, w) to resize frames to; None keeps the size.
        channels: 3 (RGB) or 1 (grayscale).
        seed: of random sampling.

    Example:

    >>> read_clip("no/such/video.mp4")
    Traceback (most recent call last):
    ...
    hgzoo.action.video.InvalidVideoError: no/such/video.mp4: no such video file or frame folder
    """
    path = os.fspath(path)
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    if os.path.isdir(path):
        files = _folder_frames(path)
        if frames is not None:
            files = [files[i] for i in _indices(len(files), frames, sampling, seed, path)]
        decoded = [_read_frame(f) for f in files]
        shapes = [d.shape for d in decoded]
        if len(set(shapes)) > 1 and size is None:
            odd = next(f for f, s in zip(files, shapes) if s != shapes[0])
            raise InvalidVideoError(f"{path}: frames differ in size ({shapes[0][:2]} and {odd}: "
                                    f"{shapes[files.index(odd)][:2]}); pass size=(h, w) to resize them")
    elif os.path.isfile(path):
        decoded = _decode_video(path)
        if frames is not None:
            decoded = [decoded[i] for i in _indices(len(decoded), frames, sampling, seed, path)]
    else:
        raise InvalidVideoError(f"{path}: no such video file or frame folder")
    return np.stack([_convert(f, channels, size) for f in decoded])


def _indices(length, frames, sampling, seed, path):
    try:
        return sample_indices(length, frames, sampling, seed)
    except InvalidVideoError as e:
        raise InvalidVideoError(f"{path}: {e}; ask for fewer frames") from None


def read_clip_folder(path, frames=None, sampling="uniform", size=None, channels=3, seed=None):
    """A folder of frame images as one clip (T, H, W, C): :func:`read_clip` restricted to folders."""
    if not os.path.isdir(path):
        raise InvalidVideoError(f"{path}: not a folder of frames")
    return read_clip(path, frames, sampling, size, channels, seed)


def is_clip_source(path):
    """Whether ``path`` looks like a clip: a video file by suffix, or a folder holding frame images."""
    if os.path.isdir(path):
        return any(f.lower().endswith(IMAGE_SUFFIXES) for f in os.listdir(path))
    return path.lower().endswith(VIDEO_SUFFIXES)


def read_clips(paths, frames, size, channels=3, sampling="uniform", seed=None):
    """Read many clips, skipping the bad ones: ``(clips (n, T, h, w, C) uint8, read paths, skipped)``.

    ``skipped`` lists ``(path, reason)`` for every clip that could not be read,
    so a batch job reports them instead of stopping.
    """
    clips, good, skipped = [], [], []
    for i, path in enumerate(paths):
        try:
            clips.append(read_clip(path, frames, sampling, size, channels,
                                   None if seed is None else seed + i))
            good.append(path)
        except InvalidVideoError as e:
            skipped.append((path, str(e)))
    shape = (0, frames, *size, channels)
    return (np.stack(clips) if clips else np.zeros(shape, np.uint8)), good, skipped


def clip_classes_from_folder(root, frames, size, channels=3):
    """A :class:`~hgzoo.action.episodes.ClipClasses` pool from ``root/<class>/<video or frame folder>``.

    Returns ``(pool, skipped)``; bad clips are skipped and reported, classes
    left without clips are dropped.
    """
    if not os.path.isdir(root):
        raise InvalidVideoError(f"{root}: not a folder of class folders")
    clips, names, skipped = [], [], []
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        if not os.path.isdir(folder):
            continue
        sources = [os.path.join(folder, f) for f in sorted(os.listdir(folder))]
        read, _, bad = read_clips([s for s in sources if is_clip_source(s)], frames, size, channels)
        skipped += bad
        if len(read):
            clips.append(read)
            names.append(name)
    if not clips:
        raise InvalidVideoError(f"{root}: no class folder holds a readable video or frame folder")
    return ClipClasses(clips, names), skipped
