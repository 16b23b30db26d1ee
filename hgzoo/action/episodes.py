"""Clip episodes: the few-shot episode contract of :mod:`hgzoo.fewshot` with clips in place of images.

Every hgzoo action model takes one episode batch as

- ``support_clips`` (B, N·K, T, H, W, C) float32 in [0, 1],
- ``support_labels`` (B, N·K) int32, each of 0..N-1 exactly K times,
- ``query_clips`` (B, Q, T, H, W, C) float32 in [0, 1],

and returns ``scores`` (B, Q, N). Episodes are drawn from a :class:`ClipClasses`
pool (uint8 clips grouped by class) by :class:`ClipEpisodeSampler`, which
draws exactly as :class:`hgzoo.fewshot.EpisodeSampler` does: episode ``i`` is a
pure function of ``(seed, i)``.

Example:

>>> import numpy as np
>>> from hgzoo.action.episodes import ClipClasses, ClipEpisodeSampler
>>> pool = ClipClasses([np.zeros((3, 4, 8, 8, 1), np.uint8)] * 4)
>>> inputs, target = ClipEpisodeSampler(pool, n_way=3, k_shot=1, queries=2).episode(0)
>>> inputs["support_clips"].shape, inputs["query_clips"].shape, target.shape
((3, 4, 8, 8, 1), (6, 4, 8, 8, 1), (6, 3))
"""

import numpy as np

from hgzoo.errors import InvalidEpisodeError
from hgzoo.fewshot import EpisodeSampler, check_episode

INPUT_NAMES = ("support_clips", "support_labels", "query_clips")


class ClipClasses:
    """A pool of labelled clips: one uint8 array (n_i, T, H, W, C) per class, all clips one shape.

    Example:

    >>> import numpy as np
    >>> pool = ClipClasses([np.zeros((2, 4, 8, 8, 3), np.uint8)] * 3, names=["a", "b", "c"])
    >>> pool.num_classes, pool.clip_shape, len(pool)
    (3, (4, 8, 8, 3), 6)
    """

    def __init__(self, clips, names=None):
        clips = [np.asarray(c) for c in clips]
        if not clips:
            raise ValueError("a clip pool needs at least one class")
        shapes = {c.shape[1:] for c in clips}
        if any(c.ndim != 5 or len(c) == 0 for c in clips) or len(shapes) != 1:
            raise ValueError(f"every class needs one or more clips (n, T, H, W, C) of one shape; got shapes "
                             f"{sorted({c.shape for c in clips})}")
        self.images = [c.astype(np.uint8) for c in clips]  # `images` and `image_shape`: the names EpisodeSampler reads
        self.names = list(names) if names is not None else [str(i) for i in range(len(clips))]

    @property
    def num_classes(self):
        return len(self.images)

    @property
    def clip_shape(self):
        return tuple(self.images[0].shape[1:])

    image_shape = clip_shape

    def __len__(self):
        return sum(len(c) for c in self.images)

    def subset(self, indices):
        """The classes at ``indices``, as a new pool."""
        return ClipClasses([self.images[i] for i in indices], [self.names[i] for i in indices])


class ClipEpisodeSampler(EpisodeSampler):
    """Reproducible N-way, K-shot, Q-queries-per-class clip episodes from a :class:`ClipClasses` pool.

    Arguments as :class:`hgzoo.fewshot.EpisodeSampler`; episodes carry
    ``support_clips``/``query_clips`` instead of images.

    Example:

    >>> import numpy as np
    >>> pool = ClipClasses([np.full((2, 4, 8, 8, 1), i, np.uint8) for i in range(3)])
    >>> inputs, _ = ClipEpisodeSampler(pool, n_way=2, k_shot=1, queries=1, seed=3).episode(5)
    >>> sorted(inputs)
    ['query_clips', 'support_clips', 'support_labels']
    """

    input_names = INPUT_NAMES


def _dims(shape):
    return tuple(None if d is None else int(d) for d in shape)


def check_clip_episode_shapes(support_shape, labels_shape, query_shape, channels=None):
    """Validate the shapes of a clip episode batch; unknown (None) sizes pass.

    Example:

    >>> check_clip_episode_shapes((1, 4, 8, 16, 16, 3), (1, 3), (1, 2, 8, 16, 16, 3))
    Traceback (most recent call last):
    ...
    hgzoo.errors.InvalidEpisodeError: 4 support clips per episode but 3 support labels (batch 1 vs 1); each support clip needs one label
    """
    si, sl, qi = _dims(support_shape), _dims(labels_shape), _dims(query_shape)
    if len(si) != 6 or len(qi) != 6:
        raise InvalidEpisodeError(f"support_clips and query_clips must be (B, count, T, H, W, C); got shapes "
                                  f"{si} and {qi}")
    if len(sl) != 2:
        raise InvalidEpisodeError(f"support_labels must be (B, N*K) integers; got shape {sl}")

    def differ(a, b):
        return a is not None and b is not None and a != b

    if differ(si[1], sl[1]) or differ(si[0], sl[0]):
        raise InvalidEpisodeError(f"{si[1]} support clips per episode but {sl[1]} support labels "
                                  f"(batch {si[0]} vs {sl[0]}); each support clip needs one label")
    if si[1] == 0 or qi[1] == 0:
        raise InvalidEpisodeError("the support or query set is empty: each needs at least one clip")
    if differ(qi[0], si[0]):
        raise InvalidEpisodeError(f"support batch {si[0]} != query batch {qi[0]}")
    if si[2] == 0 or qi[2] == 0:
        raise InvalidEpisodeError("clips have no frames (T = 0)")
    if any(differ(a, b) for a, b in zip(si[2:], qi[2:])):
        raise InvalidEpisodeError(f"support clips are (T, H, W, C) = {si[2:]} but query clips {qi[2:]}; "
                                  "read them with one frame count and size")
    if channels is not None and differ(si[5], channels):
        raise InvalidEpisodeError(f"clips have {si[5]} channels; this model takes {channels}-channel frames")


def check_clip_episode(support_clips, support_labels, query_clips, channels=None):
    """Validate one clip episode batch of arrays (shapes, labels, pixels in [0, 1]); returns (N, K).

    Example:

    >>> import numpy as np
    >>> check_clip_episode(np.zeros((1, 4, 2, 8, 8, 1)), np.array([[0, 1, 0, 1]]), np.zeros((1, 3, 2, 8, 8, 1)))
    (2, 2)
    """
    support, labels, query = (np.asarray(a) for a in (support_clips, support_labels, query_clips))
    check_clip_episode_shapes(support.shape, labels.shape, query.shape, channels=channels)

    def frames_stacked(clips):  # (B, count, T·H, W, C): the image episode check's labels and pixel checks apply
        return clips.reshape(clips.shape[:2] + (-1,) + clips.shape[4:])

    try:
        return check_episode(frames_stacked(support), labels, frames_stacked(query))
    except InvalidEpisodeError as e:
        raise InvalidEpisodeError(str(e).replace("_images", "_clips").replace("images", "frames")) from None
