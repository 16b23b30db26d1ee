"""MlSo: Multi-level Second-order Few-shot Learning (2022; facts: ``papers.md`` §4)."""

import keras

from hgzoo.fewshot.backbones import BACKBONES, DEFAULT_FILTERS, apply_backbone
from hgzoo.fewshot.base import FewShotModel, episode_inputs
from hgzoo.fewshot.branch_matching import MATCHINGS, BranchDiscriminator, BranchMatching
from hgzoo.fewshot.episode_layers import ClassFeatureSum, EpisodeImages, EpisodeScores, RelationPairs
from hgzoo.fewshot.sosn import MIN_RELATION_SIZE, OMNIGLOT_MEAN, OMNIGLOT_STD, relation_network
from hgzoo.layers import PowerNorm, SecondOrderPool
from hgzoo.layers.power_norm import FUNCTIONS
from hgzoo.models.search_space import Choice, Float
from hgzoo.registry import register_model

# Smallest input side that leaves a feature map at every block: conv4's blocks 1-2 are unpadded
# conv + pool (n -> (n - 2) // 2 twice; 10 -> 4 -> 1), resnet12 has four pools.
MIN_SIDE = {"conv4": 10, "resnet12": 16}


def _level_layer(backbone, level):
    """Name of the layer whose output ends backbone block ``level`` (1-4)."""
    return f"encoder{level}_pool" if backbone == "resnet12" or level <= 2 else f"encoder{level}_relu"


def level_encoder(backbone, channels, filters, levels, dtype):
    """The backbone as one shared sub-model (any input size) returning the maps that end blocks ``levels``."""
    images = keras.Input((None, None, channels), name="images")
    full = keras.Model(images, apply_backbone(backbone, images, filters, dtype=dtype))
    outputs = [full.get_layer(_level_layer(backbone, i)).output for i in levels]
    return keras.Model(images, outputs, name="encoder")


@register_model(task="fewshot", name="mlso")
class MlSo(FewShotModel):
    """MlSo: second-order relations at several backbone depths and input scales, matched per pair.

    Every episode image is seen at each scale in ``scales`` (the resized image
    goes through one shared backbone) and read at each backbone depth in
    ``levels``: L×S branches. In each branch a 1×1 convolution (one per level,
    shared over scales) projects the map to ``width`` channels; support maps
    are summed per class; class and query maps become trace-normalised
    autocorrelation matrices (:class:`~hgzoo.layers.SecondOrderPool`, d×d
    whatever the spatial size) with an element-wise
    :class:`~hgzoo.layers.PowerNorm` of their own; one SoSN relation network
    scores every branch's (class, query) pair; the feature-matching module
    (:class:`~hgzoo.fewshot.branch_matching.BranchMatching`) weights the
    branches per pair; a self-supervised discriminator
    (:class:`~hgzoo.fewshot.branch_matching.BranchDiscriminator`) learns to
    tell each matrix's level and scale, its loss added while training.

    Design choices (the paper, ``papers.md`` §4, has no public code; only its
    abstract is known):

    - *Levels*: the paper says "multiple levels" of the backbone; chose the
      outputs of backbone blocks (``levels`` indexes conv4 / ResNet-12 blocks
      1-4; default the last two), because block ends are where the spatial
      resolution changes and these are the natural taps.
    - *Scales*: the paper says several input scales; chose resizing the
      already-standardised image by each factor and reusing one backbone,
      because shared weights keep the parameter count that of one branch and
      make the scales compete on the same features.
    - *Projection*: depths have different widths (ResNet-12); chose a linear
      1×1 convolution per level (no BN, no ReLU) to ``width`` channels, shared
      over scales, so every branch's matrix is ``width``×``width`` and one
      relation network can score all of them.
    - *Power normalisation*: the paper says element-wise PN per branch; chose
      one :class:`~hgzoo.layers.PowerNorm` per branch, SigmE by default, with
      a learnable strength (``learnable_strength``) so that each branch finds
      its own σ: the statistics of shallow and deep, small and large maps
      differ.
    - *Relation network*: chose SoSN's (``papers.md`` §3) shared by every
      branch, so adding branches adds no relation parameters and scores from
      different branches are on one scale for the matching soft-max.
    - *Feature matching*: the paper says a learned module weights the
      branches per support-query pair; chose a soft-max over the branch
      relation scores with a learned temperature and a learned per-branch prior,
      the final score being the weighted mean: it is per pair, learned, keeps
      the output a [0, 1] relation score (MSE / cross-entropy unchanged), and
      with ``matching="mean"`` gives the ablation without it.
    - *Discriminator*: the paper says a self-supervised discriminator
      predicts a representation's level and scale; chose an MLP on the upper
      triangle of each power-normalised matrix (class and query maps) with one
      head per factor and cross-entropy weighted by ``discriminator_weight``
      (0.1; 0 removes it), added through ``add_loss`` so plain ``fit`` trains
      it. The weight 0.1 keeps it an auxiliary term next to the relation loss.
    - *Loss*: MSE to the one-hot target, as SoSN (``compile(loss="cross_entropy")``
      for the alternative).

    Args:
        levels: backbone blocks (1-4) to take second-order matrices from.
        scales: input scale factors (each > 0; 1.0 is ``image_size``).
        backbone: ``"conv4"`` or ``"resnet12"``; ``filters`` its width(s).
        width: channels after each level's 1×1 projection: the d of the d×d
            matrices (at least 46 for the relation network).
        image_size, channels, mean, std, invert: as :class:`~hgzoo.fewshot.SoSN`.
        power_norm, strength: the element-wise PowerNorm of every branch.
        learnable_strength: learn each branch's strength.
        matching: ``"learned"`` (feature matching) or ``"mean"`` (ablation).
        discriminator_weight: weight of the level/scale loss (0: none).
        discriminator_hidden: the discriminator's hidden width.
        relation_filters, relation_hidden: relation network widths (64, 8).
        n_way: None reads N from the labels; an int fixes it (JAX training).

    Example:

    >>> import numpy as np, hgzoo
    >>> model = hgzoo.fewshot.MlSo(levels=(3, 4), scales=(1.0, 0.5), image_size=(28, 28), channels=1)
    >>> episode = {"support_images": np.random.rand(1, 5, 28, 28, 1),
    ...            "support_labels": np.arange(5)[None],
    ...            "query_images": np.random.rand(1, 3, 28, 28, 1)}
    >>> tuple(model(episode).shape)
    (1, 3, 5)
    """

    search_space = {
        "matching": Choice(list(MATCHINGS)),
        "discriminator_weight": Float(0.01, 1.0, sampling="log"),
        "strength": Float(1.0, 100.0, sampling="log"),
    }
    feature_layer = "features"  # per-image feature maps (deepest level, first scale), e.g. for ARL's heads

    def __init__(self, levels=(3, 4), scales=(1.0, 0.5), backbone="conv4", filters=None, width=64,
                 image_size=(84, 84), channels=3, mean=OMNIGLOT_MEAN, std=OMNIGLOT_STD, invert=False,
                 power_norm="sigme", strength=100.0, learnable_strength=True, matching="learned",
                 discriminator_weight=0.1, discriminator_hidden=64, relation_filters=64, relation_hidden=8,
                 n_way=None, name="mlso", dtype=None, **kwargs):
        levels, scales = [int(i) for i in levels], [float(s) for s in scales]
        image_size = [int(s) for s in image_size]
        if backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {BACKBONES}, got {backbone!r}")
        if not levels or len(set(levels)) != len(levels) or not all(1 <= i <= 4 for i in levels):
            raise ValueError(f"levels must be distinct backbone blocks in 1..4, got {levels}")
        if not scales or len(set(scales)) != len(scales) or min(scales) <= 0:
            raise ValueError(f"scales must be distinct positive factors, got {scales}")
        sides = [[max(1, round(side * s)) for side in image_size] for s in scales]
        if min(min(s) for s in sides) < MIN_SIDE[backbone]:
            raise ValueError(f"scales {scales} of image_size {tuple(image_size)} give images of {sides}; "
                             f"{backbone} needs at least {MIN_SIDE[backbone]} pixels a side")
        if power_norm not in FUNCTIONS:
            raise ValueError(f"power_norm must be one of {FUNCTIONS}, got {power_norm!r}")
        if matching not in MATCHINGS:
            raise ValueError(f"matching must be one of {MATCHINGS}, got {matching!r}")
        if int(width) < MIN_RELATION_SIZE:
            raise ValueError(f"the relation network needs second-order maps of at least {MIN_RELATION_SIZE}×"
                             f"{MIN_RELATION_SIZE}: width must be {MIN_RELATION_SIZE}+, got {width}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        if float(discriminator_weight) < 0:
            raise ValueError(f"discriminator_weight must be >= 0, got {discriminator_weight}")
        filters = list(filters) if isinstance(filters, (list, tuple)) else (
            DEFAULT_FILTERS[backbone] if filters is None else int(filters))

        support_images, support_labels, query_images = inputs = episode_inputs()
        x = EpisodeImages(image_size, channels, mean, std, invert, name="episode_images", dtype=dtype)(
            support_images, query_images)
        encoder = level_encoder(backbone, channels, filters, levels, dtype)
        projections = [keras.layers.Conv2D(width, 1, name=f"project{level}", dtype=dtype) for level in levels]
        pool = SecondOrderPool("autocorrelation", trace_normalize=True, name="second_order", dtype=dtype)
        maps = [[None] * len(scales) for _ in levels]
        for j, (scale, side) in enumerate(zip(scales, sides)):
            scaled = x if scale == 1.0 else keras.layers.Resizing(
                *side, interpolation="bilinear", antialias=True, name=f"scale{j}", dtype=dtype)(x)
            features = encoder(scaled)
            features = features if isinstance(features, (list, tuple)) else [features]
            for i, level in enumerate(levels):
                maps[i][j] = projections[i](features[i])
        maps[-1][0] = keras.layers.Identity(name=self.feature_layer, dtype=dtype)(maps[-1][0])
        matrices = []
        for i, level in enumerate(levels):
            for j in range(len(scales)):
                classes, queries = ClassFeatureSum(n_way, name=f"class_sum_l{level}_s{j}", dtype=dtype)(
                    maps[i][j], support_labels)
                norm = PowerNorm(power_norm, strength, learnable=learnable_strength,
                                 name=f"power_norm_l{level}_s{j}", dtype=dtype)
                matrices += [norm(pool(classes)), norm(pool(queries))]
        if discriminator_weight > 0:
            matrices = BranchDiscriminator(len(levels), len(scales), discriminator_hidden,
                                           discriminator_weight, name="discriminator", dtype=dtype)(matrices)
        pairs = [RelationPairs(name=f"pairs{r}", dtype=dtype)(classes, queries, support_labels)
                 for r, (classes, queries) in enumerate(zip(matrices[::2], matrices[1::2]))]
        pairs = pairs[0] if len(pairs) == 1 else keras.layers.Concatenate(axis=0, name="branch_pairs",
                                                                           dtype=dtype)(pairs)
        branch_scores = relation_network(pairs, relation_filters, relation_hidden, dtype)
        matched = BranchMatching(len(levels) * len(scales), matching, name="matching", dtype="float32")(
            branch_scores)
        scores = EpisodeScores(name="scores", dtype="float32")(matched, query_images)
        super().__init__(inputs=inputs, outputs=scores, n_way=n_way, name=name, dtype=dtype, **kwargs)
        self.channels = channels
        self._args = {"levels": levels, "scales": scales, "backbone": backbone, "filters": filters,
                      "width": int(width), "image_size": image_size, "channels": channels,
                      "mean": float(mean),
                      "std": float(std), "invert": bool(invert), "power_norm": power_norm,
                      "strength": float(strength), "learnable_strength": bool(learnable_strength),
                      "matching": matching, "discriminator_weight": float(discriminator_weight),
                      "discriminator_hidden": int(discriminator_hidden),
                      "relation_filters": int(relation_filters),
                      "relation_hidden": int(relation_hidden), "n_way": self.n_way}

    def get_config(self):
        return {**super().get_config(), **self._args}
