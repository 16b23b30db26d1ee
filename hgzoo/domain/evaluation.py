"""Target-domain accuracy of an adapted model.

Example:

>>> import numpy as np, hgzoo
>>> from hgzoo.domain.evaluation import target_accuracy
>>> model = hgzoo.domain.ScatterAlignmentNet(num_classes=2, image_size=(8, 8), filters=(4,), feature_dim=4)
>>> 0.0 <= target_accuracy(model, np.zeros((4, 8, 8, 1), "float32"), np.array([0, 1, 0, 1])) <= 100.0
True
"""

import numpy as np


def target_accuracy(model, images, labels, batch_size=256):
    """Percentage of target ``images`` whose predicted class (the target stream's) equals ``labels``."""
    labels = np.asarray(labels)
    if len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    predicted = model.predict_target(images, batch_size=batch_size).argmax(-1)
    return 100.0 * float(np.mean(predicted == labels))
