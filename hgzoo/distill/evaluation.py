"""The evaluation protocol of DC/DM/IID: train fresh networks on the synthetic set, test on real images.

Official schedule (``papers.md`` §13): SGD 0.01, momentum 0.9, weight decay
5e-4, batch 256, DSA on every training batch, learning rate ×0.1 from half
of the epochs on (1,000 epochs in the papers; ``epochs`` is a parameter),
then accuracy on the real test set; mean ± std over ``runs`` networks.
``architecture`` names a registered distill network for cross-architecture
evaluation (``convnet``, ``resnet18``, ``vgg11``).

Example:

>>> import numpy as np
>>> from hgzoo.distill import evaluate_synthetic
>>> rng = np.random.default_rng(0)
>>> syn, test = rng.normal(size=(4, 32, 32, 3)).astype("float32"), rng.normal(size=(6, 32, 32, 3)).astype("float32")
>>> result = evaluate_synthetic(syn, [0, 0, 1, 1], test, [0, 1, 0, 1, 0, 1], epochs=2, runs=2,
...                             num_classes=2, width=4)
>>> len(result["accuracies"]), 0.0 <= result["mean"] <= 1.0
(2, True)
"""

import keras
import numpy as np

from hgzoo.distill.augment import SiameseAugmentation
from hgzoo.registry import get_model_class

ARCHITECTURES = ("convnet", "resnet18", "vgg11")


def train_on_synthetic(images, labels, architecture="convnet", epochs=300, batch_size=256, lr=0.01, dsa=True,
                       num_classes=None, width=None, seed=0):
    """A fresh ``architecture`` network trained on standardised ``images`` with the official schedule."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")
    images, labels = np.asarray(images, "float32"), np.asarray(labels, "int32")
    num_classes = int(labels.max()) + 1 if num_classes is None else int(num_classes)
    keras.utils.set_random_seed(int(seed))
    kwargs = {"num_classes": num_classes, "image_size": images.shape[1:3], "channels": images.shape[-1]}
    if width is not None:
        kwargs["width"] = int(width)
    net = get_model_class(architecture)(**kwargs)
    net.compile(optimizer=keras.optimizers.SGD(lr, momentum=0.9, weight_decay=5e-4))
    augmentation = SiameseAugmentation() if dsa is True else (dsa or None)
    rng = np.random.default_rng(int(seed))
    for epoch in range(int(epochs)):
        if epoch == int(epochs) // 2:
            net.optimizer.learning_rate.assign(lr * 0.1)
        order = rng.permutation(len(images))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            x = images[batch]
            if augmentation is not None:
                x = augmentation(x, seed=int(rng.integers(2 ** 31)))
            net.train_on_batch(x, labels[batch])
    return net


def accuracy(net, images, labels, batch_size=500):
    """Top-1 accuracy of ``net`` on standardised ``images``."""
    logits = net.predict(np.asarray(images, "float32"), batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(logits, axis=-1) == np.asarray(labels)))


def evaluate_synthetic(images, labels, test_images, test_labels, architecture="convnet", epochs=300, runs=3,
                       batch_size=256, lr=0.01, dsa=True, num_classes=None, width=None, seed=0):
    """Train ``runs`` fresh networks on the synthetic set and test each on the real test set.

    Returns ``{"accuracies": [...], "mean": m, "std": s, "architecture": ..., "epochs": ...}``
    (fractions, std over runs with ddof 0).
    """
    if int(runs) <= 0 or int(epochs) <= 0:
        raise ValueError(f"runs and epochs must be positive, got runs={runs}, epochs={epochs}")
    accuracies = []
    for run in range(int(runs)):
        net = train_on_synthetic(images, labels, architecture, epochs, batch_size, lr, dsa, num_classes, width,
                                 seed=int(seed) * 100 + run)
        accuracies.append(accuracy(net, test_images, test_labels))
    return {"accuracies": accuracies, "mean": float(np.mean(accuracies)), "std": float(np.std(accuracies)),
            "architecture": architecture, "epochs": int(epochs), "runs": int(runs)}
