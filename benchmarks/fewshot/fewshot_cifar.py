"""A weak but real natural-image proxy: SoSN on a CIFAR-10 class split.

Five CIFAR-10 classes (airplane, automobile, bird, cat, deer; their training
images) are the training classes; the other five (dog, frog, horse, ship,
truck; their test images) are never seen in training and make the 5-way
1-shot and 5-shot test episodes. With only five training classes every
training episode shows the same classes, so this is far easier and far less
diverse than miniImageNet: it checks that the pipeline learns something
transferable on natural images, nothing more. Compare it with nothing in the
papers.

    python benchmarks/fewshot/fewshot_cifar.py --steps 400   # the run in benchmarks/results (the default)

Data: ``$HGZOO_TEST_DATA/cifar10/cifar10-jpeg.tar.gz`` (default
``../shared/data``). Results: ``benchmarks/results/fewshot/fewshot_cifar.{json,md}``.
"""

import argparse
import os
import sys
import time

import keras
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # benchmarks/_report.py
from _report import data_dir, peak_rss_mb, write  # noqa: E402

import hgzoo  # noqa: E402
from hgzoo.fewshot import EpisodeSampler, ImageClasses, evaluate_episodes  # noqa: E402

TRAIN_CLASSES = ("airplane", "automobile", "bird", "cat", "deer")
TEST_CLASSES = ("dog", "frog", "horse", "ship", "truck")


def load():
    path = data_dir("cifar10", "cifar10-jpeg.tar.gz")
    wanted = {f"train/{c}" for c in TRAIN_CLASSES} | {f"test/{c}" for c in TEST_CLASSES}
    pool = ImageClasses.from_folder(path, channels=3, classes=lambda name: name in wanted)
    train = [i for i, n in enumerate(pool.names) if n.startswith("train/")]
    test = [i for i, n in enumerate(pool.names) if n.startswith("test/")]
    return pool.subset(train), pool.subset(test)


def pixel_prototype_accuracy(pool, shots, episodes=600, seed=7):
    """Nearest class mean in raw pixels: the floor any learned model must clear."""
    correct = []
    for i in range(episodes):
        inputs, target = EpisodeSampler(pool, 5, shots, 5, seed=seed).episode(i)
        s = inputs["support_images"].reshape(len(inputs["support_labels"]), -1)
        means = np.stack([s[inputs["support_labels"] == c].mean(0) for c in range(5)])
        q = inputs["query_images"].reshape(len(target), -1)
        correct.append(np.mean(((q[:, None] - means[None]) ** 2).sum(-1).argmin(1) == target.argmax(1)))
    return float(np.mean(correct))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--episodes", type=int, default=600)
    args = parser.parse_args()
    start = time.time()
    train_pool, test_pool = load()
    print(f"loaded {train_pool} for training and {test_pool} for testing in {time.time() - start:.0f} s")
    keras.utils.set_random_seed(0)
    model = hgzoo.fewshot.SoSN(image_size=(32, 32), channels=3, mean=0.5, std=0.25)
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-3, args.steps)))
    start = time.time()
    model.fit(EpisodeSampler(train_pool, 5, 1, 5, seed=0).dataset(episodes=args.steps), verbose=2)
    seconds = time.time() - start
    rows = []
    for shots in (1, 5):
        result = evaluate_episodes(model, EpisodeSampler(test_pool, 5, shots, 5, seed=7).dataset(episodes=args.episodes),
                                   verbose=0)
        rows.append({"setting": f"5-way {shots}-shot, held-out classes", "sosn_accuracy": round(100 * result["accuracy"], 2),
                     "ci95": round(100 * result["ci95"], 2),
                     "pixel_prototype_accuracy": round(100 * pixel_prototype_accuracy(test_pool, shots), 2),
                     "train_steps": args.steps, "train_seconds": round(seconds), "peak_rss_mb": round(peak_rss_mb())})
        print(rows[-1], flush=True)
    write("fewshot", "fewshot_cifar", rows, list(rows[0]),
          notes="Proxy only: 5 training classes (CIFAR-10 train images), 5 unseen test classes (their test images), "
                f"{args.episodes} test episodes of 5 queries per class; SoSN Conv-4 at 32×32, SigmE σ=100, "
                "5-way 1-shot training episodes, Adam cosine from 1e-3. Accuracy in %, ± 95% CI.")


if __name__ == "__main__":
    main()
