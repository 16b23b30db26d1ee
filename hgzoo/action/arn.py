"""ARN: Few-shot Action Recognition with Permutation-invariant Attention (Zhang, Zhang, Qi, Li, Torr, Koniusz; ECCV 2020)."""

import keras

from hgzoo.action.base import ClipFewShotModel, clip_inputs
from hgzoo.action.clip_layers import (
    AttentionScale,
    AxisMax,
    ClassMean,
    ClipScores,
    ClipShuffle,
    EpisodeClips,
    PairStack,
)
from hgzoo.layers import AuxiliaryCrossEntropy, PowerNorm, SecondOrderPool
from hgzoo.models.search_space import Choice, Float
from hgzoo.registry import register_model

ATTENTION = ("spatial", "temporal", "both", "none")
POOLING = ("second_order", "mean")
KINETICS_MEAN, KINETICS_STD = 0.45, 0.225  # the usual video-network statistics; the ARN code does not show its own


def max_pool(size, name):
    """MaxPooling3D computed in float32: TensorFlow has no float16 MaxPool3D kernel on CPUs (mixed precision)."""
    return keras.layers.MaxPooling3D(size, padding="same", name=name, dtype="float32")


def conv_bn_relu(x, filters, name, dtype, momentum, rank=3, kernel=3):
    conv = keras.layers.Conv3D if rank == 3 else keras.layers.Conv2D
    x = conv(filters, kernel, padding="same", name=f"{name}_conv", dtype=dtype)(x)
    x = keras.layers.BatchNormalization(momentum=momentum, epsilon=1e-5, name=f"{name}_bn", dtype=dtype)(x)
    return keras.layers.ReLU(name=f"{name}_relu", dtype=dtype)(x)


class _Encoder:
    """FeatureEncoder3D: 4 × [Conv3d k3 p1 + BN + ReLU], MaxPool3d(2) after blocks 1 and 2; its layers are
    built once and applied to the episode clips and to the self-supervised clips alike."""

    def __init__(self, filters, dtype, momentum):
        self.layers = []
        for i in range(4):
            name = f"encoder{i + 1}"
            self.layers += [keras.layers.Conv3D(filters, 3, padding="same", name=f"{name}_conv", dtype=dtype),
                            keras.layers.BatchNormalization(momentum=momentum, epsilon=1e-5, name=f"{name}_bn",
                                                            dtype=dtype),
                            keras.layers.ReLU(name=f"{name}_relu", dtype=dtype)]
            if i < 2:
                self.layers.append(max_pool(2, f"{name}_pool"))

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def spatial_detector(x, dtype, momentum):
    """SpatialDetector: 2 × [Conv3d→16 + BN + ReLU + MaxPool(2,1,1)] → max over the remaining steps → Conv k1 → sigmoid."""
    for i in range(2):
        x = conv_bn_relu(x, 16, f"spatial_attention{i + 1}", dtype, momentum)
        x = max_pool((2, 1, 1), f"spatial_attention{i + 1}_pool")(x)
    x = AxisMax((1,), name="spatial_attention_time_max", dtype=dtype)(x)
    return keras.layers.Conv3D(1, 1, activation="sigmoid", name="spatial_attention_map", dtype=dtype)(x)


def temporal_detector(x, dtype, momentum):
    """TemporalDetectorV1: 2 × [Conv3d→16 + BN + ReLU] → max over the whole frame → Conv k1 → sigmoid: one weight per step."""
    x = conv_bn_relu(x, 16, "temporal_attention1", dtype, momentum)
    x = max_pool((1, 4, 4), "temporal_attention1_pool")(x)
    x = conv_bn_relu(x, 16, "temporal_attention2", dtype, momentum)
    x = AxisMax((2, 3), name="temporal_attention_space_max", dtype=dtype)(x)
    return keras.layers.Conv3D(1, 1, activation="sigmoid", name="temporal_attention_map", dtype=dtype)(x)


def discriminator(x, name, classes, hidden, dtype, momentum):
    """Discriminator3D: 2 × [Conv3d k3 + BN + ReLU + MaxPool3d(2)] → fc-ReLU → fc (permutation logits)."""
    filters = x.shape[-1]
    for i in range(2):
        x = conv_bn_relu(x, filters, f"{name}{i + 1}", dtype, momentum)
        x = max_pool(2, f"{name}{i + 1}_pool")(x)
    x = keras.layers.Flatten(name=f"{name}_flatten", dtype=dtype)(x)
    x = keras.layers.Dense(hidden, activation="relu", name=f"{name}_fc1", dtype=dtype)(x)
    return keras.layers.Dense(classes, name=f"{name}_fc2", dtype=dtype)(x)


def similarity_network(x, filters, hidden, dtype, momentum):
    """SimilarityNetwork: 4 × [Conv k3 p1 + BN + ReLU] with residual adds in blocks 2-4, MaxPool2 after each;
    fc1-ReLU, fc2, sigmoid."""
    x = conv_bn_relu(x, filters, "relation1", dtype, momentum, rank=2)
    x = keras.layers.MaxPooling2D(2, name="relation1_pool", dtype=dtype)(x)
    for i in range(2, 5):
        y = conv_bn_relu(x, filters, f"relation{i}", dtype, momentum, rank=2)
        x = keras.layers.Add(name=f"relation{i}_add", dtype=dtype)([x, y])
        x = keras.layers.MaxPooling2D(2, name=f"relation{i}_pool", dtype=dtype)(x)
    x = keras.layers.Flatten(name="relation_flatten", dtype=dtype)(x)
    x = keras.layers.Dense(hidden, activation="relu", name="relation_fc1", dtype=dtype)(x)
    x = keras.layers.Dense(1, name="relation_fc2", dtype=dtype)(x)
    return keras.layers.Activation("sigmoid", name="relation_score", dtype="float32")(x)


def vector_relation_network(x, dtype):
    """The code's RelationNetwork on concatenated first-order vectors: fc 2d→1024-ReLU → 256-ReLU → 1 → sigmoid."""
    x = keras.layers.Flatten(name="relation_flatten", dtype=dtype)(x)
    x = keras.layers.Dense(1024, activation="relu", name="relation_fc1", dtype=dtype)(x)
    x = keras.layers.Dense(256, activation="relu", name="relation_fc2", dtype=dtype)(x)
    x = keras.layers.Dense(1, name="relation_fc3", dtype=dtype)(x)
    return keras.layers.Activation("sigmoid", name="relation_score", dtype="float32")(x)


@register_model(task="action", name="arn")
class ARN(ClipFewShotModel):
    """ARN: 3D-conv clip features, attention, second-order matrices with SigmE, a relation network, self-supervision.

    Every clip of the episode is sampled to ``frames`` frames of
    ``image_size`` and standardised (inside the model); FeatureEncoder3D gives
    (frames/4, h/4, w/4, filters) features; the spatial and/or temporal
    detector re-weights them as ``feat·(1 + att)``; each clip becomes one
    trace-normalised autocorrelation matrix ``M/tr(M)``
    (:class:`~hgzoo.layers.SecondOrderPool`, over all its positions and steps:
    permutation-invariant) with SigmE (:class:`~hgzoo.layers.PowerNorm`,
    σ = 100); support matrices are averaged over a class's shots; each
    (class, query) pair is stacked as a 2-channel d×d image and scored by the
    residual SimilarityNetwork. Module facts: ``papers.md`` §8 (the official
    ``src/models.py``).

    Self-supervision (training only): clips are shuffled, by 4 temporal
    segments (``temporal_order_weight``) or by 2×2 spatial tiles in every frame
    (``jigsaw_weight``), with one of ``permutations`` fixed permutations; the
    shared encoder and a Discriminator3D head per task predict which, and
    ``weight`` × its cross-entropy is added to the loss. Inference runs the
    heads on one clip only and adds nothing.

    Choices where the released code (evaluation only, no training script)
    leaves a gap, or fixes sizes for 20 × 128² clips:

    - the detectors' fixed pools (SpatialDetector's two (2,1,1) pools take 5
      steps to 1; TemporalDetectorV1's (1,4,4), (1,8,8) take 32² to 1²) are
      kept where they fit and closed by a max over the remaining steps /
      positions, so any ``frames`` and ``image_size`` work;
    - all poolings pad ("same"), so short clips keep at least one step;
    - Discriminator3D's fc1 reads the flattened map (4096 in the code);
      ``discriminator_hidden`` is its width (1024 in the code);
    - the self-supervised heads read the encoder features without attention;
      the loss weights are not in the code: 0.1 each is hgzoo's default;
    - BatchNorm: the code's ``momentum=1`` (Keras' 0.0: evaluation uses the
      last training batch's statistics) is ``bn_momentum=0.0``; hgzoo's
      default 0.9 averages the recent batches, a steadier evaluation.
    - frame standardisation: mean 0.45, std 0.225 (the code does not show it).

    Args:
        frames: T the model samples every clip to (20 in the paper).
        image_size: (h, w) frames are resized to (128×128 in the paper).
        channels: 3 (RGB) or 1.
        filters: encoder width (64); also the second-order matrix size d.
        attention: ``"spatial"`` (the code's SpatialDetector), ``"temporal"``,
            ``"both"`` or ``"none"``.
        temporal_order_weight, jigsaw_weight: auxiliary loss weights (0 turns
            a task off).
        permutations: classes of each self-supervised task (10 in the code).
        discriminator_hidden: Discriminator3D's hidden width (1024).
        strength: SigmE σ (100).
        relation_filters, relation_hidden: SimilarityNetwork widths (64, 8).
        mean, std: frame standardisation.
        bn_momentum: of every BatchNorm (see above).
        pooling: ``"second_order"`` (ARN) or ``"mean"``: the clip's features
            averaged into one vector, class and query vectors concatenated and
            scored by the code's first-order RelationNetwork (fc 1024, 256, 1),
            the baseline ARN's pooling is compared with.
        n_way: None reads N from the labels; an int fixes it (training on JAX).
        seed: of the self-supervised permutations.

    Example:

    >>> import numpy as np, hgzoo
    >>> model = hgzoo.action.ARN(frames=4, image_size=(16, 16), filters=16, relation_filters=16)
    >>> episode = {"support_clips": np.random.rand(1, 3, 6, 20, 20, 3),
    ...            "support_labels": np.arange(3)[None],
    ...            "query_clips": np.random.rand(1, 2, 6, 20, 20, 3)}
    >>> tuple(model(episode).shape)
    (1, 2, 3)
    """

    search_space = {
        "attention": Choice(["none", "spatial", "temporal", "both"]),
        "temporal_order_weight": Float(0.0, 1.0),
        "jigsaw_weight": Float(0.0, 1.0),
        "strength": Float(1.0, 100.0, sampling="log"),
    }

    def __init__(self, frames=20, image_size=(128, 128), channels=3, filters=64, attention="spatial",
                 temporal_order_weight=0.1, jigsaw_weight=0.1, permutations=10, discriminator_hidden=1024,
                 strength=100.0, relation_filters=64, relation_hidden=8, mean=KINETICS_MEAN, std=KINETICS_STD,
                 bn_momentum=0.9, pooling="second_order", n_way=None, seed=None, name="arn", dtype=None, **kwargs):
        if pooling not in POOLING:
            raise ValueError(f"pooling must be one of {POOLING}, got {pooling!r}")
        if attention not in ATTENTION:
            raise ValueError(f"attention must be one of {ATTENTION}, got {attention!r}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        if pooling == "second_order" and int(filters) < 16:
            raise ValueError(f"the SimilarityNetwork pools the d×d matrices four times: filters (d) must be at "
                             f"least 16, got {filters}")
        if min(temporal_order_weight, jigsaw_weight) < 0:
            raise ValueError("temporal_order_weight and jigsaw_weight must be >= 0")
        if temporal_order_weight and int(frames) % 4:
            raise ValueError(f"temporal-order prediction cuts clips into 4 segments: frames must be a multiple "
                             f"of 4, got {frames} (or set temporal_order_weight=0)")
        if jigsaw_weight and any(int(s) % 2 for s in image_size):
            raise ValueError(f"the spatial jigsaw cuts frames into 2×2 tiles: image_size must be even, got "
                             f"{tuple(image_size)} (or set jigsaw_weight=0)")
        momentum = float(bn_momentum)
        support, labels, query = inputs = clip_inputs()
        clips = EpisodeClips(frames, image_size, channels, mean, std, name="episode_clips", dtype=dtype)(support, query)
        encoder = _Encoder(int(filters), dtype, momentum)
        features = encoder(clips)
        if attention in ("spatial", "both"):
            features = AttentionScale(name="spatial_attention", dtype=dtype)(
                features, spatial_detector(features, dtype, momentum))
        if attention in ("temporal", "both"):
            features = AttentionScale(name="temporal_attention", dtype=dtype)(
                features, temporal_detector(features, dtype, momentum))
        flat = keras.layers.Reshape((-1, int(filters)), name="positions", dtype=dtype)(features)
        if pooling == "second_order":
            pooled = SecondOrderPool("autocorrelation", trace_normalize=True, name="second_order", dtype=dtype)(flat)
            pooled = PowerNorm("sigme", strength, name="power_norm", dtype=dtype)(pooled)
        else:  # (n, d, 1): PairStack then stacks class and query vectors as (d, 1, 2)
            pooled = keras.layers.Reshape((int(filters), 1), name="mean_vector", dtype=dtype)(
                keras.layers.GlobalAveragePooling1D(name="mean_pool", dtype=dtype)(flat))
        classes, queries = ClassMean(n_way, name="class_mean", dtype=dtype)(pooled, labels)
        pairs = PairStack(name="pairs", dtype=dtype)(classes, queries, labels)
        pair_scores = (similarity_network(pairs, relation_filters, relation_hidden, dtype, momentum)
                       if pooling == "second_order" else vector_relation_network(pairs, dtype))
        for task, weight, head in (("temporal", temporal_order_weight, "order"), ("spatial", jigsaw_weight, "jigsaw")):
            if weight:
                shuffled, target = ClipShuffle(task, permutations, seed=seed, name=f"{head}_shuffle", dtype=dtype)(clips)
                logits = discriminator(encoder(shuffled), f"{head}_head", permutations, discriminator_hidden, dtype,
                                       momentum)
                pair_scores = AuxiliaryCrossEntropy(weight, name=f"{head}_loss", dtype="float32")(
                    logits, target, pair_scores)
        scores = ClipScores(name="scores", dtype="float32")(pair_scores, query)
        super().__init__(inputs=inputs, outputs=scores, n_way=n_way, name=name, dtype=dtype, **kwargs)
        self.channels = channels
        self._args = {"frames": int(frames), "image_size": [int(s) for s in image_size], "channels": channels,
                      "filters": int(filters), "attention": attention,
                      "temporal_order_weight": float(temporal_order_weight), "jigsaw_weight": float(jigsaw_weight),
                      "permutations": int(permutations), "discriminator_hidden": int(discriminator_hidden),
                      "strength": float(strength), "relation_filters": int(relation_filters),
                      "relation_hidden": int(relation_hidden), "mean": float(mean), "std": float(std),
                      "bn_momentum": momentum, "pooling": pooling, "n_way": self.n_way, "seed": seed}

    def get_config(self):
        return {**super().get_config(), **self._args}
