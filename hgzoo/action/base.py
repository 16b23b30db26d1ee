"""ClipFewShotModel: :class:`hgzoo.fewshot.FewShotModel`'s episode contract, checks and compile defaults over clips."""

import keras

from hgzoo.action.episodes import INPUT_NAMES, check_clip_episode, check_clip_episode_shapes
from hgzoo.fewshot import FewShotModel


def clip_inputs():
    """The three symbolic inputs (B, count, T, H, W, C) with T, H, W and C left open."""
    return [keras.Input((None, None, None, None, None), name="support_clips"),
            keras.Input((None,), dtype="int32", name="support_labels"),
            keras.Input((None, None, None, None, None), name="query_clips")]


class ClipFewShotModel(FewShotModel):
    """Base of few-shot action models: a clip episode batch in, class scores out.

    Inputs (a dict, or a list in this order): ``support_clips`` (B, N·K, T,
    H, W, C) float in [0, 1]; ``support_labels`` (B, N·K) int, each class
    0..N-1 K times; ``query_clips`` (B, Q, T, H, W, C). Output ``scores``
    (B, Q, N). Everything else is :class:`~hgzoo.fewshot.FewShotModel`'s:
    N and K come from the labels on every call (on JAX, training needs a
    fixed ``n_way``); every entry point checks arrays, and ``tf.data``
    batches as they are produced, with
    :func:`~hgzoo.action.episodes.check_clip_episode` (shapes, labels, pixels
    in [0, 1]), raising :class:`~hgzoo.errors.InvalidEpisodeError`; it
    compiles itself with Adam(1e-3), MSE to the one-hot target
    (``loss="cross_entropy"`` for softmax cross-entropy over the relation
    logits) and categorical accuracy; it serves ``support_clips``,
    ``support_labels``, ``query_clips`` -> ``scores``, ``classes``.

    Example:

    >>> import hgzoo
    >>> hgzoo.action.ARN(frames=4, image_size=(16, 16), filters=16, relation_filters=16).input_contract["inputs"]
    ['support_clips', 'support_labels', 'query_clips']
    """

    input_names = INPUT_NAMES
    item_dims = 4
    check_shapes = staticmethod(check_clip_episode_shapes)
    check_arrays = staticmethod(check_clip_episode)
