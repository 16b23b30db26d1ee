"""TensorFlow Datasets builders for NYU-v2 (RGB-D) and DPDD (real Canon dual-pixel pairs), from files you download.

hgzoo never downloads either dataset. Pass the download as ``manual_dir``:

- :class:`NyuDepthV2Labeled`: ``nyu_depth_v2_labeled.mat``, the 1449 labelled
  pairs (MATLAB v7.3, i.e. HDF5, read with h5py). Examples are ``image``
  (480, 640, 3) uint8 and ``depth`` (480, 640) float32 in metres, plus
  ``index`` (1-based, as in the .mat). Splits follow DDDNet's simulated
  data: ``train`` images 1-1000, ``test`` 1001-1449 (DDDNet tests on
  1001-1350 and 1001-1150). Feed them to
  :func:`~hgzoo.dualpixel.data.dual_pixel_dataset` as RGB-D sources.
- :class:`DualPixelDefocusDeblurring` (DPDD, Abuolaim & Brown, ECCV 2020):
  the release's ``{train,val,test}_c/source`` (combined blurry image),
  ``{split}_c/target`` (all-in-focus, captured at f/22),
  ``{split}_l/source`` and ``{split}_r/source`` (the two DP views), 16-bit
  PNGs, either directly in ``manual_dir`` or in its ``dd_dp_dataset_canon``
  / ``dd_dp_dataset_png`` sub-folder. Files pair by sorted order within each
  folder, as the authors' loader does. Examples are ``left``, ``right``,
  ``combined`` and ``target`` (H, W, 3) uint16 and ``filename``.

Both need the ``data`` extra (TensorFlow Datasets); h5py comes with Keras.

>>> import tensorflow_datasets as tfds
>>> from hgzoo.dualpixel.data.tfds_builders import DualPixelDefocusDeblurring
>>> builder = DualPixelDefocusDeblurring(data_dir="~/tensorflow_datasets")  # doctest: +SKIP
>>> builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir="/data/dpdd"))  # doctest: +SKIP
"""

import os

import numpy as np

from hgzoo.config import require
from hgzoo.data.image_classes import IMAGE_SUFFIXES

tfds = require("tensorflow_datasets", "data")

__all__ = ["DualPixelDefocusDeblurring", "NyuDepthV2Labeled"]


class NyuDepthV2Labeled(tfds.core.GeneratorBasedBuilder):
    """NYU-v2's 1449 labelled RGB-D pairs from ``manual_dir/nyu_depth_v2_labeled.mat``, split as DDDNet's data."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Images and depths of the labelled set; train 1-1000, test 1001-1449."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = ("Put nyu_depth_v2_labeled.mat (the labelled dataset, ~2.8 GB, from "
                                    "https://cs.nyu.edu/~fergus/datasets/nyu_depth_v2.html) in manual_dir.")
    FILENAME = "nyu_depth_v2_labeled.mat"
    SPLITS = {"train": (0, 1000), "test": (1000, None)}  # 0-based [start, stop) over the .mat's images

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(None, None, 3)),
                "depth": tfds.features.Tensor(shape=(None, None), dtype=np.float32, encoding=tfds.features.Encoding.ZLIB),
                "index": np.int32}),
            supervised_keys=("image", "depth"), homepage="https://cs.nyu.edu/~fergus/datasets/nyu_depth_v2.html")

    def _split_generators(self, dl_manager):
        path = os.path.join(os.fspath(dl_manager.manual_dir), self.FILENAME)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path} not found; " + self.MANUAL_DOWNLOAD_INSTRUCTIONS)
        return {split: self._generate_examples(path, start, stop) for split, (start, stop) in self.SPLITS.items()}

    def _generate_examples(self, path, start, stop):
        h5py = require("h5py", "dualpixel")
        with h5py.File(path, "r") as f:
            missing = [k for k in ("images", "depths") if k not in f]
            if missing:
                raise ValueError(f"{path}: no {' or '.join(missing)} dataset; expected NYU-v2's labelled .mat "
                                 f"(images (N, 3, 640, 480) uint8, depths (N, 640, 480) metres)")
            images, depths = f["images"], f["depths"]
            for i in range(start, images.shape[0] if stop is None else min(stop, images.shape[0])):
                # MATLAB is column-major: h5py sees (3, W, H) and (W, H).
                yield i, {"image": np.ascontiguousarray(images[i].transpose(2, 1, 0)),
                          "depth": np.ascontiguousarray(depths[i].T.astype(np.float32)), "index": i + 1}


class DualPixelDefocusDeblurring(tfds.core.GeneratorBasedBuilder):
    """DPDD (Canon DP L/R views, combined blurry image, all-in-focus target) from the authors' folders."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "train/val/test of the Canon set, 16-bit views and targets."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = ("Pass as manual_dir the unzipped DPDD release (dd_dp_dataset_canon, from "
                                    "https://github.com/Abdullah-Abuolaim/defocus-deblurring-dual-pixel): folders "
                                    "train_c/{source,target}, train_l/source, train_r/source and the same for val "
                                    "and test.")
    SPLITS = ("train", "val", "test")
    ROOTS = ("dd_dp_dataset_canon", "dd_dp_dataset_png")
    # feature name -> folder under the split's prefix
    FOLDERS = {"combined": "_c/source", "target": "_c/target", "left": "_l/source", "right": "_r/source"}

    def _info(self):
        image = tfds.features.Image(shape=(None, None, 3), dtype=np.uint16)
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({**{k: image for k in self.FOLDERS}, "filename": tfds.features.Text()}),
            homepage="https://github.com/Abdullah-Abuolaim/defocus-deblurring-dual-pixel")

    def _split_generators(self, dl_manager):
        root = os.fspath(dl_manager.manual_dir)
        root = next((os.path.join(root, s) for s in self.ROOTS if os.path.isdir(os.path.join(root, s))), root)
        return {split: self._generate_examples(self._split_files(root, split)) for split in self.SPLITS}

    def _split_files(self, root, split):
        files = {}
        for feature, sub in self.FOLDERS.items():
            folder = os.path.join(root, split + sub)
            if not os.path.isdir(folder):
                raise FileNotFoundError(f"{folder} not found; " + self.MANUAL_DOWNLOAD_INSTRUCTIONS)
            files[feature] = sorted(os.path.join(folder, f) for f in os.listdir(folder)
                                    if f.lower().endswith(IMAGE_SUFFIXES))
        counts = {feature: len(paths) for feature, paths in files.items()}
        if len(set(counts.values())) != 1:
            raise ValueError(f"{root}: the {split} folders hold different numbers of images {counts}; each "
                             f"capture needs its combined, target, left and right image")
        return files

    def _generate_examples(self, files):
        import tensorflow as tf

        for paths in zip(*files.values()):
            example = {}
            for feature, path in zip(files, paths):
                # TF decodes 16-bit RGB PNGs (Pillow would cut them to 8 bits) and scales 8-bit ones by 257.
                example[feature] = tf.io.decode_png(tf.io.read_file(path), channels=3, dtype=tf.uint16).numpy()
            name = os.path.basename(paths[0])
            yield name, {**example, "filename": name}
