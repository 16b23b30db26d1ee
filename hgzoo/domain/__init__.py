"""Domain adaptation: second-order scatter alignment with SPD divergences (So-HoT, Open MIC).

SPD divergences (Frobenius, JBLD, AIRM, log-Euclidean) as functions and a
Keras loss, the per-class scatter alignment loss, a two-stream classifier
trained with ``fit`` on paired source/target batches, and the supervised-DA
data pipeline with two real digit domains (MNIST and UCI optical digits).

Example:

>>> import numpy as np, hgzoo
>>> from hgzoo.domain.data import few_shot_split, supervised_da_dataset
>>> rng = np.random.default_rng(0)
>>> source_x, source_y = rng.random((40, 8, 8, 1), "float32"), np.arange(40) % 2
>>> target_x, target_y = rng.random((40, 8, 8, 1), "float32"), np.arange(40) % 2
>>> (labelled_x, labelled_y), (test_x, test_y) = few_shot_split(target_x, target_y, k=3)
>>> model = hgzoo.domain.ScatterAlignmentNet(num_classes=2, image_size=(8, 8), filters=(4,), feature_dim=4,
...                                          divergence="jbld")
>>> history = model.fit(supervised_da_dataset(source_x, source_y, labelled_x, labelled_y, per_class=3),
...                     steps_per_epoch=2, epochs=1, verbose=0)
>>> accuracy = hgzoo.domain.target_accuracy(model, test_x, test_y)
>>> float(hgzoo.domain.spd_divergence(np.eye(2), 2 * np.eye(2), "log_euclidean", eps=0))  # 2 (log 2)²
0.9609060...
"""

from hgzoo.domain import data
from hgzoo.domain.divergences import DIVERGENCES, SPDDivergence, check_spd, matrix_log, spd_divergence
from hgzoo.domain.evaluation import target_accuracy
from hgzoo.domain.scatter import class_statistics, scatter_alignment_loss, scatter_alignment_terms
from hgzoo.domain.scatter_alignment_net import ScatterAlignmentNet
from hgzoo.domain.training import StopOnNonFiniteLoss

__all__ = ["DIVERGENCES", "SPDDivergence", "ScatterAlignmentNet", "StopOnNonFiniteLoss", "check_spd",
           "class_statistics", "data", "matrix_log", "scatter_alignment_loss", "scatter_alignment_terms",
           "spd_divergence", "target_accuracy"]
