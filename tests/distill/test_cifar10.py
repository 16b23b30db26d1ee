"""A few iterations on real CIFAR-10 images (the JPEG copy in ../shared/data): slow, run with ``-m slow``."""

import os
import tarfile

import numpy as np
import pytest
from PIL import Image

from hgzoo.distill import distill

pytestmark = pytest.mark.slow


def real_images(archive, per_class):
    """The first ``per_class`` training images of every class, read from the archive without unpacking it."""
    images, labels, names = [], [], {}
    with tarfile.open(archive) as tar:
        for member in tar:
            parts = member.name.split("/")
            if not member.isfile() or "train" not in parts or len(parts) < 3:
                continue
            name = parts[-2]
            if names.setdefault(name, 0) >= per_class:
                continue
            names[name] += 1
            with Image.open(tar.extractfile(member)) as im:
                images.append(np.asarray(im.convert("RGB")))
            labels.append(name)
            if len(names) == 10 and all(n >= per_class for n in names.values()):
                break
    order = sorted(names)
    return np.stack(images), np.array([order.index(n) for n in labels])


def test_distils_real_cifar10_images(shared_data, tmp_path):
    x, y = real_images(shared_data / "cifar10" / "cifar10-jpeg.tar.gz", per_class=16)
    assert x.shape[1:] == (32, 32, 3) and np.bincount(y).tolist() == [16] * 10
    result = distill(x, y, images_per_class=1, method="iid", iterations=3, real_batch=16, width=16, pool_size=1,
                     pool_epochs=1, progress=False)
    assert result.pixels().shape == (10, 32, 32, 3) and np.isfinite([h["loss"] for h in result.history]).all()
    result.save(str(tmp_path))
    assert len(os.listdir(tmp_path)) == 11
