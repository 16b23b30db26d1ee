"""LLMEmbed over a real decoder-only LLM (SmolLM2-135M) against today's MiniLM-only head, on an SST-2 subset.

A small measured run, not the full table of issue #23: SmolLM2 on 2 cores
embeds a few texts a second, so this trains on a seeded 2,000-sentence
sample of ``sst2/train.tsv``, chooses σ and the epoch count on a seeded
500-sentence sample of ``sst2/dev.tsv``, and tests on all 872 sentences of
the GLUE dev set (``sst2/test.tsv``). For each backbone (the packaged
``all-MiniLM-L6-v2``, and ``smollm2-135m`` from ``hgzoo text
install-backbones``) it reports:

- last layer's masked mean + logistic regression;
- the LLMEmbed head on the last five layers' masked means (one stream per
  layer; no encoder streams), mean ± std over three seeds, on raw features
  and with ``standardize=True`` (each feature standardized on the training
  sample: a decoder LLM's pre-norm layers carry a few dimensions in the
  thousands).

Extraction runs with one torch thread (``FeatureExtractor(threads=1)``) and
max_length 128, texts sorted by length; its CPU seconds (user + system, this
process) are measured per backbone, the cache removed first so they are real.

    flock /work/heavy.lock env OMP_NUM_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 \\
        python benchmarks/text/llmembed_backbones.py

Results: ``benchmarks/results/text/llmembed_backbones.{json,md}``.
"""

import argparse
import os
import resource
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))  # benchmarks/_report.py
sys.path.insert(0, HERE)  # text_classification.py: the data files and the scores
from _report import write  # noqa: E402
from text_classification import SEEDS, SIGMAS, load, scores  # noqa: E402

BACKBONES = {"all-MiniLM-L6-v2": "MiniLM-L6 (22 M, encoder)", "smollm2-135m": "SmolLM2-135M (decoder LLM)"}
LAYERS = (-1, -2, -3, -4, -5)


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def subset(data, size, seed):
    index = np.sort(np.random.default_rng(seed).permutation(len(data))[:size])
    return [data.texts[i] for i in index], data.labels[index]


def fit_head(x, y, sigma, epochs, seed, val=None, standardize=False):
    import keras

    from hgzoo.text import LLMEmbed

    keras.utils.set_random_seed(seed)
    head = LLMEmbed(num_classes=2, num_layers=x.shape[1], feature_dim=x.shape[2], sigma=sigma, standardize=standardize)
    if standardize:
        head.adapt(x)
    history = head.fit(x, y, batch_size=128, epochs=epochs, validation_data=val, verbose=0, shuffle=True)
    return head, history.history


def run_backbone(backbone, splits, cache_dir, max_epochs):
    from sklearn.linear_model import LogisticRegression

    from hgzoo.text import FeatureExtractor

    extractor = FeatureExtractor(backbone, layers=LAYERS, max_length=128, batch_size=32, cache_dir=cache_dir,
                                 threads=1)
    features, cpu, wall, truncated = {}, cpu_seconds(), time.perf_counter(), 0
    for name, (texts, _) in splits.items():
        path = extractor.cache_path(texts)
        if os.path.exists(path):
            os.remove(path)
        features[name] = extractor.extract(texts, progress=False)
        truncated += extractor.last_truncated
    extraction = {"extraction CPU s": cpu_seconds() - cpu, "extraction wall s": time.perf_counter() - wall,
                  "texts": sum(len(t) for t, _ in splits.values()), "truncated": truncated}
    (x, y), (xv, yv), (xt, yt) = ((features[k], splits[k][1]) for k in ("train", "val", "test"))
    rows = []

    cpu = cpu_seconds()
    clf = LogisticRegression(max_iter=2000).fit(x[:, 0], y)
    rows.append({"method": "last layer + logistic regression", **scores(yt, clf.predict(xt[:, 0])),
                 "training CPU s": cpu_seconds() - cpu})

    for standardize in (False, True):
        cpu = cpu_seconds()
        selection = {}
        for sigma in SIGMAS:
            history = fit_head(x, y, sigma, max_epochs, 0, (xv, yv), standardize)[1]
            accuracy = history["val_sparse_categorical_accuracy"]
            selection[sigma] = (int(np.argmax(accuracy)) + 1, 100 * float(np.max(accuracy)))
        sigma = max(selection, key=lambda s: selection[s][1])
        epochs = selection[sigma][0]
        runs = [scores(yt, fit_head(x, y, sigma, epochs, seed, None, standardize)[0].predict(xt, verbose=0).argmax(-1))
                for seed in SEEDS]
        rows.append({"method": "LLMEmbed head, last 5 layers" + (", standardized inputs" if standardize else ""),
                     "accuracy": float(np.mean([r["accuracy"] for r in runs])),
                     "accuracy_std": float(np.std([r["accuracy"] for r in runs])),
                     "macro_f1": float(np.mean([r["macro_f1"] for r in runs])), "training CPU s": cpu_seconds() - cpu,
                     "settings": {"sigma": sigma, "epochs": epochs, "per_seed_accuracy": [r["accuracy"] for r in runs],
                                  "selection": {str(k): v for k, v in selection.items()}}})
    return [{"backbone": BACKBONES[backbone], **extraction, **row} for row in rows]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-size", type=int, default=2000)
    parser.add_argument("--val-size", type=int, default=500)
    parser.add_argument("--max-epochs", type=int, default=30, help="LLMEmbed epochs searched on validation data")
    parser.add_argument("--backbone", choices=sorted(BACKBONES), action="append", help="default: both")
    parser.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(), "hgzoo_text_benchmark"))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    train, val, test = load("sst2")
    splits = {"train": subset(train, args.train_size, 0), "val": subset(val, args.val_size, 1),
              "test": (test.texts, test.labels)}
    rows = []
    for backbone in args.backbone or BACKBONES:
        print(f"{backbone} ...", flush=True)
        rows += run_backbone(backbone, splits, args.cache_dir, args.max_epochs)
        print(rows[-3:], flush=True)
    table = [{**r, "accuracy %": f"{r['accuracy']:.2f}" + (f" ± {r['accuracy_std']:.2f}" if "accuracy_std" in r
                                                           else ""), "macro-F1 %": r["macro_f1"]} for r in rows]
    notes = (f"SST-2 subset: trained on a seeded {args.train_size:,}-sentence sample of the training file, σ "
             f"(of {list(SIGMAS)}) and epochs (≤ {args.max_epochs}, batch 128) chosen on a seeded "
             f"{args.val_size}-sentence sample of sst2/dev.tsv, tested on all 872 GLUE-dev sentences. Features: "
             "masked means of the last five layers, max_length 128, one torch thread; extraction CPU s covers all "
             f"{rows[0]['texts']:,} texts of the three splits for that backbone, training CPU s the method alone "
             "(the LLMEmbed row includes its σ/epoch search and three seeds). LLMEmbed: mean ± std over three "
             f"seeds. Peak resident memory of the whole run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} "
             "MB. Not the full-size table: the whole SST-2 training set with SmolLM2 is hours of CPU here.")
    print(write("text", "llmembed_backbones", table,
                ["backbone", "method", "accuracy %", "macro-F1 %", "extraction CPU s", "training CPU s"], notes))


if __name__ == "__main__":
    main()
