"""Helpers for TensorFlow Datasets builders that read a dataset the user downloaded (``manual_dir``).

hgzoo's builders never touch the network: the user fetches a dataset under
its own terms and passes the folder as ``manual_dir``. These helpers find
the split folders and the class folders in it, with errors that say which
folder is missing. Only :func:`image_features` needs TensorFlow Datasets (the ``data`` extra).

Example:

>>> import os, tempfile
>>> root = tempfile.mkdtemp()
>>> for name in ("cat/1.png", "cat/2.jpg", "dog/1.png", "notes.txt"):
...     os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)
...     open(os.path.join(root, name), "w").close()
>>> [(label, os.path.basename(path)) for label, path in class_folders(root)]
[('cat', '1.png'), ('cat', '2.jpg'), ('dog', '1.png')]
"""

import os

from hgzoo.data.image_classes import IMAGE_SUFFIXES


def manual_splits(builder, dl_manager, dataset, splits=("train", "test")):
    """``{split: builder._generate_examples(manual_dir/split)}``; a clear error when a split is missing.

    For a builder's ``_split_generators``; ``dataset`` names the download in the error.
    """
    root = os.fspath(dl_manager.manual_dir)
    generators = {}
    for split in splits:
        folder = os.path.join(root, split)
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"{folder} not found: manual_dir must hold {dataset}'s "
                                    + " and ".join(f"{s}/" for s in splits))
        generators[split] = builder._generate_examples(folder)
    return generators


def class_folders(folder, suffixes=IMAGE_SUFFIXES):
    """(class name, image path) for every image in ``folder/<class>/``, sorted by class then file."""
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isdir(path):
            for f in sorted(os.listdir(path)):
                if f.lower().endswith(suffixes):
                    yield name, os.path.join(path, f)


def image_features(extra=None):
    """The features every hgzoo image-folder builder shares: ``image``, ``label``
    (the class folder's name) and ``filename``, plus ``extra`` ones."""
    from hgzoo.config import require

    tfds = require("tensorflow_datasets", "data")
    return tfds.features.FeaturesDict({"image": tfds.features.Image(shape=(None, None, 3)),
                                       "label": tfds.features.Text(), "filename": tfds.features.Text(),
                                       **(extra or {})})
