"""Zero-shot learning: ZSKL kernel compatibility, GZSL model selection, the GBU protocol.

Example:

>>> import numpy as np, hgzoo
>>> from hgzoo.zeroshot import ZSKL, normalise_attributes, normalise_features, per_class_accuracy
>>> att = normalise_attributes(np.random.rand(6, 4))
>>> x = normalise_features(np.random.rand(12, 16))
>>> model = ZSKL(feature_dim=16, attribute_dim=4, num_classes=4, class_embeddings=att[:4])
>>> history = model.fit(x, np.arange(12) % 4, batch_size=1, epochs=1, verbose=0)
>>> scores = model.with_classes(att[4:]).predict_on_batch(x)
>>> 0.0 <= per_class_accuracy(np.arange(12) % 2, scores.argmax(1)) <= 1.0
True
"""

from hgzoo.zeroshot.generator import FeatureGenerator, WassersteinCritic, train_feature_generator
from hgzoo.zeroshot.kernels import KERNELS, KernelCompatibility, OrthonormalColumns
from hgzoo.zeroshot.model_selection import (ExpertRouting, FeatureNormalisation, GZSLModelSelection,
                                            evaluate_model_selection, train_model_selection)
from hgzoo.zeroshot.metrics import gzsl_metrics, harmonic_mean, per_class_accuracy
from hgzoo.zeroshot.optimizers import VLFeatRMSprop
from hgzoo.zeroshot.preprocessing import normalise_attributes, normalise_features
from hgzoo.zeroshot.splits import InvalidZSLDataError, ZSLData, load_att_splits, load_features, load_gbu
from hgzoo.zeroshot.training import evaluate_zskl, predict_classes, train_zskl, zsl_accuracy
from hgzoo.zeroshot.zskl import ZSKL, energies, zskl_loss

__all__ = ["ExpertRouting", "FeatureGenerator", "FeatureNormalisation", "GZSLModelSelection", "InvalidZSLDataError",
           "KERNELS", "WassersteinCritic", "train_feature_generator", "train_model_selection", "KernelCompatibility", "OrthonormalColumns", "VLFeatRMSprop", "ZSKL",
           "ZSLData", "energies", "evaluate_model_selection", "evaluate_zskl", "gzsl_metrics", "harmonic_mean", "load_att_splits", "load_features",
           "load_gbu", "normalise_attributes", "normalise_features", "per_class_accuracy", "predict_classes",
           "train_zskl", "zsl_accuracy", "zskl_loss"]
