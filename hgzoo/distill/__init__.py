"""Dataset distillation: distribution matching (DM) with IID's class centralisation and covariance matching.

``distill`` turns a labelled image set into a few synthetic images per
class; ``evaluate_synthetic`` trains fresh networks on them and tests on
real images (the DC/DM/IID protocol); the networks (ConvNet-3, ResNet-18,
VGG-11, all with instance norm), DSA and the losses are public too.
Official-code facts: ``papers.md`` §13.

Example:

>>> import numpy as np, hgzoo
>>> x = np.random.default_rng(0).integers(0, 255, (40, 16, 16, 3), dtype=np.uint8)
>>> y = np.repeat(np.arange(2), 20)
>>> syn = hgzoo.distill.distill(x, y, images_per_class=1, iterations=1, real_batch=8, width=4,
...                             pool_size=1, pool_epochs=1, progress=False)
>>> syn.pixels().shape
(2, 16, 16, 3)
"""

from hgzoo.distill.augment import SiameseAugmentation
from hgzoo.distill.base import CIFAR10_MEAN, CIFAR10_STD
from hgzoo.distill.convnet import ConvNet
from hgzoo.distill.distillation import distill, standardise, train_embedding_pool
from hgzoo.distill.evaluation import evaluate_synthetic, train_on_synthetic
from hgzoo.distill.losses import ClassCentralisation, CovarianceMatching, IIDObjective, MeanMatching
from hgzoo.distill.resnet import ResNet18
from hgzoo.distill.synthetic_set import DistilledSet
from hgzoo.distill.vgg import VGG11

__all__ = [
           "CIFAR10_MEAN",
           "CIFAR10_STD",
           "VGG11",
           "ClassCentralisation",
           "ConvNet",
           "CovarianceMatching",
           "DistilledSet",
           "IIDObjective",
           "MeanMatching",
           "ResNet18",
           "SiameseAugmentation",
           "distill",
           "evaluate_synthetic",
           "standardise",
           "train_embedding_pool",
           "train_on_synthetic",
]
