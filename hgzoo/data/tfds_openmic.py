"""Open MIC (Koniusz et al., CVPR 2018) as a TensorFlow Datasets builder (``manual_dir``), with its protocols.

Open MIC photographs museum exhibits twice: with phones (``source``) and with
wearable cameras (``target``), in 10 exhibition spaces. hgzoo cannot fetch
it (access is on request); lay your copy out as
``<space>/<source|target>/<exhibit>/*.jpg`` and pass that folder as
``manual_dir``. Every example has ``image``, ``label`` (the exhibit
folder), ``filename``, ``domain`` and ``space``. Three configurations,
one per protocol; the few-shot and domain-adaptation families both read it:

- ``spaces`` (the default, for few-shot episodes): one split per exhibition
  space, both domains in it;
- ``per_space`` (domain adaptation within each space): the splits
  ``<space>_source`` and ``<space>_target``;
- ``combined`` (domain adaptation over all spaces at once): the splits
  ``source`` and ``target``, labels ``<space>/<exhibit>`` so that exhibits
  of different spaces never share a class.

The K labelled target images per class and the target test set are drawn
from a ``target`` split by :func:`hgzoo.domain.data.few_shot_split` (with a
seed), not read from split files. The domain-adaptation protocols need both
``source/`` and ``target/`` in every space, and say which one is missing.
Needs the ``data`` extra:

>>> import tensorflow_datasets as tfds
>>> from hgzoo.data.tfds_openmic import OpenMicFewShot
>>> builder = OpenMicFewShot(config="combined", data_dir="~/tensorflow_datasets")  # doctest: +SKIP
>>> builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
...     manual_dir="/data/openmic"))  # doctest: +SKIP
>>> source = builder.as_dataset(split="source")  # doctest: +SKIP
"""

import os
import re

from hgzoo.config import require
from hgzoo.data.tfds_manual import class_folders, image_features

tfds = require("tensorflow_datasets", "data")

DOMAINS = ("source", "target")
PROTOCOLS = ("spaces", "per_space", "combined")


class OpenMicFewShot(tfds.core.GeneratorBasedBuilder):
    """Open MIC (Koniusz et al., CVPR 2018) from ``manual_dir``: configurations ``spaces``, ``per_space``, ``combined``."""

    VERSION = tfds.core.Version("1.1.0")
    RELEASE_NOTES = {"1.0.0": "space/domain/exhibit folders from a manual download.",
                     "1.1.0": "the per_space and combined domain-adaptation protocols; a space feature."}
    BUILDER_CONFIGS = [
        tfds.core.BuilderConfig(name="spaces", description="one split per exhibition space, both domains"),
        tfds.core.BuilderConfig(name="per_space", description="<space>_source and <space>_target splits"),
        tfds.core.BuilderConfig(name="combined", description="source and target splits over all spaces"),
    ]
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Request Open MIC at users.cecs.anu.edu.au/~koniusz/openmic-dataset/ and pass as manual_dir a "
        "folder laid out <space>/<source|target>/<exhibit>/*.jpg."
    )

    def _info(self):
        return self.dataset_info_from_configs(
            features=image_features({"domain": tfds.features.Text(), "space": tfds.features.Text()}),
            supervised_keys=("image", "label"), homepage="https://users.cecs.anu.edu.au/~koniusz/openmic-dataset/")

    def _split_generators(self, dl_manager):
        root = os.fspath(dl_manager.manual_dir)
        spaces = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))) if os.path.isdir(
            root) else []
        if not spaces:
            raise FileNotFoundError(f"{root}: no exhibition-space folders; " + self.MANUAL_DOWNLOAD_INSTRUCTIONS)
        protocol = self.builder_config.name
        if protocol == "spaces":
            return {space: self._generate_examples(root, [space], self._domains(root, space, needed=False))
                    for space in spaces}
        for space in spaces:
            self._domains(root, space, needed=True)
        if protocol == "combined":
            return {domain: self._generate_examples(root, spaces, [domain]) for domain in DOMAINS}
        for space in spaces:
            if not re.fullmatch(r"\w+", space):
                raise ValueError(f"{os.path.join(root, space)}: the per_space protocol names splits after the "
                                 "space folders; rename it to letters, digits and _ only")
        return {f"{space}_{domain}": self._generate_examples(root, [space], [domain]) for space in spaces for domain in DOMAINS}

    def _domains(self, root, space, needed):
        folder = os.path.join(root, space)
        found = [d for d in DOMAINS if os.path.isdir(os.path.join(folder, d))]
        missing = [d for d in DOMAINS if d not in found]
        if not found or (needed and missing):
            raise FileNotFoundError(f"{folder}: no {' or '.join(missing)}/ folder; each exhibition space needs "
                                    f"source/ and target/ ({self.MANUAL_DOWNLOAD_INSTRUCTIONS})")
        return found

    def _generate_examples(self, root, spaces, domains):
        prefix = self.builder_config.name == "combined"
        for space in spaces:
            for domain in domains:
                folder = os.path.join(root, space, domain)
                rows = list(class_folders(folder))
                if not rows:
                    raise FileNotFoundError(f"{folder}: no <exhibit>/*.jpg images inside")
                for exhibit, path in rows:
                    name = os.path.basename(path)
                    label = f"{space}/{exhibit}" if prefix else exhibit
                    yield f"{space}/{domain}/{exhibit}/{name}", {"image": path, "label": label, "filename": name,
                                                                "domain": domain, "space": space}
