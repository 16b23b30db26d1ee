"""Open MIC (Koniusz et al., CVPR 2018) as a TensorFlow Datasets builder (``manual_dir``).

Open MIC photographs museum exhibits twice: with phones (``source``) and with
wearable cameras (``target``), in 10 exhibition spaces. hgzoo cannot fetch
it (access is on request); lay your copy out as
``<space>/<source|target>/<exhibit>/*.jpg`` and pass that folder as
``manual_dir``. Each exhibition space is a split; every example has
``image``, ``label`` (the exhibit folder), ``filename`` and ``domain``. The
few-shot and domain-adaptation families both read it. Needs the ``data``
extra:

>>> import tensorflow_datasets as tfds
>>> from hgzoo.data.tfds_openmic import OpenMicFewShot
>>> builder = OpenMicFewShot(data_dir="~/tensorflow_datasets")  # doctest: +SKIP
>>> builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
...     manual_dir="/data/openmic"))  # doctest: +SKIP
"""

import os

from hgzoo.config import require
from hgzoo.data.tfds_manual import class_folders, image_features

tfds = require("tensorflow_datasets", "data")


class OpenMicFewShot(tfds.core.GeneratorBasedBuilder):
    """Open MIC (Koniusz et al., CVPR 2018): 10 exhibition spaces as splits, from ``manual_dir``."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "space/domain/exhibit folders from a manual download."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Request Open MIC at users.cecs.anu.edu.au/~koniusz/openmic-dataset/ and pass as manual_dir a "
        "folder laid out <space>/<source|target>/<exhibit>/*.jpg."
    )

    def _info(self):
        return self.dataset_info_from_configs(features=image_features({"domain": tfds.features.Text()}),
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
