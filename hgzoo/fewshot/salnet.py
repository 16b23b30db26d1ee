"""SalNet: Few-Shot Learning via Saliency-guided Hallucination of Samples (Zhang, Zhang and Koniusz, CVPR 2019)."""

import keras
import numpy as np
from keras import ops

from hgzoo.errors import InvalidEpisodeError
from hgzoo.fewshot.backbones import conv4, conv_bn
from hgzoo.fewshot.base import FewShotModel, concrete_or_none, episode_inputs
from hgzoo.fewshot.batch_norm import STATISTICS, group_norm
from hgzoo.fewshot.clipping import ModuleClippedAdam
from hgzoo.fewshot.episode_layers import EpisodeImages, EpisodeScores, RelationPairs
from hgzoo.fewshot.episodes import INPUT_NAMES
from hgzoo.fewshot.hallucination import (
    MODES,
    EpisodeGroups,
    HallucinatedClasses,
    RelationGroups,
    SaliencyMaps,
    SaliencyMasking,
    SupportHallucination,
)
from hgzoo.fewshot.saliency import SpectralResidualSaliency
from hgzoo.fewshot.salnet_weights import convert_torch_checkpoint
from hgzoo.fewshot.sosn import OMNIGLOT_MEAN, OMNIGLOT_STD, relation_network
from hgzoo.layers import PowerNorm, SecondOrderPool
from hgzoo.models.search_space import Choice, Float
from hgzoo.registry import register_model

SALIENCY_NAMES = ("support_saliency", "query_saliency")
TRIR_WEIGHTS = {"inter": 0.2, "intra": 0.01, "none": 0.0}  # β as published (none: nothing to regularise)
_SALIENCY_TOLERANCE = 1e-3  # resampled maps may overshoot [0, 1] by rounding


def mixture_network(x, filters, dtype, norm):
    """SalNet's MixtureNetwork: 4 × [Conv k3 p1 + BN + ReLU], wired o1 = L1(x), o2 = L2(o1 + x),
    o3 = L3(o2 + o1), out = L4(o3 + o2)."""

    def block(i, x):
        x = conv_bn(x, filters, "same", f"mixture{i}", dtype, norm=norm)
        return keras.layers.ReLU(name=f"mixture{i}_relu", dtype=dtype)(x)

    o1 = block(1, x)
    o2 = block(2, keras.layers.Add(name="mixture2_in", dtype=dtype)([o1, x]))
    o3 = block(3, keras.layers.Add(name="mixture3_in", dtype=dtype)([o2, o1]))
    return block(4, keras.layers.Add(name="mixture4_in", dtype=dtype)([o3, o2]))


def _relation_size(d):
    for _ in range(4):
        d = (d - 2) // 2
    return d


def check_saliency(support_images, query_images, support_saliency, query_saliency):
    """Validate saliency maps against their images: both or neither, (B, count, H, W) as the images,
    finite values in [0, 1]. Unknown (None) sizes and symbolic values pass."""
    if (support_saliency is None) != (query_saliency is None):
        given, missing = (("support_saliency", "query_saliency") if query_saliency is None
                          else ("query_saliency", "support_saliency"))
        raise InvalidEpisodeError(f"{given} was given but {missing} was not: pass saliency maps for both the "
                                  "support and the query images, or for neither (SalNet then computes them)")
    if support_saliency is None:
        return
    for name, images, maps in (("support_saliency", support_images, support_saliency),
                               ("query_saliency", query_images, query_saliency)):
        image_shape, shape = tuple(images.shape), tuple(maps.shape)
        expected = tuple(image_shape[:4])
        if len(shape) != 4:
            raise InvalidEpisodeError(f"{name} must be (B, count, H, W), one map per image without a channel "
                                      f"axis; got shape {shape} for images {image_shape}")
        if any(a is not None and b is not None and a != b for a, b in zip(shape, expected)):
            raise InvalidEpisodeError(f"{name} has shape {shape} but its images are {image_shape}: give one "
                                      f"map per image, of the image's size (B, count, H, W) = {expected}")
        values = concrete_or_none(maps)
        if values is not None and values.size:
            values = np.asarray(values, np.float64)
            if not np.isfinite(values).all():
                raise InvalidEpisodeError(f"{name} has NaN or infinite values; fix or drop those maps")
            low, high = float(values.min()), float(values.max())
            if low < -_SALIENCY_TOLERANCE or high > 1 + _SALIENCY_TOLERANCE:
                fix = "divide 0-255 maps by 255" if high > 1 else "scale the maps to [0, 1]"
                raise InvalidEpisodeError(f"{name} has values in [{low:g}, {high:g}]; saliency maps are in "
                                          f"[0, 1]: {fix}")


@register_model(task="fewshot", name="salnet")
class SalNet(FewShotModel):
    """SalNet: saliency-guided hallucination of support samples, compared by second-order relations.

    Each image is split by its saliency map into a foreground ``img_n·sal``
    and a background ``img_n·(1 - sal)`` of the *normalised* image (as the
    official code), each encoded by its own Conv-4 (64×19×19 for 84×84). A
    MixtureNetwork fuses foreground + background features. The support set
    is *hallucinated* (``papers.md`` §5): ``"intra"`` mixes every foreground
    of a class with every background of that class and sums; ``"inter"``
    mixes each foreground with all S backgrounds of the episode, weighted by
    background similarity 2e^{-αm}/(1 + e^{-αm}); ``"none"`` (the authors'
    vanilla model) mixes each image with its own background. Class sums and
    queries become trace-normalised second-order matrices with SigmE
    (σ = 150) and go through SoSN's relation network with a 5th Conv k2
    block. Layers mirror the official ``models.py`` (``foreground1_conv`` is
    ``foreground_encoder.layer1.0``, …); BatchNorm has PyTorch's ε = 1e-5.

    **Saliency.** Pass ``support_saliency`` (B, N·K, H, W) and
    ``query_saliency`` (B, Q, H, W) in [0, 1] (the authors' maps from their
    miniImageNet download, or any saliency model's output), or leave both
    out and the model computes spectral-residual maps
    (:class:`~hgzoo.fewshot.saliency.SpectralResidualSaliency`) of the raw
    images, which needs no weights.

    **BatchNorm statistics.** The official test scripts never call
    ``.eval()``, so their scores use batch statistics, and the stored running
    statistics of the published weights are those of one last training
    batch. ``batch_norm_statistics="batch"`` (default, and the authors'
    presets) normalises at inference as the official code does: by the
    statistics of the images that share a batch there, which hgzoo
    reproduces per episode: the support set is one batch, each run of
    ``query_group`` queries another (with the hallucinated pairs, the real
    support pairs and the relation pairs of a query group each their own).
    Scores then depend on the other images of the group (a query scored
    alone gets different scores), and reproduce the published models' outputs.
    Order the queries as the official ClassBalancedSampler does, so that
    every group mixes the classes (c0, c1, ..., cN, c0, ...): a group of one
    class normalises the class away and scores near chance
    (:class:`~hgzoo.fewshot.EpisodeSampler` gives queries in that order).
    ``"moving"`` normalises by the moving averages, as Keras models usually
    do at inference: scores of a query do not depend on the others, but with
    the authors' weights those averages come from one training batch and
    scores are worse. Training always uses per-group batch statistics.

    **Training.** ``fit`` on episodes minimises MSE to the one-hot target, as
    published; ``compile(teacher=...)`` adds TriR, β·MSE between the
    Mixture outputs of the real support pairs and those of a frozen teacher
    (the authors' vanilla model, e.g. ``SalNet(pretrained=
    "salnet_vanilla_miniimagenet_5way_1shot")``), with β = ``trir_weight``
    (None: 0.2 inter, 0.01 intra, as published). The default optimizer,
    :class:`~hgzoo.fewshot.clipping.ModuleClippedAdam` (lr 1e-3), clips the
    gradient norm of each network at 0.5 as the official code does.

    Args:
        hallucination: ``"inter"``, ``"intra"`` or ``"none"``.
        image_size: (h, w) images and maps are resized to (84×84 as published).
        channels: 3 (RGB) or 1.
        mean, std: standardisation (the Omniglot statistics the official code uses).
        filters: encoder and Mixture width (64); the relation maps are filters×filters.
        strength: SigmE σ (150 as published).
        alpha: α of the inter-class background similarity (1).
        batch_norm_statistics: ``"batch"`` or ``"moving"`` (above).
        query_group: queries per BatchNorm group at inference with batch
            statistics (the official scripts: 10 inter, 15 intra); None
            puts all queries of an episode in one group.
        k_shot: the shots the weights were trained for, recorded by the
            authors' presets; their converter refuses checkpoint files of
            another setting. Episodes of any K run.
        trir_weight: TriR's β when compiled with a teacher.
        relation_hidden: the relation network's hidden units (8).
        saliency_sigma: smoothing of the computed saliency maps.
        n_way: None reads N from the labels; an int fixes it (JAX training).
        pretrained: False, a preset id (e.g.
            ``"salnet_inter_miniimagenet_5way_1shot"``) or a path.

    Example:

    >>> import numpy as np, hgzoo
    >>> model = hgzoo.fewshot.SalNet(hallucination="intra", image_size=(84, 84))
    >>> episode = {"support_images": np.random.rand(1, 4, 84, 84, 3),
    ...            "support_labels": np.array([[0, 1, 0, 1]]),
    ...            "query_images": np.random.rand(1, 3, 84, 84, 3)}
    >>> tuple(model(episode).shape)
    (1, 3, 2)
    >>> maps = {"support_saliency": np.random.rand(1, 4, 84, 84), "query_saliency": np.random.rand(1, 3, 84, 84)}
    >>> tuple(model({**episode, **maps}).shape)
    (1, 3, 2)
    """

    converters = {"salnet_torch": (1, convert_torch_checkpoint)}
    search_space = {
        "hallucination": Choice(["inter", "intra"]),
        "strength": Float(10.0, 300.0, sampling="log"),
        "trir_weight": Float(0.001, 1.0, sampling="log"),
    }

    def __init__(self, hallucination="inter", image_size=(84, 84), channels=3, mean=OMNIGLOT_MEAN, std=OMNIGLOT_STD,
                 filters=64, strength=150.0, alpha=1.0, batch_norm_statistics="batch", query_group=None, k_shot=None,
                 trir_weight=None, relation_hidden=8, saliency_sigma=6.0, n_way=None, name="salnet", dtype=None,
                 **kwargs):
        if hallucination not in MODES:
            raise ValueError(f"hallucination must be one of {MODES}, got {hallucination!r}")
        if batch_norm_statistics not in STATISTICS:
            raise ValueError(f"batch_norm_statistics must be one of {STATISTICS}, got {batch_norm_statistics!r}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        if _relation_size(int(filters)) < 2:
            raise ValueError(f"the relation network's four conv + pool blocks and its 2×2 block need second-order "
                             f"maps of at least 62×62: give filters >= 62, got {filters}")
        inputs = [*episode_inputs(), keras.Input((None, None, None), name="support_saliency"),
                  keras.Input((None, None, None), name="query_saliency")]
        support_images, support_labels, query_images, support_saliency, query_saliency = inputs

        def norm(membership):
            return group_norm(batch_norm_statistics, membership, momentum=0.9, epsilon=1e-5, dtype=dtype)

        raw = EpisodeImages(image_size, channels, 0.0, 1.0, interpolation="bilinear", name="episode_images",
                            dtype=dtype)(support_images, query_images)
        saliency = SaliencyMaps(image_size, name="saliency_maps", dtype=dtype)(support_saliency, query_saliency)
        foreground, background = SaliencyMasking(mean, std, name="saliency_masking", dtype=dtype)(raw, saliency)
        groups = EpisodeGroups(query_group, name="image_groups")(support_labels, query_images)
        foreground = conv4(foreground, int(filters), "foreground", dtype, norm=norm(groups))
        background = conv4(background, int(filters), "background", dtype, norm=norm(groups))
        rows, mixture_groups, assignment = SupportHallucination(
            hallucination, n_way, alpha, query_group, name="hallucination", dtype=dtype)(
            foreground, background, support_labels, query_images)
        mixed = mixture_network(rows, int(filters), dtype, norm(mixture_groups))
        classes, queries, real_support = HallucinatedClasses(hallucination, name="class_sum", dtype=dtype)(
            mixed, assignment, support_labels, query_images)
        pool = SecondOrderPool("autocorrelation", trace_normalize=True, name="second_order", dtype=dtype)
        power = PowerNorm("sigme", strength, name="power_norm", dtype=dtype)
        classes, queries = power(pool(classes)), power(pool(queries))
        pairs = RelationPairs(name="pairs", dtype=dtype)(classes, queries, support_labels)
        relation_groups = RelationGroups(query_group, n_way, name="relation_groups")(support_labels, query_images)
        relations = relation_network(pairs, int(filters), int(relation_hidden), dtype, norm=norm(relation_groups),
                                     k2_block=True)
        scores = EpisodeScores(name="scores", dtype="float32")(relations, query_images)
        super().__init__(inputs=inputs, outputs=scores, n_way=n_way, name=name, dtype=dtype, **kwargs)
        # Kept out of Keras' tracking: they share this model's layers (no weights of their own to save).
        object.__setattr__(self, "_with_real_support", keras.Model(inputs, [scores, real_support]))
        object.__setattr__(self, "_real_support", keras.Model(inputs, real_support))
        object.__setattr__(self, "_saliency", SpectralResidualSaliency(sigma=saliency_sigma, name="saliency"))
        self.channels = channels
        self.hallucination = hallucination
        self.k_shot = int(k_shot) if k_shot else None
        self.trir_weight = TRIR_WEIGHTS[hallucination] if trir_weight is None else float(trir_weight)
        self._args = {"hallucination": hallucination, "image_size": [int(s) for s in image_size],
                      "channels": channels, "mean": float(mean), "std": float(std), "filters": int(filters),
                      "strength": float(strength), "alpha": float(alpha),
                      "batch_norm_statistics": batch_norm_statistics,
                      "query_group": None if query_group is None else int(query_group), "k_shot": self.k_shot,
                      "trir_weight": None if trir_weight is None else float(trir_weight),
                      "relation_hidden": int(relation_hidden), "saliency_sigma": float(saliency_sigma),
                      "n_way": self.n_way}

    def get_config(self):
        return {**super().get_config(), **self._args}

    # --- the optional saliency inputs -------------------------------------------------------------

    @staticmethod
    def _parts(inputs):
        """(the three episode tensors, support_saliency or None, query_saliency or None) of a dict or list."""
        if isinstance(inputs, dict):
            return [inputs[k] for k in INPUT_NAMES], inputs.get("support_saliency"), inputs.get("query_saliency")
        inputs = list(inputs)
        if len(inputs) not in (3, 5):
            raise InvalidEpisodeError(f"SalNet takes [support_images, support_labels, query_images] and optionally "
                                      f"support_saliency, query_saliency; got {len(inputs)} inputs")
        return inputs[:3], *(inputs[3:] if len(inputs) == 5 else (None, None))

    def with_saliency(self, inputs):
        """The five inputs as a list, with spectral-residual maps where no saliency was given."""
        episode, support_saliency, query_saliency = self._parts(inputs)
        check_saliency(episode[0], episode[2], support_saliency, query_saliency)
        if support_saliency is None:
            support_saliency, query_saliency = self._saliency(episode[0]), self._saliency(episode[2])
        values = [*episode, support_saliency, query_saliency]
        # Keras refuses a call mixing arrays with the computed tensors.
        return [v if isinstance(v, keras.KerasTensor) else ops.convert_to_tensor(v) for v in values]

    def _is_episode(self, x):
        return isinstance(x, dict) and set(INPUT_NAMES) <= set(x) or isinstance(x, (list, tuple)) and len(x) in (3, 5)

    def __call__(self, inputs, *args, **kwargs):
        if self._is_episode(inputs):
            self._checked(inputs)
            inputs = self.with_saliency(inputs)
        return super().__call__(inputs, *args, **kwargs)

    def _checked(self, x):
        if self._is_episode(x):
            episode, support_saliency, query_saliency = self._parts(x)
            super()._checked(episode)
            check_saliency(episode[0], episode[2], support_saliency, query_saliency)
            return x
        return super()._checked(x)

    # --- training: TriR with a frozen teacher ------------------------------------------------------

    def compile(self, optimizer="auto", loss="auto", metrics="auto", teacher=None, **kwargs):
        """:meth:`FewShotModel.compile`, with :class:`~hgzoo.fewshot.clipping.ModuleClippedAdam` (lr 1e-3,
        each network's gradient norm clipped at 0.5) as the ``"auto"`` optimizer.

        ``teacher``: a :class:`SalNet` (the vanilla model) whose Mixture outputs on the real support
        pairs TriR pulls this model's towards; it is frozen (never trained). None: no TriR.
        """
        if optimizer == "auto":
            optimizer = ModuleClippedAdam(1e-3, module_clipnorm=0.5)
        if teacher is not None:
            if not isinstance(teacher, SalNet):
                raise TypeError(f"teacher must be a SalNet (e.g. the authors' vanilla model), got "
                                f"{type(teacher).__name__}")
            if teacher is self:
                raise ValueError("a model cannot be its own TriR teacher: build a separate SalNet")
            teacher.trainable = False
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)
        object.__setattr__(self, "teacher", teacher)

    def call(self, inputs, training=None, mask=None):
        if self._is_episode(inputs):  # JAX's trainer calls `call` directly, not `__call__`
            inputs = self.with_saliency(inputs)
        if training and getattr(self, "teacher", None) is not None:
            return self._with_real_support(inputs, training=True)
        return super().call(inputs, training=training, mask=mask)

    def compute_output_spec(self, inputs, training=None, mask=None):
        if self._is_episode(inputs):
            inputs = self.with_saliency(inputs)
        spec = super().compute_output_spec(inputs, training=training, mask=mask)
        return spec[0] if isinstance(spec, (list, tuple)) else spec

    def support_mixture(self, inputs):
        """Mixture-network outputs of the real support pairs fg_i + bg_i, (B·N·K, h, w, filters): what TriR
        compares. Runs in inference mode (this model's ``batch_norm_statistics``)."""
        return self._real_support(self.with_saliency(inputs), training=False)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not isinstance(y_pred, (list, tuple)):
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        scores, real_support = y_pred
        loss = super().compute_loss(x, y, scores, sample_weight, training)
        target = ops.stop_gradient(ops.cast(self.teacher.support_mixture(x), "float32"))
        trir = ops.mean(ops.square(ops.cast(real_support, "float32") - target))
        return loss + ops.cast(self.trir_weight * trir, loss.dtype)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if isinstance(y_pred, (list, tuple)):
            y_pred = y_pred[0]
        return super().compute_metrics(x, y, y_pred, sample_weight)

    # --- serving --------------------------------------------------------------------------------

    serve_with_saliency = False  # set True before hgzoo.export.export_for_serving to take saliency inputs

    def serving_signature(self, input_dtype="float32", saliency=None):
        """As :meth:`FewShotModel.serving_signature`; with ``saliency=True`` (default:
        ``model.serve_with_saliency``) the signature also takes ``support_saliency`` (B, N·K, H, W) and
        ``query_saliency`` (B, Q, H, W) maps in [0, 1] (0-255 for ``input_dtype="uint8"``); without, the
        model computes them."""
        specs, serve = super().serving_signature(input_dtype)
        if not (self.serve_with_saliency if saliency is None else saliency):
            return specs, serve
        maps = ((None, None, None, None), input_dtype)

        def serve_with_maps(support_images, support_labels, query_images, support_saliency, query_saliency):
            def scale(x):
                x = ops.cast(x, "float32")
                return x / 255.0 if input_dtype == "uint8" else x

            images = [scale(support_images), support_labels, scale(query_images)]
            scores = self([*images, scale(support_saliency), scale(query_saliency)], training=False)
            return {"scores": ops.cast(scores, "float32"), "classes": ops.cast(ops.argmax(scores, axis=-1), "int32")}

        return {**specs, "support_saliency": maps, "query_saliency": maps}, serve_with_maps

    @property
    def input_contract(self):
        return {**super().input_contract, "optional_inputs": list(SALIENCY_NAMES),
                "saliency": "(B, count, H, W) in [0, 1], one map per image; computed when absent"}

