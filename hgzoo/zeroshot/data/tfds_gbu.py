"""A TensorFlow Datasets builder for a GBU zero-shot dataset you download yourself (``manual_dir``).

hgzoo does not ship the GBU ResNet-101 features (Xian et al.'s ``xlsa17``
archive). Pass one dataset's folder (``xlsa17/data/AWA2``: ``att_splits.mat``
and ``res101.mat``) as ``manual_dir``; the builder never touches the network.
Splits: ``trainval``, ``test_seen``, ``test_unseen``, and ``train`` / ``val``
where the file has them. Every example has ``features`` (D,), ``label`` (the
0-based class), ``class_name``, ``attributes`` (the class's raw attribute
vector) and ``index`` (the sample's 0-based row in ``res101.mat``). Needs the
``data`` and ``zeroshot`` extras.

>>> import tensorflow_datasets as tfds
>>> from hgzoo.zeroshot.data.tfds_gbu import GbuZeroShot
>>> builder = GbuZeroShot(data_dir="~/tensorflow_datasets")  # doctest: +SKIP
>>> builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
...     manual_dir="xlsa17/data/AWA2"))  # doctest: +SKIP
"""

import os

from hgzoo.config import require
from hgzoo.zeroshot.splits import load_gbu

tfds = require("tensorflow_datasets", "data")

__all__ = ["GbuZeroShot"]


class GbuZeroShot(tfds.core.GeneratorBasedBuilder):
    """One GBU dataset (features + proposed splits) from ``manual_dir``."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "att_splits.mat + res101.mat from a manual download."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = ("Pass as manual_dir one dataset folder of the GBU xlsa17 archive, holding "
                                    "att_splits.mat and res101.mat (e.g. xlsa17/data/AWA2).")

    def _info(self):
        import tensorflow as tf

        return self.dataset_info_from_configs(features=tfds.features.FeaturesDict({
            "features": tfds.features.Tensor(shape=(None,), dtype=tf.float32),
            "label": tfds.features.Scalar(dtype=tf.int64), "class_name": tfds.features.Text(),
            "attributes": tfds.features.Tensor(shape=(None,), dtype=tf.float32),
            "index": tfds.features.Scalar(dtype=tf.int64)}), supervised_keys=("features", "label"),
            homepage="https://www.mpi-inf.mpg.de/departments/computer-vision-and-machine-learning/research/"
                     "zero-shot-learning/zero-shot-learning-the-good-the-bad-and-the-ugly")

    def _split_generators(self, dl_manager):
        data = load_gbu(os.fspath(dl_manager.manual_dir))
        return {name: self._generate_examples(data, idx) for name, idx in data.splits.items()}

    def _generate_examples(self, data, indices):
        for i in indices:
            c = int(data.labels[i])
            yield int(i), {"features": data.features[i].astype("float32"), "label": c,
                           "class_name": data.class_names[c], "attributes": data.attributes[c].astype("float32"),
                           "index": int(i)}
