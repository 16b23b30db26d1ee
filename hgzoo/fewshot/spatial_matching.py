"""Spatially-aware matching (SM) for few-shot learning (ACCV 2022), optionally over CrossTransformer prototypes."""

import keras
from keras import ops

from hgzoo.fewshot.backbones import BACKBONES, apply_backbone
from hgzoo.fewshot.base import FewShotModel, episode_inputs
from hgzoo.fewshot.cross_transformer import QueryAlignedPrototypes
from hgzoo.fewshot.episode_layers import ClassFeatureSum, EpisodeImages, EpisodeScores
from hgzoo.fewshot.region_layers import (DESCRIPTORS, FeatureRegions, RegionPairs, SoftMatch,
                                         region_count)
from hgzoo.fewshot.sosn import OMNIGLOT_MEAN, OMNIGLOT_STD
from hgzoo.layers import AuxiliaryCrossEntropy, PowerNorm
from hgzoo.layers.power_norm import FUNCTIONS
from hgzoo.models.search_space import Choice, Float
from hgzoo.registry import register_model

ALIGNERS = ("none", "cross_transformer")


@register_model(task="fewshot", name="spatial_matching")
class SpatialMatching(FewShotModel):
    """Spatially-aware matching: support and query compared region by region, at several scales.

    Each image goes through the backbone; a class's support maps are summed
    over its shots (as in SoSN). Class and query maps are cut into regions on
    several grids (``grids=(1, 2)``: the whole map and a 2×2 grid,
    :class:`~hgzoo.fewshot.region_layers.FeatureRegions`); each region gets a
    SoSN-style second-order descriptor (trace-normalised autocorrelation,
    power-normalised) embedded by a shared dense layer. Every support-region
    × query-region pair gets a relation logit from a small MLP
    (:class:`~hgzoo.fewshot.region_layers.RegionPairs`); a learned soft-max
    over the R×R pair logits lets the best-matching pairs dominate
    (:class:`~hgzoo.fewshot.region_layers.SoftMatch`); the class score is the
    sigmoid of the pooled logit. A discriminator predicts each region's scale
    and place from its embedding (self-supervision, an auxiliary loss added
    in ``fit``). Facts: ``papers.md`` §7 (abstract level, no code).

    Design choices (paper says / chose / why):

    - Regions: the paper matches "at several scales and locations"; chose
      regions of the backbone map (adaptive-pooling cuts, neighbours overlap
      by a position when the size does not divide) rather than image crops,
      so the backbone runs once per image.
    - Descriptor: chose SoSN's second-order matrix per region (the authors'
      line of work) with SigmE; ``descriptor="average"`` takes the
      L2-normalised mean feature instead (cheap, first-order).
    - Relation: SoSN's conv relation network on every one of the R² pairs per
      (query, class) would cost R² SoSNs; chose an MLP on [support; query]
      region embeddings, its first layer split into a support and a query
      half applied once per region, so pairs cost one add, ReLU and a dot.
    - Weighting: "a learned soft-max over pair scores" — chose
      ``softmax((l + b)/τ)`` with a learned temperature τ and a learned R×R
      prior b over scale/place pairings; ``weighting=False`` takes the mean
      (the ablation).
    - Discriminator: predicts the joint scale×place index of a region (one
      R-way softmax) with a 2-layer MLP on region embeddings of both sides;
      weight ``discriminator_weight`` (0.1; 0 removes it). It is a plain
      self-supervised predictor, not adversarial.
    - Output: sigmoid scores, trained by default with softmax cross-entropy
      over the classes (:class:`~hgzoo.fewshot.RelationCrossEntropy`);
      ``compile(loss="mse")`` gives SoSN's MSE to one-hot. Chosen on held-out
      Omniglot background characters (40 s of training each, 5-way 1-shot):
      cross-entropy 75.6 ± 1.8 %, MSE 64.6 ± 2.2 %, cross-entropy with
      discriminator weight 0.01 73.9 ± 2.3 %
      (``benchmarks/results/fewshot/fewshot_sm_settings.json``).
    - SM + CrossTransformer: ``aligner="cross_transformer"`` replaces the
      shot-summed class map by the query-aligned prototype of
      :class:`~hgzoo.fewshot.cross_transformer.QueryAlignedPrototypes` and
      the query map by its values, then matches them region by region.

    Args:
        backbone: ``"conv4"`` or ``"resnet12"``; filters: its width.
        image_size, channels, mean, std, invert: the input, as in
            :class:`~hgzoo.fewshot.SoSN`.
        grids: grid sizes of the regions, e.g. ``(1, 2)`` (R = Σ g² = 5).
        descriptor: ``"second_order"`` or ``"average"``.
        power_norm, strength: the second-order descriptor's power
            normalisation (``"sigme"``, σ = 100 as SoSN; ``"none"`` for none).
        embed_dim: the region embedding width (64).
        relation_hidden: the pair MLP's hidden width (32).
        weighting: the learned soft-max over pairs (True) or the mean (False).
        temperature: τ's starting value (1).
        discriminator_weight: the auxiliary loss weight (0.1; 0: no discriminator).
        discriminator_hidden: its hidden width (32).
        aligner: ``"none"`` or ``"cross_transformer"`` (SM + CrossTransformer).
        num_heads, key_dim: the CrossTransformer's attention sizes (aligner only).
        n_way: None reads N from the labels; an int fixes it (JAX training).

    Example:

    >>> import numpy as np
    >>> from hgzoo.fewshot.spatial_matching import SpatialMatching
    >>> model = SpatialMatching(image_size=(28, 28), channels=1, filters=8, embed_dim=8)
    >>> episode = {"support_images": np.random.rand(1, 5, 28, 28, 1),
    ...            "support_labels": np.arange(5)[None],
    ...            "query_images": np.random.rand(1, 3, 28, 28, 1)}
    >>> tuple(model(episode).shape)
    (1, 3, 5)
    """

    default_loss = "cross_entropy"
    search_space = {
        "descriptor": Choice(list(DESCRIPTORS)),
        "strength": Float(1.0, 100.0, sampling="log"),
        "temperature": Float(0.1, 10.0, sampling="log"),
        "discriminator_weight": Float(0.01, 1.0, sampling="log"),
        "embed_dim": Choice([32, 64, 128]),
    }

    def __init__(self, backbone="conv4", filters=None, image_size=(84, 84), channels=3, mean=OMNIGLOT_MEAN,
                 std=OMNIGLOT_STD, invert=False, grids=(1, 2), descriptor="second_order", power_norm="sigme",
                 strength=100.0, embed_dim=64, relation_hidden=32, weighting=True, temperature=1.0,
                 discriminator_weight=0.1, discriminator_hidden=32, aligner="none", num_heads=1, key_dim=64,
                 n_way=None, name="spatial_matching", dtype=None, **kwargs):
        if backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {BACKBONES}, got {backbone!r}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        if power_norm not in FUNCTIONS + ("none",):
            raise ValueError(f"power_norm must be one of {FUNCTIONS + ('none',)}, got {power_norm!r}")
        if aligner not in ALIGNERS:
            raise ValueError(f"aligner must be one of {ALIGNERS}, got {aligner!r}")
        if float(discriminator_weight) < 0:
            raise ValueError(f"discriminator_weight must be >= 0, got {discriminator_weight}")
        filters = list(filters) if isinstance(filters, (list, tuple)) else filters
        grids = [int(g) for g in grids]
        regions = region_count(grids)
        support_images, support_labels, query_images = inputs = episode_inputs()
        x = EpisodeImages(image_size, channels, mean, std, invert, name="episode_images", dtype=dtype)(
            support_images, query_images)
        features = apply_backbone(backbone, x, filters, dtype=dtype)
        if aligner == "cross_transformer":
            classes, queries = QueryAlignedPrototypes(num_heads, key_dim, n_way=n_way, name="cross_attention",
                                                      dtype=dtype)(features, support_labels)
        else:
            classes, queries = ClassFeatureSum(n_way, name="class_sum", dtype=dtype)(features, support_labels)
        cut = FeatureRegions(grids, descriptor, name="regions", dtype=dtype)
        classes, queries = cut(classes), cut(queries)
        if descriptor == "second_order" and power_norm != "none":
            norm = PowerNorm(power_norm, strength, name="power_norm", dtype=dtype)
            classes, queries = norm(classes), norm(queries)
        flatten = keras.layers.Reshape((regions, -1), name="region_flatten", dtype=dtype)
        embed = keras.layers.Dense(embed_dim, activation="relu", name="region_embed", dtype=dtype)
        classes, queries = embed(flatten(classes)), embed(flatten(queries))
        if discriminator_weight > 0:
            hidden = keras.layers.Dense(discriminator_hidden, activation="relu", name="discriminator_fc1",
                                        dtype=dtype)
            logits = keras.layers.Dense(regions, name="discriminator_fc2", dtype=dtype)
            heads = [logits(hidden(classes)), logits(hidden(queries))]
            # Region r's target is its index r (FeatureRegions' numbering of scales and places).
            targets = [ops.zeros_like(h[..., 0], dtype="int32") + ops.arange(regions, dtype="int32") for h in heads]
            classes, queries = AuxiliaryCrossEntropy(discriminator_weight, name="discriminator_loss", dtype="float32")(
                heads, targets, [classes, queries])
        support_half = keras.layers.Dense(relation_hidden, use_bias=False, name="relation_support", dtype=dtype)
        query_half = keras.layers.Dense(relation_hidden, name="relation_query", dtype=dtype)
        pairs = RegionPairs(aligner == "cross_transformer", name="region_pairs", dtype=dtype)(
            support_half(classes), query_half(queries), support_labels)
        pair_logits = keras.layers.Dense(1, name="relation_out", dtype=dtype)(pairs)
        logit = SoftMatch(weighting, temperature, name="soft_match", dtype="float32")(pair_logits)
        scores = keras.layers.Activation("sigmoid", name="relation_score", dtype="float32")(logit)
        scores = EpisodeScores(name="scores", dtype="float32")(scores, query_images)
        super().__init__(inputs=inputs, outputs=scores, n_way=n_way, name=name, dtype=dtype, **kwargs)
        self.channels = channels
        self._args = {"backbone": backbone, "filters": filters, "image_size": [int(s) for s in image_size],
                      "channels": channels, "mean": float(mean), "std": float(std), "invert": bool(invert),
                      "grids": grids, "descriptor": descriptor, "power_norm": power_norm, "strength": float(strength),
                      "embed_dim": int(embed_dim), "relation_hidden": int(relation_hidden),
                      "weighting": bool(weighting), "temperature": float(temperature),
                      "discriminator_weight": float(discriminator_weight),
                      "discriminator_hidden": int(discriminator_hidden), "aligner": aligner,
                      "num_heads": int(num_heads), "key_dim": int(key_dim), "n_way": self.n_way}

    def get_config(self):
        return {**super().get_config(), **self._args}
