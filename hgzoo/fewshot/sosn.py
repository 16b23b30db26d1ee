"""SoSN: Power Normalizing Second-order Similarity Network (Zhang and Koniusz, WACV 2019)."""

import keras

from hgzoo.fewshot.backbones import BACKBONES, DEFAULT_FILTERS, apply_backbone, conv_bn
from hgzoo.fewshot.base import FewShotModel, episode_inputs
from hgzoo.fewshot.episode_layers import ClassFeatureSum, EpisodeImages, EpisodeScores, RelationPairs
from hgzoo.layers import PowerNorm, SecondOrderPool
from hgzoo.layers.power_norm import FUNCTIONS
from hgzoo.models.search_space import Choice, Float
from hgzoo.registry import register_model

OMNIGLOT_MEAN, OMNIGLOT_STD = 0.92206, 0.08426
MIN_RELATION_SIZE = 46  # d -> (d - 2) // 2, four times, must leave at least 1


def relation_network(x, filters, hidden, dtype, norm=None, k2_block=False):
    """SoSN's SimilarityNetwork on (pairs, d, d, 2): 4 × [Conv k3 + BN + ReLU + MaxPool2], fc-ReLU, fc, sigmoid.

    ``norm(x, name)`` replaces its BatchNorm (:func:`~hgzoo.fewshot.backbones.conv_bn`); ``k2_block``
    adds SalNet's 5th block, Conv k2 + BN + ReLU (2×2 -> 1×1 for 64×64 maps).
    """
    for i in range(4):
        x = conv_bn(x, filters, "valid", f"relation{i + 1}", dtype, norm=norm)
        x = keras.layers.ReLU(name=f"relation{i + 1}_relu", dtype=dtype)(x)
        x = keras.layers.MaxPooling2D(2, name=f"relation{i + 1}_pool", dtype=dtype)(x)
    if k2_block:
        x = conv_bn(x, filters, "valid", "relation5", dtype, kernel=2, norm=norm)
        x = keras.layers.ReLU(name="relation5_relu", dtype=dtype)(x)
    x = keras.layers.Flatten(name="relation_flatten", dtype=dtype)(x)
    dense = {"kernel_initializer": keras.initializers.RandomNormal(0.0, 0.01),
             "bias_initializer": keras.initializers.Constant(1.0)}
    x = keras.layers.Dense(hidden, activation="relu", name="relation_fc1", dtype=dtype, **dense)(x)
    x = keras.layers.Dense(1, name="relation_fc2", dtype=dtype, **dense)(x)
    return keras.layers.Activation("sigmoid", name="relation_score", dtype="float32")(x)


@register_model(task="fewshot", name="sosn")
class SoSN(FewShotModel):
    """SoSN: second-order class and query representations compared by a relation network.

    Each image goes through the backbone; the support feature maps of a class
    are summed over its shots; class and query maps become trace-normalised
    autocorrelation matrices ``M/tr(M)`` (:class:`~hgzoo.layers.SecondOrderPool`),
    power-normalised (:class:`~hgzoo.layers.PowerNorm`, SigmE by default); each
    (class, query) pair is stacked as a 2-channel d×d image and scored in
    [0, 1] by the relation network. Trained with MSE to the one-hot target,
    as published (``compile(loss="cross_entropy")`` for the alternative).
    Architecture facts: ``papers.md`` §3.

    Args:
        backbone: ``"conv4"`` (the paper's) or ``"resnet12"``.
        filters: backbone width: an int for conv4 (64), four ints for resnet12.
        image_size: (h, w) images are resized to inside the model (84×84 for
            miniImageNet, 28×28 for Omniglot).
        channels: 3 (RGB) or 1 (grayscale).
        mean, std: input standardisation; the defaults are the Omniglot
            statistics that the official code uses for every dataset.
        invert: feed 1 - x (bright strokes on black).
        power_norm: ``"sigme"``, ``"maxexp"``, ``"gamma"``, ``"asinhe"``, or
            ``"none"`` for the plain second-order matrix.
        strength: the power normalisation's σ / η / γ (SigmE: 100 as
            published for miniImageNet; the Omniglot code uses 1).
        spectral, fast, learnable: :class:`~hgzoo.layers.PowerNorm` modes.
        relation_filters, relation_hidden: relation network widths (64, 8).
        n_way: None reads N from the labels on each call; an int fixes it
            (needed for training on JAX, whose traces have static shapes).
        pretrained: False, True (``sosn_omniglot``), a preset id or a path.

    Example:

    >>> import numpy as np, hgzoo
    >>> model = hgzoo.fewshot.SoSN(image_size=(28, 28), channels=1)
    >>> episode = {"support_images": np.random.rand(1, 5, 28, 28, 1),
    ...            "support_labels": np.arange(5)[None],
    ...            "query_images": np.random.rand(1, 3, 28, 28, 1)}
    >>> tuple(model(episode).shape)
    (1, 3, 5)
    """

    search_space = {
        # Gamma is left out: its strength lives in (0, 1], not on this range.
        "power_norm": Choice(["sigme", "maxexp", "asinhe"]),
        "strength": Float(1.0, 100.0, sampling="log"),
        "spectral": Choice([False, True]),
    }

    def __init__(self, backbone="conv4", filters=None, image_size=(84, 84), channels=3, mean=OMNIGLOT_MEAN,
                 std=OMNIGLOT_STD, invert=False, power_norm="sigme", strength=100.0, spectral=False, fast=False,
                 learnable=False, relation_filters=64, relation_hidden=8, n_way=None, name="sosn", dtype=None,
                 **kwargs):
        if backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {BACKBONES}, got {backbone!r}")
        if power_norm not in FUNCTIONS + ("none",):
            raise ValueError(f"power_norm must be one of {FUNCTIONS + ('none',)}, got {power_norm!r}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        filters = list(filters) if isinstance(filters, (list, tuple)) else filters
        widths = DEFAULT_FILTERS[backbone] if filters is None else filters
        width = widths[-1] if isinstance(widths, (list, tuple)) else widths
        if int(width) < MIN_RELATION_SIZE:
            raise ValueError(f"the relation network's four unpadded conv + pool blocks need second-order maps of "
                             f"at least {MIN_RELATION_SIZE}×{MIN_RELATION_SIZE}: give the backbone's last stage "
                             f"{MIN_RELATION_SIZE}+ filters, got {width}")
        support_images, support_labels, query_images = inputs = episode_inputs()
        x = EpisodeImages(image_size, channels, mean, std, invert, name="episode_images", dtype=dtype)(
            support_images, query_images)
        features = apply_backbone(backbone, x, filters, dtype=dtype)
        classes, queries = ClassFeatureSum(n_way, name="class_sum", dtype=dtype)(features, support_labels)
        pool = SecondOrderPool("autocorrelation", trace_normalize=True, name="second_order", dtype=dtype)
        classes, queries = pool(classes), pool(queries)
        if power_norm != "none":
            norm = PowerNorm(power_norm, strength, spectral=spectral, fast=fast, learnable=learnable,
                             name="power_norm", dtype=dtype)
            classes, queries = norm(classes), norm(queries)
        pairs = RelationPairs(name="pairs", dtype=dtype)(classes, queries, support_labels)
        scores = EpisodeScores(name="scores", dtype="float32")(
            relation_network(pairs, relation_filters, relation_hidden, dtype), query_images)
        super().__init__(inputs=inputs, outputs=scores, n_way=n_way, name=name, dtype=dtype, **kwargs)
        self.channels = channels
        self._args = {"backbone": backbone, "filters": filters, "image_size": [int(s) for s in image_size],
                      "channels": channels, "mean": float(mean), "std": float(std), "invert": bool(invert),
                      "power_norm": power_norm, "strength": float(strength), "spectral": bool(spectral),
                      "fast": bool(fast), "learnable": bool(learnable), "relation_filters": int(relation_filters),
                      "relation_hidden": int(relation_hidden), "n_way": self.n_way}

    def get_config(self):
        return {**super().get_config(), **self._args}
