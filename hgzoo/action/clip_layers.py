"""Layers that move clip-episode tensors between shapes, apply attention and set the self-supervised tasks.

Example:

>>> import numpy as np
>>> from hgzoo.action.clip_layers import EpisodeClips
>>> clips = EpisodeClips(frames=4, image_size=(8, 8), channels=1)(np.ones((1, 2, 10, 16, 16, 1), "float32"),
...                                                              np.ones((1, 3, 10, 16, 16, 1), "float32"))
>>> tuple(clips.shape)
(5, 4, 8, 8, 1)
"""

import itertools

import keras
import numpy as np
from keras import ops

from hgzoo.api_export import hgzoo_export
from hgzoo.errors import InvalidEpisodeError
from hgzoo.fewshot import class_count

TASKS = ("temporal", "spatial")


def uniform_indices(length, frames):
    """``frames`` indices spread evenly over ``length`` frames (segment centres), as TSN-style sampling.

    >>> uniform_indices(10, 4).tolist()
    [1, 3, 6, 8]
    """
    return np.floor((np.arange(frames) + 0.5) * length / frames).astype(np.int64)


@hgzoo_export
class EpisodeClips(keras.layers.Layer):
    """Support (B, S, T, H, W, C) and query (B, Q, T, H, W, C) clips -> one normalised batch (B·(S+Q), frames, h, w, C).

    Clips of any length are sampled uniformly to ``frames`` (segment centres;
    repeated frames when shorter), frames of any size are resized
    (bilinear, antialiased) to ``image_size``, then standardised by ``mean``
    and ``std``.

    Example:

    >>> import numpy as np
    >>> out = EpisodeClips(2, (4, 4), 3)(np.zeros((1, 1, 2, 4, 4, 3)), np.zeros((1, 1, 2, 4, 4, 3)))
    >>> tuple(out.shape)
    (2, 2, 4, 4, 3)
    """

    def __init__(self, frames, image_size, channels, mean=0.0, std=1.0, **kwargs):
        super().__init__(**kwargs)
        if float(std) <= 0:
            raise ValueError(f"std must be positive, got {std}")
        self.frames = int(frames)
        self.image_size = tuple(int(s) for s in image_size)
        self.channels = int(channels)
        self.mean, self.std = float(mean), float(std)

    def build(self, support_shape, query_shape):
        for shape, what in ((support_shape, "support_clips"), (query_shape, "query_clips")):
            if len(shape) != 6:
                raise InvalidEpisodeError(f"{what} must be (B, count, T, H, W, C), got shape {tuple(shape)}")
            if shape[-1] is not None and shape[-1] != self.channels:
                raise InvalidEpisodeError(f"{what} has {shape[-1]} channels; this model takes {self.channels}")

    def call(self, support, query):
        def flat(x):
            shape = ops.shape(x)
            return ops.reshape(x, (-1, shape[2], shape[3], shape[4], shape[5]))

        x = ops.cast(ops.concatenate([flat(support), flat(query)], axis=0), "float32")
        length = x.shape[1]
        if length != self.frames:
            length = ops.cast(ops.shape(x)[1], "float32")
            positions = (ops.arange(self.frames, dtype="float32") + 0.5) * length / self.frames
            x = ops.take(x, ops.cast(ops.floor(positions), "int32"), axis=1)
        if tuple(x.shape[2:4]) != self.image_size:
            shape = ops.shape(x)
            frames = ops.reshape(x, (-1, shape[2], shape[3], shape[4]))
            frames = ops.image.resize(frames, self.image_size, interpolation="bilinear", antialias=True)
            x = ops.reshape(frames, (-1, self.frames, *self.image_size, self.channels))
        return ops.cast((x - self.mean) / self.std, self.compute_dtype)

    def compute_output_shape(self, support_shape, query_shape):
        dims = (support_shape[0], support_shape[1], query_shape[0], query_shape[1])
        batch = None if None in dims else dims[0] * dims[1] + dims[2] * dims[3]
        return (batch, self.frames, *self.image_size, self.channels)

    def get_config(self):
        return {**super().get_config(), "frames": self.frames, "image_size": list(self.image_size),
                "channels": self.channels, "mean": self.mean, "std": self.std}


@hgzoo_export
class AxisMax(keras.layers.Layer):
    """Max over ``axes``, keeping them (size 1): pools a detector's map down to one step or one position.

    >>> import numpy as np
    >>> tuple(AxisMax((2, 3))(np.ones((2, 3, 4, 5, 6))).shape)
    (2, 3, 1, 1, 6)
    """

    def __init__(self, axes, **kwargs):
        super().__init__(**kwargs)
        self.axes = tuple(int(a) for a in axes)

    def call(self, x):
        return ops.max(x, axis=self.axes, keepdims=True)

    def compute_output_shape(self, shape):
        return tuple(1 if i in self.axes else d for i, d in enumerate(shape))

    def get_config(self):
        return {**super().get_config(), "axes": list(self.axes)}


@hgzoo_export
class AttentionScale(keras.layers.Layer):
    """``features · (1 + attention)``, ARN's way of applying a detector's map (broadcast over size-1 axes).

    >>> import numpy as np
    >>> float(AttentionScale()(np.ones((1, 2, 2, 2, 1)), np.full((1, 1, 2, 2, 1), 0.5))[0, 0, 0, 0, 0])
    1.5
    """

    def call(self, features, attention):
        return features * (1.0 + ops.cast(attention, features.dtype))

    def compute_output_shape(self, features_shape, attention_shape):
        return features_shape


@hgzoo_export
class ClassMean(keras.layers.Layer):
    """Per-clip values (B·(S+Q), ...) + labels (B, S) -> class means (B·N, ...) and queries (B·Q, ...).

    ARN averages the support matrices of a class over its shots after pooling.

    >>> import numpy as np
    >>> m = np.stack([np.full((2, 2), v, "float32") for v in (1, 3, 5, 7)])
    >>> classes, queries = ClassMean()(m, np.array([[0, 1, 0]]))
    >>> classes[:, 0, 0].numpy().tolist(), tuple(queries.shape)
    ([3.0, 3.0], (1, 2, 2))
    """

    def __init__(self, n_way=None, **kwargs):
        super().__init__(**kwargs)
        self.n_way = int(n_way) if n_way else None

    def call(self, values, labels):
        labels = ops.cast(labels, "int32")
        b, s = ops.shape(labels)[0], ops.shape(labels)[1]
        rest = tuple(values.shape[1:])
        v = ops.reshape(values, (b, -1, int(np.prod(rest))))
        n = class_count(labels, self.n_way)
        onehot = ops.cast(ops.equal(ops.expand_dims(labels, -1), ops.arange(n, dtype="int32")), values.dtype)
        counts = ops.maximum(ops.sum(onehot, axis=1), 1.0)  # (b, n)
        classes = ops.einsum("bsn,bsd->bnd", onehot, v[:, :s]) / counts[:, :, None]
        return ops.reshape(classes, (-1, *rest)), ops.reshape(v[:, s:], (-1, *rest))

    def compute_output_shape(self, values_shape, labels_shape):
        return (None, *values_shape[1:]), (None, *values_shape[1:])

    def get_config(self):
        return {**super().get_config(), "n_way": self.n_way}


def permutation_bank(count, pieces=4, seed=0):
    """``count`` fixed permutations of ``pieces`` items, the identity first, the rest drawn once with ``seed``.

    >>> permutation_bank(3).shape
    (3, 4)
    """
    every = list(itertools.permutations(range(pieces)))
    if not 2 <= count <= len(every):
        raise ValueError(f"the self-supervised tasks need 2..{len(every)} permutations of {pieces} pieces, "
                         f"got {count}")
    rest = np.random.default_rng(seed).choice(np.arange(1, len(every)), count - 1, replace=False)
    return np.array([every[0]] + [every[i] for i in sorted(rest)], np.int32)


@hgzoo_export
class ClipShuffle(keras.layers.Layer):
    """A self-supervised task: clips shuffled by one of ``permutations`` fixed permutations, and which one.

    ``task="temporal"``: the clip's T frames, cut into 4 equal segments, are
    put in a permuted order (temporal-order prediction); ``"spatial"``: every
    frame is cut into 2×2 tiles, permuted the same way in all frames of the
    clip (spatial jigsaw). In training each clip gets a random permutation;
    otherwise the task is not set: the first clip is returned as it is, so
    inference pays for one clip only.

    Returns ``(shuffled clips, permutation index (n,) int32)``.

    >>> import numpy as np
    >>> clips = np.arange(8, dtype="float32").reshape(1, 8, 1, 1, 1)
    >>> shuffled, target = ClipShuffle("temporal", seed=1)(clips, training=True)
    >>> tuple(shuffled.shape), tuple(target.shape)
    ((1, 8, 1, 1, 1), (1,))
    >>> tuple(ClipShuffle("spatial")(np.zeros((3, 4, 8, 8, 1)))[0].shape)
    (1, 4, 8, 8, 1)
    """

    def __init__(self, task, permutations=10, seed=None, **kwargs):
        super().__init__(**kwargs)
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {task!r}")
        self.task = task
        self.permutations = int(permutations)
        self.bank = permutation_bank(self.permutations)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _pieces(self, x):
        """(n, 4, ...) pieces of each clip, and how to put them back."""
        n, (t, h, w, c) = ops.shape(x)[0], x.shape[1:]
        if self.task == "temporal":
            return ops.reshape(x, (n, 4, t // 4, h, w, c)), lambda p: ops.reshape(p, (n, t, h, w, c))
        tiles = ops.reshape(x, (n, t, 2, h // 2, 2, w // 2, c))
        tiles = ops.reshape(ops.transpose(tiles, (0, 2, 4, 1, 3, 5, 6)), (n, 4, t, h // 2, w // 2, c))

        def back(p):
            p = ops.reshape(p, (n, 2, 2, t, h // 2, w // 2, c))
            return ops.reshape(ops.transpose(p, (0, 3, 1, 4, 2, 5, 6)), (n, t, h, w, c))

        return tiles, back

    def call(self, clips, training=None):
        if not training:  # one clip, unshuffled (a batch of none would break TensorFlow's eager Conv3D)
            return clips[:1], ops.zeros((1,), "int32")
        n = ops.shape(clips)[0]
        target = keras.random.randint((n,), 0, self.permutations, seed=self.seed_generator, dtype="int32")
        orders = ops.take(ops.convert_to_tensor(self.bank), target, axis=0)  # (n, 4)
        pieces, back = self._pieces(clips)
        select = ops.cast(ops.equal(ops.expand_dims(orders, -1), ops.arange(4, dtype="int32")), pieces.dtype)
        shuffled = ops.einsum("nij,nj...->ni...", select, pieces)  # piece i of the result = piece orders[i]
        return back(shuffled), target

    def compute_output_shape(self, shape):
        return (None, *shape[1:]), (None,)

    def get_config(self):
        return {**super().get_config(), "task": self.task, "permutations": self.permutations, "seed": self.seed}


@hgzoo_export
class PairStack(keras.layers.Layer):
    """Class values (B·N, d, e) and query values (B·Q, d, e) -> every (class, query) pair stacked (B·Q·N, d, e, 2).

    Channel 0 is the class, channel 1 the query (ARN's order); ``labels`` (B, S) give B.

    >>> import numpy as np
    >>> tuple(PairStack()(np.zeros((2, 4, 4)), np.ones((3, 4, 4)), np.zeros((1, 2), "int32")).shape)
    (6, 4, 4, 2)
    """

    def call(self, classes, queries, labels):
        b = ops.shape(labels)[0]
        d1, d2 = classes.shape[1], classes.shape[2]
        classes = ops.reshape(classes, (b, 1, -1, d1, d2))
        queries = ops.reshape(queries, (b, -1, 1, d1, d2))
        target = (b, ops.shape(queries)[1], ops.shape(classes)[2], d1, d2)
        pairs = ops.stack([ops.broadcast_to(classes, target), ops.broadcast_to(queries, target)], axis=-1)
        return ops.reshape(pairs, (-1, d1, d2, 2))

    def compute_output_shape(self, classes_shape, queries_shape, labels_shape):
        return (None, classes_shape[1], classes_shape[2], 2)


@hgzoo_export
class ClipScores(keras.layers.Layer):
    """Pair scores (B·Q·N, 1) -> (B, Q, N), with B and Q read from ``query_clips``.

    >>> import numpy as np
    >>> tuple(ClipScores()(np.zeros((12, 1)), np.zeros((2, 3, 1, 1, 1, 1))).shape)
    (2, 3, 2)
    """

    def call(self, scores, query_clips):
        shape = ops.shape(query_clips)
        return ops.reshape(scores, (shape[0], shape[1], -1))

    def compute_output_shape(self, scores_shape, query_clips_shape):
        return (query_clips_shape[0], query_clips_shape[1], None)
