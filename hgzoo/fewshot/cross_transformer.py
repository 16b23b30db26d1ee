"""CrossTransformer head (Doersch et al. 2020) over any hgzoo few-shot backbone."""

import math

import keras
from keras import ops

from hgzoo.api_export import hgzoo_export
from hgzoo.fewshot.backbones import BACKBONES, apply_backbone
from hgzoo.fewshot.base import FewShotModel, episode_inputs
from hgzoo.fewshot.episode_layers import EpisodeImages, EpisodeScores, class_count
from hgzoo.fewshot.sosn import OMNIGLOT_MEAN, OMNIGLOT_STD
from hgzoo.layers import CrossAttention
from hgzoo.models.search_space import Choice, Float, Int
from hgzoo.registry import register_model


@hgzoo_export
class QueryAlignedPrototypes(keras.layers.Layer):
    """Backbone maps (B·(S+Q), h, w, c) + labels (B, S) -> aligned prototypes and query values.

    For each episode, class n and query q, every position of q's map attends
    (:class:`~hgzoo.layers.CrossAttention`: keys from the query and support
    maps, values from the support maps) over all K·h·w positions of class n's
    support maps. Returns ``(prototypes, query_values)``: (B·Q·N, h, w, v) in
    (episode, query, class) order, and the query maps through the same value
    head, (B·Q, h, w, v), v = ``num_heads · value_dim``. All Q queries of an
    episode attend in one call per class (attention is per query position, so
    stacking them as tokens changes nothing and repeats no support map).
    Every class must have the same number of shots (the episode contract).

    Args:
        num_heads, key_dim, value_dim: the attention's sizes.
        n_way: a fixed class count (JAX training), or None to read it from the labels.

    Example:

    >>> import numpy as np
    >>> layer = QueryAlignedPrototypes(num_heads=1, key_dim=4)
    >>> protos, values = layer(np.random.rand(2 * 3 + 2 * 2, 5, 5, 8).astype("float32"),
    ...                        np.array([[0, 1, 2], [2, 1, 0]]))
    >>> tuple(protos.shape), tuple(values.shape)
    ((12, 5, 5, 4), (4, 5, 5, 4))
    """

    def __init__(self, num_heads=1, key_dim=128, value_dim=None, n_way=None, **kwargs):
        super().__init__(**kwargs)
        self.n_way = int(n_way) if n_way else None
        self.attention = CrossAttention(num_heads, key_dim, value_dim, name="attention", dtype=self.dtype_policy)

    def build(self, features_shape, labels_shape):
        if len(features_shape) != 4 or features_shape[-1] is None:
            raise ValueError(f"QueryAlignedPrototypes needs (batch, h, w, c) maps, got {features_shape}")
        tokens = (None, None, features_shape[-1])
        self.attention.build(tokens, tokens)

    def call(self, features, labels):
        labels = ops.cast(labels, "int32")
        b, s = ops.shape(labels)[0], ops.shape(labels)[1]
        h, w, c = ops.shape(features)[1], ops.shape(features)[2], ops.shape(features)[3]
        # EpisodeImages' order: the B·S support maps of all episodes, then the B·Q query maps.
        support = ops.reshape(features[: b * s], (b, s, h * w, c))
        n = class_count(labels, self.n_way)
        # Shots grouped by class: sorting the labels puts each class's K shots side by side.
        order = ops.argsort(labels, axis=1)
        support = ops.take_along_axis(support, order[:, :, None, None], axis=1)
        support = ops.reshape(support, (b * n, -1, c))  # (B·N, K·h·w, c)
        queries = ops.reshape(features[b * s:], (b, -1, h * w, c))  # (B, Q, h·w, c)
        q = ops.shape(queries)[1]
        tokens = ops.reshape(queries, (b, 1, -1, c))
        tokens = ops.reshape(ops.broadcast_to(tokens, (b, n, q * h * w, c)), (b * n, -1, c))
        protos = self.attention(tokens, support)  # (B·N, Q·h·w, v)
        v = ops.shape(protos)[-1]
        protos = ops.transpose(ops.reshape(protos, (b, n, q, h, w, v)), (0, 2, 1, 3, 4, 5))
        values = self.attention.project_values(ops.reshape(queries, (-1, h, w, c)))
        return ops.reshape(protos, (-1, h, w, v)), values

    def compute_output_shape(self, features_shape, labels_shape):
        v = self.attention.num_heads * self.attention.value_dim
        return (None, *features_shape[1:3], v), (None, *features_shape[1:3], v)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.attention.num_heads, "key_dim": self.attention.key_dim,
                "value_dim": self.attention.value_dim, "n_way": self.n_way}


@hgzoo_export
class PrototypeDistance(keras.layers.Layer):
    """Prototypes (B·Q·N, h, w, v), query values (B·Q, h, w, v) -> scores sigmoid(−τ·(d − d̄)), (B·Q·N, 1).

    d is the squared distance between the query's values and its aligned
    prototype, averaged over positions and channels (the CrossTransformer's
    distance, with the mean in place of the sum so τ need not depend on the
    map size); d̄ is its mean over the episode's classes. τ is learned in log
    space. The score's logit is −τ·(d − d̄), so
    :class:`~hgzoo.fewshot.RelationCrossEntropy` is exactly the softmax
    cross-entropy over −τ·d (a shift common to all classes changes no
    softmax); subtracting d̄ keeps the scores near 0.5 instead of at the
    cross-entropy's clip when distances are large.

    Example:

    >>> import numpy as np
    >>> out = PrototypeDistance()(np.zeros((6, 2, 2, 3), "float32"), np.zeros((2, 2, 2, 3), "float32"))
    >>> tuple(out.shape), float(out[0, 0])
    ((6, 1), 0.5)
    """

    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        if float(scale) <= 0:
            raise ValueError(f"scale must be positive, got {scale}")
        self.scale = float(scale)

    def build(self, prototypes_shape, values_shape):
        self.log_scale = self.add_weight(shape=(), initializer=keras.initializers.Constant(
            math.log(self.scale)), name="log_scale")

    def call(self, prototypes, values):
        shape = ops.shape(values)
        protos = ops.cast(prototypes, "float32")
        values = ops.reshape(ops.cast(values, "float32"), (shape[0], 1, -1))
        protos = ops.reshape(protos, (shape[0], -1, ops.shape(values)[-1]))  # (B·Q, N, h·w·v)
        d = ops.mean(ops.square(protos - values), axis=-1)
        d = d - ops.mean(d, axis=1, keepdims=True)  # softmax ignores the shift; scores stay off the clip
        return ops.reshape(ops.sigmoid(-ops.exp(ops.cast(self.log_scale, "float32")) * d), (-1, 1))

    def compute_output_shape(self, prototypes_shape, values_shape):
        return (prototypes_shape[0], 1)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@register_model(task="fewshot", name="cross_transformer")
class CrossTransformer(FewShotModel):
    """CrossTransformer: query-aligned class prototypes by attention over support spatial features.

    Each image goes through the backbone; for every (query, class) pair each
    position of the query map attends over all positions of the class's
    support maps (:class:`QueryAlignedPrototypes`, built on
    :class:`~hgzoo.layers.CrossAttention`), giving a prototype aligned to the
    query; the score falls with the distance between the query's values and
    that prototype (:class:`PrototypeDistance`). Facts: ``papers.md`` §7 (the
    ACCV 2022 paper builds on Doersch et al. 2020 and has no code).

    Design choices (paper says / chose / why):

    - Keys: Doersch et al. use one key head for query and support maps; chose
      :class:`~hgzoo.layers.CrossAttention`'s separate query and key heads
      (the layer the issue names), which include the shared-head case.
    - Values: the paper projects support and query maps with the same value
      head; chose the same (``CrossAttention.project_values``).
    - Distance: the paper sums squared differences over positions and
      channels; chose the mean with a learned scale τ, so one τ suits any map
      size and width.
    - Scores: sigmoid(−τ·(d − d̄)), d̄ the mean over classes, so scores stay
      in (0, 1) like the other hgzoo few-shot models; default loss
      ``"cross_entropy"`` (:class:`~hgzoo.fewshot.RelationCrossEntropy`),
      which on these scores is exactly the paper's softmax cross-entropy over
      −τ·d.
    - SimCLR episodes, the paper's other ingredient, are a training recipe,
      not part of the model; not included.
    - Backbone: any hgzoo few-shot backbone (``"conv4"`` or ``"resnet12"``);
      the paper used ResNet-34 at 224 px, too large for this zoo's budgets.
    - :class:`~hgzoo.fewshot.SpatialMatching` with
      ``aligner="cross_transformer"`` matches these aligned prototypes region
      by region instead of by one distance (SM + CrossTransformer).

    Args:
        backbone: ``"conv4"`` or ``"resnet12"``.
        filters: backbone width (an int for conv4, four ints for resnet12).
        image_size, channels, mean, std, invert: the input, as in
            :class:`~hgzoo.fewshot.SoSN`.
        num_heads, key_dim, value_dim: the attention's sizes (1, 128,
            key_dim); the paper used one head and 128-d keys and values.
        scale: τ's starting value.
        n_way: None reads N from the labels; an int fixes it (JAX training).

    Example:

    >>> import numpy as np
    >>> from hgzoo.fewshot.cross_transformer import CrossTransformer
    >>> model = CrossTransformer(image_size=(28, 28), channels=1, filters=8, key_dim=8)
    >>> episode = {"support_images": np.random.rand(1, 5, 28, 28, 1),
    ...            "support_labels": np.arange(5)[None],
    ...            "query_images": np.random.rand(1, 3, 28, 28, 1)}
    >>> tuple(model(episode).shape)
    (1, 3, 5)
    """

    default_loss = "cross_entropy"
    search_space = {
        "key_dim": Choice([32, 64, 128]),
        "num_heads": Int(1, 4),
        "scale": Float(0.1, 10.0, sampling="log"),
    }

    def __init__(self, backbone="conv4", filters=None, image_size=(84, 84), channels=3, mean=OMNIGLOT_MEAN,
                 std=OMNIGLOT_STD, invert=False, num_heads=1, key_dim=128, value_dim=None, scale=1.0, n_way=None,
                 name="cross_transformer", dtype=None, **kwargs):
        if backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {BACKBONES}, got {backbone!r}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        filters = list(filters) if isinstance(filters, (list, tuple)) else filters
        support_images, support_labels, query_images = inputs = episode_inputs()
        x = EpisodeImages(image_size, channels, mean, std, invert, name="episode_images", dtype=dtype)(
            support_images, query_images)
        features = apply_backbone(backbone, x, filters, dtype=dtype)
        protos, values = QueryAlignedPrototypes(num_heads, key_dim, value_dim, n_way, name="cross_attention",
                                                dtype=dtype)(features, support_labels)
        scores = PrototypeDistance(scale, name="distance", dtype="float32")(protos, values)
        scores = EpisodeScores(name="scores", dtype="float32")(scores, query_images)
        super().__init__(inputs=inputs, outputs=scores, n_way=n_way, name=name, dtype=dtype, **kwargs)
        self.channels = channels
        self._args = {"backbone": backbone, "filters": filters, "image_size": [int(s) for s in image_size],
                      "channels": channels, "mean": float(mean), "std": float(std), "invert": bool(invert),
                      "num_heads": int(num_heads), "key_dim": int(key_dim),
                      "value_dim": int(value_dim) if value_dim else None, "scale": float(scale), "n_way": self.n_way}

    def get_config(self):
        return {**super().get_config(), **self._args}
