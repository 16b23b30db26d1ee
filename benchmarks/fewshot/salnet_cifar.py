"""The authors' SalNet presets (miniImageNet-trained) on CIFAR-10 test episodes: a transfer measurement.

5-way 1-shot and 5-shot episodes of 15 queries per class drawn from the ten
CIFAR-10 classes (their test images, resized to 84×84 inside the model), the
same episodes for every model. Each of the authors' inter- and intra-class
SalNet presets and their vanilla model (no hallucination) is scored with
hgzoo's own spectral-residual saliency, and again with the saliency replaced
by a constant map of 0.5 (what saliency buys). The models were trained on
miniImageNet: these are transfer numbers on other classes and a much lower
resolution, not a reproduction of the paper's miniImageNet results.

    flock /work/heavy.lock python benchmarks/fewshot/salnet_cifar.py --episodes 600

Data: ``$HGZOO_TEST_DATA/cifar10/cifar10-jpeg.tar.gz`` and the authors' checkpoints in
``$HGZOO_TEST_DATA/salnet`` (used as ``HGZOO_WEIGHTS_DIR``). Results:
``benchmarks/results/fewshot/salnet_cifar.{json,md}``.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # benchmarks/_report.py
from _report import data_dir, peak_rss_mb, write  # noqa: E402

os.environ.setdefault("HGZOO_WEIGHTS_DIR", data_dir("salnet"))

import hgzoo  # noqa: E402
from hgzoo.fewshot import EpisodeSampler, ImageClasses, confidence_interval  # noqa: E402

MODELS = {"inter": "salnet_inter_miniimagenet_5way_{k}shot", "intra": "salnet_intra_miniimagenet_5way_{k}shot",
          "vanilla": "salnet_vanilla_miniimagenet_5way_{k}shot"}
CONSTANT = 0.5  # fg = bg = half the image: no information about where the object is


def load():
    path = data_dir("cifar10", "cifar10-jpeg.tar.gz")
    return ImageClasses.from_folder(path, channels=3, classes=lambda name: name.startswith("test/"))


def accuracy(model, inputs, target, constant):
    x = {k: v[None] for k, v in inputs.items()}
    if constant:
        x["support_saliency"] = np.full(x["support_images"].shape[:4], CONSTANT, np.float32)
        x["query_saliency"] = np.full(x["query_images"].shape[:4], CONSTANT, np.float32)
    scores = np.asarray(model.predict_on_batch(x))[0]
    return float(np.mean(scores.argmax(-1) == target.argmax(-1)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=600)
    parser.add_argument("--queries", type=int, default=15)
    args = parser.parse_args()
    start = time.time()
    pool = load()
    print(f"loaded {pool} in {time.time() - start:.0f} s", flush=True)
    rows = []
    for shots in (1, 5):
        sampler = EpisodeSampler(pool, 5, shots, args.queries, seed=7)
        episodes = [sampler.episode(i) for i in range(args.episodes)]
        for preset in MODELS.values():
            model = hgzoo.create_model(preset.format(k=shots), pretrained=True)
            row = {"setting": f"5-way {shots}-shot", "model": preset.format(k=shots)}
            for saliency, constant in (("spectral", False), ("constant", True)):
                start = time.time()
                mean, ci = confidence_interval([accuracy(model, *e, constant) for e in episodes])
                row[f"accuracy_{saliency}_saliency"] = round(100 * mean, 2)
                row[f"ci95_{saliency}"] = round(100 * ci, 2)
                row[f"seconds_per_episode_{saliency}"] = round((time.time() - start) / len(episodes), 2)
            row["episodes"] = len(episodes)
            row["peak_rss_mb"] = round(peak_rss_mb())
            rows.append(row)
            print(row, flush=True)
    write("fewshot", "salnet_cifar", rows, list(rows[0]),
          notes=f"Transfer, not the paper's setting: the authors' miniImageNet-trained SalNet weights on {args.episodes} "
                f"5-way episodes per shot count drawn from the CIFAR-10 test images (all ten classes, 32×32 JPEGs "
                f"resized bilinearly to 84×84 inside the model), {args.queries} queries per class, the same episodes "
                "for every model. 'spectral': hgzoo's spectral-residual saliency computed by the model; 'constant': "
                f"every saliency map set to {CONSTANT}. BatchNorm on batch statistics with the official query "
                "grouping (10 inter, 15 intra and vanilla) and order (every group holds 2 or 3 queries of each "
                "class, as the official ClassBalancedSampler). Accuracy in %, ± 95% CI (Student t). The paper's "
                "miniImageNet accuracies are not in hgzoo's reference notes and are not quoted here.")


if __name__ == "__main__":
    main()
