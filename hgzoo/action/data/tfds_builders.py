"""TensorFlow Datasets builders for UCF101 and HMDB51 few-shot splits, from videos you download yourself.

hgzoo never downloads the videos. Put the release in a folder and pass it as
``manual_dir``:

- :class:`Ucf101FewShot`: ``UCF-101/<Class>/v_<Class>_gXX_cXX.avi`` (the
  folder ``UCF-101`` itself or its parent); splits ``train``/``val``/``test``
  are ARN's 70/10/21 classes (:data:`~hgzoo.action.data.splits.UCF101_ARN`,
  their PDF typos mapped to the real folder names).
- :class:`Hmdb51FewShot`: ``<class>/<video>.avi`` as the per-class RAR
  archives unpack (or inside ``hmdb51_org/``); splits are hgzoo's documented
  31/10/10 class split (:data:`~hgzoo.action.data.splits.HMDB51_SPLIT`).

Every example is one clip, sampled uniformly to ``FRAMES`` frames resized to
``SIZE`` (the paper's 20 × 128×128), as ``video`` (T, H, W, 3) uint8, with
``label`` (the class name) and ``filename``. Videos that do not decode or are
shorter than ``FRAMES`` are skipped, and their names logged. Subclass and set
``FRAMES``/``SIZE`` for other sizes. Needs the ``data`` and ``action`` extras.

>>> import tensorflow_datasets as tfds
>>> from hgzoo.action.data.tfds_builders import Ucf101FewShot
>>> builder = Ucf101FewShot(data_dir="~/tensorflow_datasets")  # doctest: +SKIP
>>> builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir="/data/ucf101"))  # doctest: +SKIP
"""

import logging
import os

from hgzoo.action.data.splits import HMDB51_SPLIT, UCF101_ARN
from hgzoo.action.video import InvalidVideoError, is_clip_source, read_clip
from hgzoo.config import require

tfds = require("tensorflow_datasets", "data")

__all__ = ["Hmdb51FewShot", "Ucf101FewShot"]

log = logging.getLogger(__name__)


class _VideoClassSplits(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Class folders of videos, split by class lists."""

    FRAMES = 20
    SIZE = (128, 128)
    SPLITS = {}
    ROOTS = ()  # sub-folders of manual_dir that may hold the class folders
    HOMEPAGE = ""

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "video": tfds.features.Video((self.FRAMES, *self.SIZE, 3)),
                "label": tfds.features.Text(),
                "filename": tfds.features.Text()}),
            supervised_keys=("video", "label"), homepage=self.HOMEPAGE)

    def _root(self, manual_dir):
        for sub in self.ROOTS:
            if os.path.isdir(os.path.join(manual_dir, sub)):
                return os.path.join(manual_dir, sub)
        return manual_dir

    def _split_generators(self, dl_manager):
        root = self._root(os.fspath(dl_manager.manual_dir))
        folders = {name.lower(): os.path.join(root, name) for name in os.listdir(root)
                   if os.path.isdir(os.path.join(root, name))} if os.path.isdir(root) else {}
        splits = {}
        for split, classes in self.SPLITS.items():
            missing = [c for c in classes if c.lower() not in folders]
            if missing:
                raise FileNotFoundError(f"{root}: class folders {missing[:5]}{' ...' if len(missing) > 5 else ''} "
                                        f"of the {split} split not found; " + self.MANUAL_DOWNLOAD_INSTRUCTIONS)
            splits[split] = self._generate([(c, folders[c.lower()]) for c in classes])
        return splits

    def _generate_examples(self, classes):  # tfds' abstract hook; the splits pass their generators themselves
        yield from self._generate(classes)

    def _generate(self, classes):
        for label, folder in classes:
            for name in sorted(os.listdir(folder)):
                path = os.path.join(folder, name)
                if not is_clip_source(path):
                    continue
                try:
                    clip = read_clip(path, self.FRAMES, "uniform", self.SIZE, channels=3)
                except InvalidVideoError as e:
                    log.warning("skipped %s", e)
                    continue
                yield f"{label}/{name}", {"video": clip, "label": label, "filename": name}


class Ucf101FewShot(_VideoClassSplits):
    """UCF101 with ARN's few-shot class split (70 train / 10 val / 21 test classes), from ``manual_dir``."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "ARN's class lists, typos mapped; clips of 20 frames at 128×128."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = ("Pass as manual_dir the unpacked UCF101 release: the UCF-101/ folder (or its "
                                    "parent) with one folder per class, e.g. UCF-101/ApplyEyeMakeup/*.avi.")
    SPLITS = UCF101_ARN
    ROOTS = ("UCF-101", "UCF101")
    HOMEPAGE = "https://www.crcv.ucf.edu/data/UCF101.php"


class Hmdb51FewShot(_VideoClassSplits):
    """HMDB51 with hgzoo's documented few-shot class split (31 train / 10 val / 10 test), from ``manual_dir``."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "hgzoo's class split (sorted[2::5] test, sorted[4::5] val); 20 frames at 128×128."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = ("Pass as manual_dir a folder with the 51 class folders of HMDB51 (unpack each "
                                    "<class>.rar of hmdb51_org.rar), e.g. brush_hair/*.avi.")
    SPLITS = HMDB51_SPLIT
    ROOTS = ("hmdb51_org", "hmdb51")
    HOMEPAGE = "https://serre-lab.clps.brown.edu/resource/hmdb-a-large-human-motion-database/"
