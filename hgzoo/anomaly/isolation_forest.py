"""The isolation-forest baseline (scikit-learn, the ``anomaly`` extra) in the detectors' API."""

import numpy as np

from hgzoo.anomaly.images import check_images
from hgzoo.config import require


class IsolationForestDetector:
    """scikit-learn's IsolationForest on flattened behaviour images: ``fit`` on normal days, ``anomaly_score``.

    Not a Keras model (a forest has no gradients); it takes and scores the
    same behaviour images as :class:`~hgzoo.anomaly.IGT` and
    :class:`~hgzoo.anomaly.BehaviourAutoencoder`, and is refit from the
    training features rather than pickled (the CLI keeps those and the seed,
    so a run folder holds no pickle to trust).

    Args:
        trees: number of trees (200).
        seed: the forest's random state.

    Example:

    >>> import numpy as np
    >>> detector = IsolationForestDetector(trees=20).fit(np.random.rand(50, 12, 12, 1))
    >>> detector.anomaly_score(np.random.rand(4, 12, 12, 1)).shape
    (4,)
    """

    def __init__(self, trees=200, seed=0):
        self.trees, self.seed, self.forest = int(trees), int(seed), None

    def fit(self, images):
        ensemble = require("sklearn.ensemble", "anomaly")
        x = check_images(images).reshape(len(images), -1)
        if len(x) < 2:
            raise ValueError("IsolationForestDetector.fit needs at least two user-days")
        self.forest = ensemble.IsolationForest(n_estimators=self.trees, random_state=self.seed).fit(x)
        return self

    def anomaly_score(self, images):
        """Higher is more anomalous (scikit-learn's ``-score_samples``)."""
        if self.forest is None:
            raise ValueError("call IsolationForestDetector.fit(normal images) before anomaly_score")
        x = check_images(images)
        return -self.forest.score_samples(x.reshape(len(x), -1)).astype(np.float32) if len(x) else np.zeros(0)
