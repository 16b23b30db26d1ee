"""The layers every hgzoo model is composed from.

Example:

>>> from hgzoo.layers import PowerNorm, SecondOrderPool
>>> import numpy as np
>>> feats = np.random.rand(2, 19, 19, 64).astype("float32")
>>> tuple(PowerNorm("sigme", 100)(SecondOrderPool(trace_normalize=True)(feats)).shape)
(2, 64, 64)
"""

from hgzoo.layers.auxiliary_loss import AuxiliaryCrossEntropy
from hgzoo.layers.cross_attention import CrossAttention
from hgzoo.layers.patch_split import PatchMerge, PatchSplit
from hgzoo.layers.power_norm import PowerNorm
from hgzoo.layers.second_order_pool import SecondOrderPool

__all__ = ["AuxiliaryCrossEntropy", "CrossAttention", "PatchMerge", "PatchSplit", "PowerNorm", "SecondOrderPool"]
