"""A TensorFlow Datasets builder for GoPro (Nah et al., CVPR 2017) from a manual download.

GoPro cannot be downloaded by hgzoo (it is hosted behind a web page and its
terms are the dataset authors'); download ``GOPRO_Large`` yourself, then:

>>> import tensorflow_datasets as tfds
>>> from hgzoo.deblur.data.tfds_gopro import GoproDeblur
>>> builder = GoproDeblur(data_dir="~/tensorflow_datasets")  # doctest: +SKIP
>>> builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
...     manual_dir="/data/GOPRO_Large"))  # doctest: +SKIP
>>> train = builder.as_dataset(split="train", as_supervised=True)  # doctest: +SKIP

The builder never touches the network: it reads ``manual_dir/train`` and
``manual_dir/test`` in the GoPro layout (``GOPRxxxx_xx_xx/{blur,sharp}/*.png``).
"""

import os

from hgzoo.config import require
from hgzoo.data.tfds_manual import manual_splits
from hgzoo.deblur.data.deblur_pairs import gopro_pairs

tfds = require("tensorflow_datasets", "data")


class GoproDeblur(tfds.core.GeneratorBasedBuilder):
    """GoPro blurry/sharp pairs (2103 train, 1111 test), read from ``manual_dir``."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "GoPro_Large blur/sharp pairs from a manual download."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Download GOPRO_Large (https://seungjunnah.github.io/Datasets/gopro) and pass its folder, "
        "which holds train/ and test/, as manual_dir."
    )

    def _info(self):
        image = tfds.features.Image(shape=(None, None, 3))
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "blur": image, "sharp": image,
                "sequence": tfds.features.Text(), "frame": tfds.features.Text(),
            }),
            supervised_keys=("blur", "sharp"),
            homepage="https://seungjunnah.github.io/Datasets/gopro",
        )

    def _split_generators(self, dl_manager):
        return manual_splits(self, dl_manager, "GoPro")

    def _generate_examples(self, folder):
        for blur, sharp in gopro_pairs(folder):
            sequence = os.path.basename(os.path.dirname(os.path.dirname(blur)))
            frame = os.path.splitext(os.path.basename(blur))[0]
            yield f"{sequence}/{frame}", {"blur": blur, "sharp": sharp, "sequence": sequence, "frame": frame}
