"""A TensorFlow Datasets builder for GoPro with simulated events, from a manual GOPRO_Large_all copy.

``GOPRO_Large_all`` holds every 240 fps frame of the GoPro sequences (Nah et
al., CVPR 2017), which hgzoo cannot download for you. Each example takes
``frames_per_blur`` consecutive frames (non-overlapping windows): the blurry
image is their average in linear intensity (the frames are decoded with
gamma 2.2, averaged, re-encoded, as GoPro's blur was made), the sharp image
is the middle frame, and the events are simulated from the same frames'
luminance (:func:`hgzoo.deblur.data.events.simulate_events`, ESIM-style, at the
frames' 240 fps timestamps) and stored as a float16 voxel grid over the
exposure. A 1280×720 example with 6 bins takes about 11 MB of voxels.

>>> import tensorflow_datasets as tfds
>>> from hgzoo.deblur.data.tfds_gopro_events import GoproEvents
>>> builder = GoproEvents(data_dir="~/tensorflow_datasets")  # doctest: +SKIP
>>> builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
...     manual_dir="/data/GOPRO_Large_all"))  # doctest: +SKIP
>>> inputs, sharp = next(iter(builder.as_dataset(split="train", as_supervised=True)))  # doctest: +SKIP
>>> sorted(inputs)  # doctest: +SKIP
['events', 'image']
"""

import dataclasses
import glob
import os

import numpy as np

from hgzoo.config import require
from hgzoo.data.images import read_image
from hgzoo.data.tfds_manual import manual_splits
from hgzoo.deblur.data.events import luminance, simulate_events, voxel_grid

tfds = require("tensorflow_datasets", "data")

FPS = 240.0
GAMMA = 2.2


@dataclasses.dataclass
class GoproEventsConfig(tfds.core.BuilderConfig):
    """How frames become examples: window length, voxel bins and the simulated sensor's thresholds."""

    frames_per_blur: int = 7
    bins: int = 6
    contrast_threshold: float = 0.2
    threshold_sigma: float = 0.03
    seed: int = 0


class GoproEvents(tfds.core.GeneratorBasedBuilder):
    """GoPro blurry/sharp pairs with event voxels simulated from the 240 fps frames of ``manual_dir``."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Windows of GOPRO_Large_all frames with ESIM-style simulated events."}
    BUILDER_CONFIGS = [GoproEventsConfig(name="w7_b6", description="7-frame blur, 6 voxel bins, C = 0.2")]
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Download GOPRO_Large_all (https://seungjunnah.github.io/Datasets/gopro) and pass its folder, which holds "
        "train/ and test/ with one folder of PNG frames per sequence, as manual_dir."
    )

    def _info(self):
        image = tfds.features.Image(shape=(None, None, 3))
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "blur": image, "sharp": image,
                "events": tfds.features.Tensor(shape=(None, None, self.builder_config.bins), dtype=np.float16,
                                               encoding="zlib"),
                "sequence": tfds.features.Text(), "frame": tfds.features.Text(),
            }),
            supervised_keys=({"image": "blur", "events": "events"}, "sharp"),
            homepage="https://seungjunnah.github.io/Datasets/gopro",
        )

    def _split_generators(self, dl_manager):
        return manual_splits(self, dl_manager, "GOPRO_Large_all")

    def _generate_examples(self, folder):
        config = self.builder_config
        sequences = sorted(d for d in glob.glob(os.path.join(folder, "*")) if os.path.isdir(d))
        if not sequences:
            raise FileNotFoundError(f"{folder} has no sequence folders of frames")
        for index, sequence in enumerate(sequences):
            frames = sorted(glob.glob(os.path.join(sequence, "*.png")))
            name = os.path.basename(sequence)
            for start in range(0, len(frames) - config.frames_per_blur + 1, config.frames_per_blur):
                window = frames[start:start + config.frames_per_blur]
                example = window_example(window, config, np.random.default_rng([config.seed, index, start]))
                middle = os.path.splitext(os.path.basename(window[len(window) // 2]))[0]
                yield f"{name}/{middle}", {**example, "sequence": name, "frame": middle}


def window_example(paths, config, rng):
    """blur, sharp (uint8) and float16 voxels of one window of frame files."""
    encoded = [read_image(p).astype(np.float64) / 255.0 for p in paths]
    shapes = {f.shape for f in encoded}
    if len(shapes) != 1 or encoded[0].ndim != 3 or encoded[0].shape[-1] != 3:
        raise ValueError(f"frames {paths[0]} ... must be RGB images of one size, got shapes {sorted(shapes)}")
    linear = np.stack(encoded) ** GAMMA
    blur = linear.mean(axis=0) ** (1 / GAMMA)
    times = np.arange(len(paths)) / FPS
    events = simulate_events(luminance(linear), times, config.contrast_threshold, config.threshold_sigma, rng=rng)
    voxels = voxel_grid(events, config.bins, times[0], times[-1]).astype(np.float16)
    to_uint8 = lambda x: np.floor(np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)  # noqa: E731
    return {"blur": to_uint8(blur), "sharp": to_uint8(encoded[len(paths) // 2]), "events": voxels}
