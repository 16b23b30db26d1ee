"""Data for hgzoo.distill: labelled image folders (``<root>/<class>/*.jpg``) such as CIFAR-10's.

Example:

>>> import os, tempfile, numpy as np
>>> from PIL import Image
>>> from hgzoo.distill.data import load_image_folder
>>> root = tempfile.mkdtemp()
>>> for name in ("cat", "dog"):
...     os.makedirs(os.path.join(root, name))
...     Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(os.path.join(root, name, "0.png"))
>>> images, labels, names = load_image_folder(root)
>>> images.shape, labels.tolist(), names
((2, 8, 8, 3), [0, 1], ['cat', 'dog'])
"""

from hgzoo.distill.data.folders import load_image_folder

__all__ = ["load_image_folder"]
