"""Few-shot learning: episodes, the evaluation protocol, SoSN and SalNet.

Example:

>>> import numpy as np, hgzoo
>>> from hgzoo.fewshot import EpisodeSampler, ImageClasses, evaluate_episodes
>>> pool = ImageClasses.from_arrays(np.random.randint(0, 255, (40, 28, 28, 1), np.uint8), np.repeat(np.arange(8), 5))
>>> model = hgzoo.fewshot.SoSN(image_size=(28, 28), channels=1)
>>> history = model.fit(EpisodeSampler(pool, n_way=5, k_shot=1, queries=2).dataset(),
...                     steps_per_epoch=100, epochs=10)  # doctest: +SKIP
>>> result = evaluate_episodes(model, [EpisodeSampler(pool, 5, 1, 2, seed=1).episode(0)], verbose=0)
>>> result["episodes"]
1
"""

from hgzoo.data.image_classes import ImageClasses
from hgzoo.fewshot import omniglot
from hgzoo.fewshot.arl import ARL
from hgzoo.fewshot.base import FewShotModel, RelationCrossEntropy
from hgzoo.fewshot.cross_transformer import CrossTransformer
from hgzoo.fewshot.episode_layers import EpisodeImages, class_count
from hgzoo.fewshot.episodes import EpisodeSampler, check_episode
from hgzoo.fewshot.evaluation import confidence_interval, evaluate_episodes
from hgzoo.fewshot.mlso import MlSo
from hgzoo.fewshot.saliency import SpectralResidualSaliency
from hgzoo.fewshot.salnet import SalNet
from hgzoo.fewshot.sosn import SoSN
from hgzoo.fewshot.spatial_matching import SpatialMatching

__all__ = ["ARL", "CrossTransformer", "EpisodeImages", "EpisodeSampler", "FewShotModel", "ImageClasses",
           "MlSo", "RelationCrossEntropy", "SalNet", "SoSN", "SpatialMatching", "SpectralResidualSaliency",
           "check_episode", "class_count", "confidence_interval", "evaluate_episodes", "omniglot"]
