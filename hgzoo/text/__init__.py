"""Text classification: LLMEmbed heads over frozen multi-layer embeddings.

Features come from a frozen Hugging Face backbone (the ``text`` extra:
transformers + PyTorch; the default all-MiniLM-L6-v2 is packaged, offline)
and are cached on disk; the Keras head trains on them in seconds.

Example:

>>> import numpy as np, hgzoo
>>> head = hgzoo.text.LLMEmbed(num_classes=2, num_layers=5, feature_dim=384)
>>> features = np.random.rand(64, 5, 384).astype("float32")
>>> history = head.fit(features, np.random.randint(0, 2, 64), epochs=1, verbose=0)
>>> extractor = hgzoo.text.FeatureExtractor()  # doctest: +SKIP
>>> head.predict(extractor.extract(["a gripping film"]))  # doctest: +SKIP

As the paper, a decoder LLM's layers fused with two encoders (after
``hgzoo text install-backbones``; the folders convert once):

>>> fusion = hgzoo.text.FusionExtractor()  # doctest: +SKIP
>>> head = fusion.build_head(num_classes=2)  # doctest: +SKIP
>>> head.predict(fusion.extract(["a gripping film"]))  # doctest: +SKIP
"""

from hgzoo.text.backbones import DEFAULT_BACKBONE, resolve_backbone
from hgzoo.text.features import FeatureExtractor, layer_indices
from hgzoo.text.fusion import PAPER_MAX_LENGTH, FusionExtractor
from hgzoo.text.llmembed import LLMEmbed
from hgzoo.text.stream_projection import StreamProjection
from hgzoo.text.tsv import TextDataset, read_tsv

__all__ = ["DEFAULT_BACKBONE", "PAPER_MAX_LENGTH", "FeatureExtractor", "FusionExtractor", "LLMEmbed", "StreamProjection",
           "TextDataset", "layer_indices", "read_tsv", "resolve_backbone"]
