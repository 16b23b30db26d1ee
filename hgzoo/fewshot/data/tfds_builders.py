"""TensorFlow Datasets builders for few-shot benchmarks you download yourself (``manual_dir``).

hgzoo cannot fetch miniImageNet or Open MIC (their terms need a request or
an ImageNet licence). Put your copy in a folder and pass it as
``manual_dir``; the builders never touch the network.

- :class:`MiniImagenetFewShot`: either ``train/``, ``val/``, ``test/`` each with
  one folder per class (``n01532829/*.jpg``), or Ravi and Larochelle's
  ``images/`` folder plus ``train.csv``, ``val.csv``, ``test.csv``
  (``filename,label`` rows).
- :class:`OpenMicFewShot`: ``<space>/<domain>/<exhibit>/*.jpg`` with the 10
  exhibition spaces as splits and ``domain`` (``source``: phone photos,
  ``target``: wearable-camera photos) kept as a feature.

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

from hgzoo.config import require
from hgzoo.data.tfds_manual import class_folders

tfds = require("tensorflow_datasets", "data")


def _features(extra=None):
    return tfds.features.FeaturesDict({"image": tfds.features.Image(shape=(None, None, 3)),
                                       "label": tfds.features.Text(), "filename": tfds.features.Text(),
                                       **(extra or {})})


class MiniImagenetFewShot(tfds.core.GeneratorBasedBuilder):
    """miniImageNet (Vinyals et al.; Ravi and Larochelle's 64/16/20 class split) from ``manual_dir``."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Class-folder or CSV layouts from a manual download."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Pass as manual_dir a folder with train/, val/ and test/ class folders, or with images/ and "
        "train.csv, val.csv, test.csv (Ravi and Larochelle's split files)."
    )

    def _info(self):
        return self.dataset_info_from_configs(features=_features(), supervised_keys=("image", "label"),
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

    def _generate(self, rows):
        for label, path in rows:
            if not os.path.isfile(path):
                raise FileNotFoundError(f"{path} is listed but missing")
            name = os.path.basename(path)
            yield f"{label}/{name}", {"image": path, "label": label, "filename": name}


class OpenMicFewShot(tfds.core.GeneratorBasedBuilder):
    """Open MIC (Koniusz et al., CVPR 2018): 10 exhibition spaces as splits, from ``manual_dir``."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "space/domain/exhibit folders from a manual download."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Request Open MIC at users.cecs.anu.edu.au/~koniusz/openmic-dataset/ and pass as manual_dir a "
        "folder laid out <space>/<source|target>/<exhibit>/*.jpg."
    )

    def _info(self):
        return self.dataset_info_from_configs(features=_features({"domain": tfds.features.Text()}),
                                              supervised_keys=("image", "label"),
                                              homepage="https://users.cecs.anu.edu.au/~koniusz/openmic-dataset/")

    def _split_generators(self, dl_manager):
        root = os.fspath(dl_manager.manual_dir)
        spaces = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))) if os.path.isdir(
            root) else []
        if not spaces:
            raise FileNotFoundError(f"{root}: no exhibition-space folders; " + self.MANUAL_DOWNLOAD_INSTRUCTIONS)
        return {space: self._generate(os.path.join(root, space)) for space in spaces}

    def _generate(self, space):
        domains = [d for d in ("source", "target") if os.path.isdir(os.path.join(space, d))]
        if not domains:
            raise FileNotFoundError(f"{space}: expected source/ and/or target/ folders inside")
        for domain in domains:
            for label, path in class_folders(os.path.join(space, domain)):
                name = os.path.basename(path)
                yield f"{domain}/{label}/{name}", {"image": path, "label": label, "filename": name,
                                                   "domain": domain}
