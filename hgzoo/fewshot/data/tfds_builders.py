"""TensorFlow Datasets builders for few-shot benchmarks you download yourself (``manual_dir``).

hgzoo cannot fetch miniImageNet (its terms need an ImageNet licence). Put your copy in a folder and pass it as
``manual_dir``; the builders never touch the network.

- :class:`MiniImagenetFewShot`: either ``train/``, ``val/``, ``test/`` each with
  one folder per class (``n01532829/*.jpg``), or Ravi and Larochelle's
  ``images/`` folder plus ``train.csv``, ``val.csv``, ``test.csv``
  (``filename,label`` rows).
- :class:`MiniImagenetSaliencyFewShot`: the SalNet authors' download
  (``datas/miniImagenet`` of ``HongguangZhang/SalNet-cvpr19-master``): the
  same layouts plus ``saliency_maps/<image name>.jpg``, one grayscale map per
  image; each example also has ``saliency`` (H, W, 1).
- :class:`OpenMicFewShot` (defined in :mod:`hgzoo.data.tfds_openmic`, which
  the domain-adaptation family shares): Open MIC's exhibition spaces.

Every example has ``image``, ``label`` (the class folder name) and
``filename``; read them into episodes with
:meth:`hgzoo.data.image_classes.ImageClasses.from_tfds`. The builders need
the ``data`` extra (``pip install "hgzoo[data]"``):

>>> import tensorflow_datasets as tfds
>>> from hgzoo.fewshot.data.tfds_builders import MiniImagenetFewShot
>>> builder = MiniImagenetFewShot(data_dir="~/tensorflow_datasets")  # doctest: +SKIP
>>> builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
...     manual_dir="/data/mini-imagenet"))  # doctest: +SKIP
>>> from hgzoo.fewshot import ImageClasses
>>> train = ImageClasses.from_tfds("mini_imagenet_few_shot", split="train", channels=3,
...                                size=(84, 84))  # doctest: +SKIP
"""

import csv
import os

import numpy as np
from PIL import Image

from hgzoo.config import require
from hgzoo.data.tfds_manual import class_folders, image_features
from hgzoo.data.tfds_openmic import OpenMicFewShot

tfds = require("tensorflow_datasets", "data")

__all__ = ["MiniImagenetFewShot", "MiniImagenetSaliencyFewShot", "OpenMicFewShot"]


class MiniImagenetFewShot(tfds.core.GeneratorBasedBuilder):
    """miniImageNet (Vinyals et al.; Ravi and Larochelle's 64/16/20 class split) from ``manual_dir``."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Class-folder or CSV layouts from a manual download."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Pass as manual_dir a folder with train/, val/ and test/ class folders, or with images/ and "
        "train.csv, val.csv, test.csv (Ravi and Larochelle's split files)."
    )

    def _info(self):
        return self.dataset_info_from_configs(features=image_features(), supervised_keys=("image", "label"),
                                              homepage="https://github.com/twitter/meta-learning-lstm")

    def _split_generators(self, dl_manager):
        root = os.fspath(dl_manager.manual_dir)
        splits = {}
        for split in ("train", "val", "test"):
            folder, table = os.path.join(root, split), os.path.join(root, f"{split}.csv")
            if os.path.isdir(folder):
                splits[split] = self._generate(class_folders(folder))
            elif os.path.isfile(table) and os.path.isdir(os.path.join(root, "images")):
                splits[split] = self._generate(self._csv_rows(table, os.path.join(root, "images")))
            else:
                raise FileNotFoundError(f"{root}: found neither {split}/ class folders nor images/ + {split}.csv; "
                                        + self.MANUAL_DOWNLOAD_INSTRUCTIONS)
        return splits

    @staticmethod
    def _csv_rows(table, images):
        with open(table, newline="") as f:
            for row in csv.DictReader(f):
                if set(row) != {"filename", "label"}:
                    raise ValueError(f"{table}: expected the columns filename,label, got {sorted(row)}")
                yield row["label"], os.path.join(images, row["filename"])

    def _generate_examples(self, rows):  # tfds' abstract hook; the splits pass their generators themselves
        yield from self._generate(rows)

    def _generate(self, rows):
        for label, path in rows:
            if not os.path.isfile(path):
                raise FileNotFoundError(f"{path} is listed but missing")
            name = os.path.basename(path)
            yield f"{label}/{name}", {"image": path, "label": label, "filename": name}


class MiniImagenetSaliencyFewShot(MiniImagenetFewShot):
    """miniImageNet with the SalNet authors' saliency maps, from their ``datas/miniImagenet`` folder.

    ``manual_dir`` holds what :class:`MiniImagenetFewShot` reads plus
    ``saliency_maps/``, where the map of ``<name>.jpg`` (or ``.png``) is
    ``saliency_maps/<name>.jpg``, as the official loader looks it up. Pass the
    examples' ``saliency`` / 255 as SalNet's ``support_saliency`` and
    ``query_saliency``.

    Example:

    >>> builder = MiniImagenetSaliencyFewShot(data_dir="~/tensorflow_datasets")  # doctest: +SKIP
    >>> builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
    ...     manual_dir="SalNet-cvpr19-master/datas/miniImagenet"))  # doctest: +SKIP
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "The SalNet authors' layout: miniImageNet images and saliency_maps/."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Pass as manual_dir the SalNet authors' datas/miniImagenet folder: train/, val/ and test/ class folders "
        "(or images/ and train.csv, val.csv, test.csv) and saliency_maps/ with one <image name>.jpg per image."
    )

    def _info(self):
        return self.dataset_info_from_configs(
            features=image_features({"saliency": tfds.features.Image(shape=(None, None, 1))}),
            supervised_keys=("image", "label"), homepage="https://github.com/HongguangZhang/SalNet-cvpr19-master")

    def _split_generators(self, dl_manager):
        self._saliency_dir = os.path.join(os.fspath(dl_manager.manual_dir), "saliency_maps")
        if not os.path.isdir(self._saliency_dir):
            raise FileNotFoundError(f"{self._saliency_dir} not found: " + self.MANUAL_DOWNLOAD_INSTRUCTIONS)
        return super()._split_generators(dl_manager)

    def _generate(self, rows):
        for key, example in super()._generate(rows):
            stem = os.path.splitext(example["filename"])[0]
            saliency = os.path.join(self._saliency_dir, f"{stem}.jpg")
            if not os.path.isfile(saliency):
                raise FileNotFoundError(f"{saliency} missing: every image needs its saliency map "
                                        f"saliency_maps/{stem}.jpg")
            with Image.open(saliency) as im:  # grayscale, as the official loader's convert("L")
                yield key, {**example, "saliency": np.asarray(im.convert("L"))[..., None]}
