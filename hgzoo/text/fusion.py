"""LLMEmbed's inputs from raw text: one backbone's layer streams plus single-vector encoder embeddings."""

import numpy as np

from hgzoo.text.features import FeatureExtractor

# The paper's LLaMA-2 (last five layers) + BERT-large + RoBERTa-large, as the packaged stand-ins.
PAPER_LLM = "smollm2-135m"
PAPER_ENCODERS = ("all-mpnet-base-v2", "all-MiniLM-L6-v2")
# The official code's LLM max_length per dataset (MR: 3000 train, 1500 test). The padding-included mean
# averages over all of them, so this length is part of the features.
PAPER_MAX_LENGTH = {"sst2": 128, "agnews": 256, "r8": 1024, "r52": 1024}


class FusionExtractor:
    """The inputs of an :class:`~hgzoo.text.LLMEmbed` head: L layer embeddings of one backbone
    (``layer_embeddings``, N×L×D) and one sentence embedding per extra encoder (``extra_embeddings_i``).

    The paper (``papers.md`` §14) fuses LLaMA-2-7B's last five layers with
    BERT-large's pooler output and RoBERTa-large's first token. The defaults
    are offline stand-ins: the decoder-only ``smollm2-135m`` (last five of 30
    layers, 576-d) and the encoders ``all-mpnet-base-v2`` (768-d) and
    ``all-MiniLM-L6-v2`` (384-d). Each encoder gives its own sentence
    embedding, as the paper's do: for these sentence-transformers models that
    is the masked mean of the last layer (``layers=(-1,)``, ``pooling="mean"``),
    whatever pooling the LLM streams use. The head projects encoders narrower
    or wider than its ``projection_dim`` with their own Dense + ReLU; the
    paper's 1024-d encoders needed none.

    Args:
        llm: the layer-stream backbone: a name, a :meth:`FeatureExtractor.config`
            dict, or a :class:`FeatureExtractor`.
        encoders: the extra encoders, each in the same forms; ``()`` for
            layer streams only.
        layers, pooling: the LLM streams' hidden states and pooling, when
            ``llm`` is a name (see :class:`FeatureExtractor`).
        max_length, batch_size, cache_dir, threads: given to every
            extractor built here.

    Example:

    >>> FusionExtractor("all-MiniLM-L6-v2", encoders=()).config()["encoder"]["layers"]
    [-1, -2, -3, -4, -5]
    >>> fusion = FusionExtractor()  # doctest: +SKIP
    >>> head = fusion.build_head(num_classes=2)  # doctest: +SKIP
    >>> [tuple(x.shape) for x in fusion.extract(["a gripping film"])]  # doctest: +SKIP
    [(1, 5, 576), (1, 768), (1, 384)]
    """

    def __init__(self, llm=PAPER_LLM, encoders=PAPER_ENCODERS, layers=(-1, -2, -3, -4, -5), pooling="mean",
                 max_length=128, batch_size=32, cache_dir=None, threads=None):
        shared = {"batch_size": batch_size, "cache_dir": cache_dir, "threads": threads}

        def build(spec, **defaults):
            if isinstance(spec, FeatureExtractor):
                return spec
            config = {"backbone": spec, **defaults} if not isinstance(spec, dict) else dict(spec)
            return FeatureExtractor(**{"max_length": max_length, **config}, **shared)

        self.llm = build(llm, layers=layers, pooling=pooling)
        self.encoders = [build(e, layers=(-1,), pooling="mean") for e in encoders]

    @classmethod
    def for_head(cls, head, **kwargs):
        """The extractor whose features ``head`` was trained on, from the configs it keeps."""
        extra_dims = head.get_config().get("extra_dims", [])
        encoders = getattr(head, "extra_encoders", None) or []
        if not head.encoder or len(encoders) != len(extra_dims):
            raise ValueError(f"this head does not record the backbones of its inputs (layer streams: "
                             f"{head.encoder}, {len(encoders)} of {len(extra_dims)} extra encoders); build it with "
                             "FusionExtractor.build_head or LLMEmbed(encoder=..., extra_encoders=...)")
        return cls(llm=head.encoder, encoders=encoders, **kwargs)

    def config(self):
        """The configs a head keeps to rebuild this extractor: ``encoder`` and ``extra_encoders``."""
        return {"encoder": self.llm.config(), "extra_encoders": [e.config() for e in self.encoders]}

    def build_head(self, num_classes, **kwargs):
        """An :class:`~hgzoo.text.LLMEmbed` head sized for these features, keeping their configs."""
        from hgzoo.text.llmembed import LLMEmbed

        return LLMEmbed(num_classes, num_layers=len(self.llm.layers), feature_dim=self.llm.dim,
                        extra_dims=[e.dim for e in self.encoders], **self.config(), **kwargs)

    def extract(self, texts, progress=True):
        """The head's inputs for ``texts``: the (N, L, D) array alone without encoders, else
        ``[layer_embeddings, extra_embeddings_0, ...]``; each part cached as :class:`FeatureExtractor` does."""
        streams = self.llm.extract(texts, progress=progress)
        if not self.encoders:
            return streams
        return [streams, *(np.ascontiguousarray(e.extract(texts, progress=progress)[:, 0]) for e in self.encoders)]

    @property
    def truncated(self):
        """Texts truncated in the last extraction, per extractor (LLM first)."""
        return [e.last_truncated for e in (self.llm, *self.encoders)]
