"""Episodes: N-way K-shot tasks drawn from an ImageClasses pool, as tf.data.

Every hgzoo few-shot model takes one episode batch as

- ``support_images`` (B, N·K, H, W, C) float32 in [0, 1],
- ``support_labels`` (B, N·K) int32, each of 0..N-1 exactly K times,
- ``query_images`` (B, Q, H, W, C) float32 in [0, 1],

and returns ``scores`` (B, Q, N). The target is one-hot (B, Q, N). Episode
``i`` of a sampler is a pure function of ``(seed, i)``: the same seed gives
the same episodes, in any order, on any machine.

Example:

>>> import numpy as np
>>> from hgzoo.fewshot import EpisodeSampler, ImageClasses
>>> pool = ImageClasses.from_arrays(np.zeros((12, 8, 8, 1), np.uint8), np.repeat(np.arange(4), 3))
>>> sampler = EpisodeSampler(pool, n_way=3, k_shot=1, queries=2, seed=0)
>>> inputs, target = sampler.episode(0)
>>> inputs["support_images"].shape, inputs["query_images"].shape, target.shape
((3, 8, 8, 1), (6, 8, 8, 1), (6, 3))
>>> dataset = sampler.dataset(episodes=10, batch_size=2)
"""

import sys

import numpy as np

from hgzoo.errors import InvalidEpisodeError

INPUT_NAMES = ("support_images", "support_labels", "query_images")


class EpisodeSampler:
    """Reproducible N-way, K-shot, Q-queries-per-class episodes.

    Args:
        classes: an :class:`~hgzoo.fewshot.ImageClasses` pool.
        n_way: classes per episode.
        k_shot: support images per class.
        queries: query images per class, given class-interleaved
            (c0, c1, ..., c0, c1, ...) so that every run of consecutive
            queries mixes the classes.
        seed: episodes are a function of (seed, episode index).
        shuffle_support: present the support set in a random order (labels
            still give the class), so models cannot rely on the layout.
        class_ids: also give ``class_ids`` (N,) int32, the pool class behind
            each episode label (absolute-relative learning's heads read it;
            :class:`~hgzoo.fewshot.ARL`).
        groups: one key per pool class (e.g. its Omniglot alphabet,
            :func:`hgzoo.fewshot.omniglot.alphabets`). An episode drawn within a
            group takes all N classes from one group that has N eligible
            classes, picked uniformly: harder tasks, as Lake et al.'s 20 runs
            are (20 characters of one alphabet).
        within_group: the probability that an episode is drawn within a group
            (the rest draw from the whole pool); needs ``groups``.
    """

    input_names = INPUT_NAMES

    def __init__(self, classes, n_way=5, k_shot=1, queries=15, seed=0, shuffle_support=True, class_ids=False,
                 groups=None, within_group=1.0):
        if n_way < 2:
            raise InvalidEpisodeError(f"n_way must be at least 2, got {n_way}")
        if k_shot < 1:
            raise InvalidEpisodeError(f"k_shot must be at least 1, got {k_shot}")
        if queries < 1:
            raise InvalidEpisodeError(f"queries must be at least 1, got {queries}")
        if n_way > classes.num_classes:
            raise InvalidEpisodeError(f"{n_way}-way episodes need {n_way} classes; the pool has {classes.num_classes}")
        self._eligible = np.array([i for i, a in enumerate(classes.images) if len(a) >= k_shot + queries])
        if len(self._eligible) < n_way:
            raise InvalidEpisodeError(
                f"{n_way}-way {k_shot}-shot episodes with {queries} queries need {k_shot + queries} images in "
                f"each of {n_way} classes; only {len(self._eligible)} classes have that many")
        self._groups = self._eligible_groups(classes, groups, within_group, n_way)
        self.within_group = float(within_group)
        self.classes = classes
        self.n_way, self.k_shot, self.queries = int(n_way), int(k_shot), int(queries)
        self.seed = int(seed)
        self.shuffle_support = bool(shuffle_support)
        self.class_ids = bool(class_ids)

    def _eligible_groups(self, classes, groups, within_group, n_way):
        """The eligible classes of each group that can fill an N-way episode (None without ``groups``)."""
        if groups is None:
            if within_group != 1.0:
                raise InvalidEpisodeError("within_group is the share of episodes drawn within a group: pass groups too")
            return None
        if len(groups) != classes.num_classes:
            raise InvalidEpisodeError(f"groups needs one key per class ({classes.num_classes}), got {len(groups)}")
        if not 0.0 <= within_group <= 1.0:
            raise InvalidEpisodeError(f"within_group is a probability in [0, 1], got {within_group}")
        members = {}
        for c in self._eligible:
            members.setdefault(groups[c], []).append(c)
        full = [np.array(m) for m in members.values() if len(m) >= n_way]
        if not full:
            raise InvalidEpisodeError(f"within-group {n_way}-way episodes need a group of {n_way} eligible classes; "
                                      f"the largest has {max(map(len, members.values()))}")
        return full

    def episode(self, index):
        """Episode ``index``: ``({support_images, support_labels, query_images}, one-hot target)``."""
        rng = np.random.default_rng([self.seed, int(index)])
        candidates = self._eligible
        # Without groups no draw is spent here, so ungrouped episodes stay those of earlier versions.
        if self._groups is not None and rng.random() < self.within_group:
            candidates = self._groups[rng.integers(len(self._groups))]
        chosen = rng.choice(candidates, self.n_way, replace=False)
        support, queries = [], []
        for c in chosen:
            pool = self.classes.images[c]
            picks = rng.choice(len(pool), self.k_shot + self.queries, replace=False)
            support.append(pool[picks[:self.k_shot]])
            queries.append(pool[picks[self.k_shot:]])
        support_labels = np.repeat(np.arange(self.n_way, dtype=np.int32), self.k_shot)
        support = np.concatenate(support)
        if self.shuffle_support:
            order = rng.permutation(len(support))
            support, support_labels = support[order], support_labels[order]
        # Queries interleave the classes (c0, c1, ..., c0, c1, ...) as the official samplers do, so any
        # run of consecutive queries mixes them: a model normalising query groups by batch statistics
        # (SalNet) would otherwise normalise a one-class group's class away.
        queries = np.stack(queries, axis=1)
        query_labels = np.tile(np.arange(self.n_way), self.queries)
        support_name, labels_name, query_name = self.input_names
        inputs = {
            support_name: support.astype(np.float32) / 255.0,
            labels_name: support_labels,
            query_name: queries.reshape((-1,) + queries.shape[2:]).astype(np.float32) / 255.0,
        }
        if self.class_ids:
            inputs["class_ids"] = chosen.astype(np.int32)
        return inputs, np.eye(self.n_way, dtype=np.float32)[query_labels]

    def dataset(self, episodes=None, batch_size=1, start=0):
        """A ``tf.data.Dataset`` of episode batches for ``model.fit``/``evaluate``.

        Args:
            episodes: how many episodes; None repeats forever (then pass
                ``steps_per_epoch`` to ``fit``).
            batch_size: episodes per batch (B).
            start: index of the first episode, e.g. to resume.
        """
        import tensorflow as tf

        item = tuple(self.classes.image_shape)
        s, q, n = self.n_way * self.k_shot, self.n_way * self.queries, self.n_way
        support_name, labels_name, query_name = self.input_names
        inputs = {support_name: tf.TensorSpec((s, *item), tf.float32),
                  labels_name: tf.TensorSpec((s,), tf.int32),
                  query_name: tf.TensorSpec((q, *item), tf.float32)}
        if self.class_ids:
            inputs["class_ids"] = tf.TensorSpec((n,), tf.int32)
        signature = (inputs, tf.TensorSpec((q, n), tf.float32))

        def generate():
            index = start
            while episodes is None or index < start + episodes:
                yield self.episode(index)
                index += 1

        dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
        dataset = dataset.batch(batch_size, drop_remainder=True)
        if episodes is not None:  # lets fit and progress bars know the length
            dataset = dataset.apply(tf.data.experimental.assert_cardinality(episodes // batch_size))
        return dataset.prefetch(2)


def _dims(shape):
    return tuple(None if d is None else int(d) for d in shape)


def check_episode_shapes(support_shape, labels_shape, query_shape, channels=None):
    """Validate the shapes of an episode batch; unknown (None) sizes pass.

    Raises :class:`~hgzoo.errors.InvalidEpisodeError` for wrong ranks, a
    support/label count mismatch, an empty support or query set, different
    support and query image sizes, or the wrong number of channels.
    """
    si, sl, qi = _dims(support_shape), _dims(labels_shape), _dims(query_shape)
    if len(si) != 5 or len(qi) != 5:
        raise InvalidEpisodeError(
            f"support_images and query_images must be (B, count, H, W, C); got shapes {si} and {qi}")
    if len(sl) != 2:
        raise InvalidEpisodeError(f"support_labels must be (B, N*K) integers; got shape {sl}")

    def differ(a, b):
        return a is not None and b is not None and a != b

    if differ(si[1], sl[1]) or differ(si[0], sl[0]):
        raise InvalidEpisodeError(f"{si[1]} support images per episode but {sl[1]} support labels "
                                  f"(batch {si[0]} vs {sl[0]}); each support image needs one label")
    if si[1] == 0 or sl[1] == 0:
        raise InvalidEpisodeError("the support set is empty (K = 0): each class needs at least one image")
    if qi[1] == 0:
        raise InvalidEpisodeError("the query set is empty")
    if differ(qi[0], si[0]):
        raise InvalidEpisodeError(f"support batch {si[0]} != query batch {qi[0]}")
    if any(differ(a, b) for a, b in zip(si[2:], qi[2:])):
        raise InvalidEpisodeError(f"support images are {si[2:]} but query images {qi[2:]}; use one size")
    if channels is not None and differ(si[4], channels):
        raise InvalidEpisodeError(
            f"support_images have {si[4]} channels; this model takes {channels}-channel images "
            f"({'grayscale' if channels == 1 else 'RGB'})")


def check_episode_labels(support_labels):
    """Validate support labels (B, N*K): every class 0..N-1, each K times. Returns (N, K)."""
    sl = np.asarray(support_labels)
    if not np.issubdtype(sl.dtype, np.integer):
        raise InvalidEpisodeError(f"support_labels must be integers, got {sl.dtype}")
    n_way = int(sl.max()) + 1
    for b, labels in enumerate(sl):
        if labels.min() < 0 or len(np.unique(labels)) != n_way:
            raise InvalidEpisodeError(
                f"episode {b}: support_labels must use every class 0..N-1 (N = {n_way}); "
                f"got {sorted(set(labels.tolist()))}")
        counts = np.bincount(labels, minlength=n_way)
        if counts.min() != counts.max():
            raise InvalidEpisodeError(f"episode {b}: classes have unequal shots {counts.tolist()}; "
                                      "every class needs the same K")
    if n_way < 2:
        raise InvalidEpisodeError("an episode needs at least 2 classes")
    return n_way, sl.shape[1] // n_way


# [0, 1] with room for resampling overshoot; 0-255 or standardised images fall outside.
PIXEL_RANGE = (-0.5, 1.5)


def check_episode_images(support_images, query_images):
    """Validate pixel values: finite, and in [0, 1] (within :data:`PIXEL_RANGE`).

    Images in 0-255 (float or integer) or already standardised would give
    scores near chance without any error, so they are refused, not guessed at.
    """
    for name, images in (("support_images", support_images), ("query_images", query_images)):
        x = np.asarray(images)
        if x.size == 0:
            continue
        if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
            raise InvalidEpisodeError(f"{name} are not finite: {int(np.size(x) - np.isfinite(x).sum())} "
                                      "NaN or infinite pixels; fix or drop those images")
        low, high = float(x.min()), float(x.max())
        if low < PIXEL_RANGE[0] or high > PIXEL_RANGE[1]:
            fix = ("divide 0-255 images by 255" if high > PIXEL_RANGE[1] else
                   "pass raw pixels: the model standardises them itself")
            raise InvalidEpisodeError(f"{name} have values in [{low:g}, {high:g}]; few-shot models take "
                                      f"images in [0, 1]: {fix}")


def check_episode(support_images, support_labels, query_images, channels=None):
    """Validate one episode batch of arrays (shapes, labels, pixel values); returns (N, K).

    Example:

    >>> import numpy as np
    >>> check_episode(np.zeros((1, 4, 8, 8, 1)), np.array([[0, 1, 0, 1]]), np.zeros((1, 3, 8, 8, 1)))
    (2, 2)
    """
    arrays = [np.asarray(a) for a in (support_images, support_labels, query_images)]
    check_episode_shapes(*(a.shape for a in arrays), channels=channels)
    n_way_k_shot = check_episode_labels(arrays[1])
    check_episode_images(arrays[0], arrays[2])
    return n_way_k_shot


def episode_values(inputs, names=INPUT_NAMES):
    """The three episode inputs of a dict or list/tuple, in ``names`` order; else None."""
    if isinstance(inputs, dict):
        return [inputs[k] for k in names] if set(names) <= set(inputs) else None
    if isinstance(inputs, (list, tuple)) and len(inputs) == len(names):
        return list(inputs)
    return None


_CARRIED = "InvalidEpisodeError: "


def checked_dataset(dataset, check, names=INPUT_NAMES, extra_names=()):
    """``dataset`` (a ``tf.data.Dataset``; anything else is returned as it is) with
    ``check(inputs)`` run in Python on each element's model inputs (``x`` of
    ``(x, y, ...)``) as it is produced: the episode inputs named ``names``, plus
    those of ``extra_names`` a dict element has (a model's further inputs, e.g.
    ARL's class ids), as numpy arrays in a dict or list like the element's.

    An :class:`~hgzoo.errors.InvalidEpisodeError` from ``check`` reaches the
    caller inside TensorFlow's own error; :func:`episode_error` unpacks it.
    """
    tf = sys.modules.get("tensorflow")  # a dataset exists only if TensorFlow is loaded
    if tf is None or not isinstance(dataset, tf.data.Dataset):
        return dataset

    def checked(*element):
        inputs = element[0]
        values = episode_values(inputs, names)
        if values is None:
            return element if len(element) > 1 else inputs
        keys = list(names)
        if isinstance(inputs, dict):
            keys += [k for k in extra_names if k in inputs]
            values += [inputs[k] for k in keys[len(names):]]

        def run_check(*arrays):
            try:
                check(dict(zip(keys, arrays)) if isinstance(inputs, dict) else list(arrays))
            except InvalidEpisodeError as e:
                raise ValueError(f"{_CARRIED}{e}") from None
            return arrays[1]

        # The checked labels replace the originals, so no batch passes without its check.
        labels = tf.numpy_function(run_check, values, values[1].dtype, stateful=False)
        labels.set_shape(values[1].shape)
        if isinstance(inputs, dict):
            inputs = {**inputs, names[1]: labels}
        else:
            inputs = type(inputs)([values[0], labels, values[2]])
        return (inputs, *element[1:]) if len(element) > 1 else inputs

    return dataset.map(checked)


def episode_error(error):
    """The :class:`~hgzoo.errors.InvalidEpisodeError` carried by a TensorFlow error
    from :func:`checked_dataset`, or None."""
    if not type(error).__module__.startswith("tensorflow") or _CARRIED not in str(error):
        return None
    return InvalidEpisodeError(str(error).split(_CARRIED, 1)[1].splitlines()[0])
