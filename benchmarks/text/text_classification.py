"""Text classification on real SST-2 and AG News: LLMEmbed over MiniLM against linear baselines.

Every method trains on the same training file and is scored once on the
test file. SST-2 trains on 60,614 sentences of GLUE's 67,349-sentence training
set (the other 6,735, ``sst2/dev.tsv``, choose LLMEmbed's σ and epochs) and
tests on the 872-sentence GLUE dev set; AG News trains on a 10,001-item cut of its
120,000-item training set (``agnews/dev.tsv``, the only training data in
``$HGZOO_TEST_DATA``) and tests on the official 7,600-item test set.

- TF-IDF (1-2-grams, sublinear tf, min_df 2) + logistic regression;
- last-layer mean embedding of all-MiniLM-L6-v2 + logistic regression;
- the LLMEmbed head (``hgzoo.text.LLMEmbed``) on the last five layers'
  mean embeddings, σ and epoch count chosen on validation data (SST-2's
  dev file; a seeded 10 % of AG News' training file, the head then refit on
  all of it), mean over three seeds;
- end-to-end fine-tuning of the same MiniLM (mean pooling + linear layer,
  AdamW 5e-5, batch 32) for a fixed budget of optimizer steps.

Each method runs in its own process, so its CPU seconds (user + system, all
threads) and peak resident memory are its own; the feature-based methods
list the one-off MiniLM extraction separately.

    python benchmarks/text/text_classification.py       # everything, ~30 min on 2 cores
    python benchmarks/text/text_classification.py --dataset agnews --method tfidf  # rerun one cell

Rows of methods not rerun are kept from the previous results file, with that
run's provenance (listed under the table).

Data: ``$HGZOO_TEST_DATA/text`` (default ``../shared/data/text``). Results:
``benchmarks/results/text/text_classification.{json,md}``. Needs ``hgzoo[text,dev]``.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # benchmarks/_report.py
from _report import PROVENANCE_KEYS, data_dir, result_path, write  # noqa: E402

DATA = data_dir("text")
AGNEWS_CLASSES = ["World", "Sports", "Business", "Sci/Tech"]
DATASETS = {
    "sst2": {"train": "sst2/train.tsv", "val": "sst2/dev.tsv", "test": "sst2/test.tsv", "classes": ["0", "1"],
             "max_length": 128, "finetune_length": 64},
    "agnews": {"train": "agnews/dev.tsv", "val": None, "test": "agnews/test.tsv", "classes": AGNEWS_CLASSES,
               "max_length": 256, "finetune_length": 128},
}
SIGMAS = (0.001, 0.01, 0.1)
SEEDS = (0, 1, 2)


def load(dataset):
    from hgzoo.text import read_tsv

    spec = DATASETS[dataset]
    train, test = (read_tsv(os.path.join(DATA, spec[k]), class_names=spec["classes"]) for k in ("train", "test"))
    val = read_tsv(os.path.join(DATA, spec["val"]), class_names=spec["classes"]) if spec["val"] else None
    return train, val, test


def extractor(dataset, cache_dir):
    from hgzoo.text import FeatureExtractor

    return FeatureExtractor(max_length=DATASETS[dataset]["max_length"], batch_size=64, cache_dir=cache_dir)


def scores(y_true, y_pred):
    from sklearn.metrics import accuracy_score, f1_score

    return {"accuracy": 100 * accuracy_score(y_true, y_pred), "macro_f1": 100 * f1_score(y_true, y_pred, average="macro")}


def run_extract(dataset, cache_dir):
    train, val, test = load(dataset)
    ex = extractor(dataset, cache_dir)
    for part in (train, val, test):
        if part is not None:
            stale = ex.cache_path(part.texts)
            if os.path.exists(stale):
                os.remove(stale)  # always measure the real extraction cost
            ex.extract(part.texts)
    return {"texts": sum(len(p) for p in (train, val, test) if p is not None)}


def run_tfidf(dataset, cache_dir):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    train, _, test = load(dataset)
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    clf = LogisticRegression(max_iter=2000).fit(vectorizer.fit_transform(train.texts), train.labels)
    return scores(test.labels, clf.predict(vectorizer.transform(test.texts)))


def run_last_layer(dataset, cache_dir):
    from sklearn.linear_model import LogisticRegression

    train, _, test = load(dataset)
    ex = extractor(dataset, cache_dir)
    clf = LogisticRegression(max_iter=2000).fit(ex.extract(train.texts, progress=False)[:, 0], train.labels)
    return scores(test.labels, clf.predict(ex.extract(test.texts, progress=False)[:, 0]))


def _fit_head(x, y, sigma, epochs, seed, val=None):
    import keras

    from hgzoo.text import LLMEmbed

    keras.utils.set_random_seed(seed)
    head = LLMEmbed(num_classes=int(y.max()) + 1, num_layers=x.shape[1], feature_dim=x.shape[2], sigma=sigma)
    history = head.fit(x, y, batch_size=1024, epochs=epochs, validation_data=val, verbose=0, shuffle=True)
    return head, history.history


def run_llmembed(dataset, cache_dir, max_epochs):
    train, val, test = load(dataset)
    ex = extractor(dataset, cache_dir)
    x, y = ex.extract(train.texts, progress=False), train.labels
    if val is not None:
        xv, yv = ex.extract(val.texts, progress=False), val.labels
        fit_x, fit_y = x, y
    else:  # hold out a seeded 10 % for choosing σ and epochs, then refit on everything
        order = np.random.default_rng(0).permutation(len(y))
        cut = len(y) // 10
        xv, yv, fit_x, fit_y = x[order[:cut]], y[order[:cut]], x[order[cut:]], y[order[cut:]]
    selection = {}
    for sigma in SIGMAS:
        _, history = _fit_head(fit_x, fit_y, sigma, max_epochs, seed=0, val=(xv, yv))
        accuracy = history["val_sparse_categorical_accuracy"]
        best = int(np.argmax(accuracy))
        selection[sigma] = {"epochs": best + 1, "val_accuracy": 100 * accuracy[best]}
    sigma = max(selection, key=lambda s: selection[s]["val_accuracy"])
    epochs = selection[sigma]["epochs"]
    xt = ex.extract(test.texts, progress=False)
    runs = []
    for seed in SEEDS:
        head, _ = _fit_head(x, y, sigma, epochs, seed)
        runs.append(scores(test.labels, head.predict(xt, verbose=0, batch_size=1024).argmax(-1)))
    result = {k: float(np.mean([r[k] for r in runs])) for k in ("accuracy", "macro_f1")}
    result["accuracy_std"] = float(np.std([r["accuracy"] for r in runs]))
    result["settings"] = {"sigma": sigma, "epochs": epochs, "selection": {str(k): v for k, v in selection.items()},
                          "per_seed_accuracy": [r["accuracy"] for r in runs], "parameters": head.count_params()}
    return result


def run_finetune(dataset, cache_dir, steps):
    import torch
    import transformers

    from hgzoo.text import resolve_backbone

    torch.manual_seed(0)
    train, _, test = load(dataset)
    folder = str(resolve_backbone("all-MiniLM-L6-v2"))
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    encoder = transformers.AutoModel.from_pretrained(folder)
    classifier = torch.nn.Linear(encoder.config.hidden_size, len(train.class_names))
    params = list(encoder.parameters()) + list(classifier.parameters())
    optimizer = torch.optim.AdamW(params, lr=5e-5)
    length = DATASETS[dataset]["finetune_length"]

    def logits(texts):
        batch = tokenizer(texts, truncation=True, max_length=length, padding=True, return_tensors="pt")
        hidden = encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return classifier((hidden * mask).sum(1) / mask.sum(1))

    order = np.random.default_rng(0).permutation(len(train))
    encoder.train()
    for step in range(steps):
        index = order[(step * 32) % len(order):][:32]
        loss = torch.nn.functional.cross_entropy(logits([train.texts[i] for i in index]),
                                                 torch.as_tensor(train.labels[index], dtype=torch.long))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    encoder.eval()
    predictions = []
    with torch.inference_mode():
        for start in range(0, len(test), 128):
            predictions.append(logits(test.texts[start:start + 128]).argmax(-1).numpy())
    result = scores(test.labels, np.concatenate(predictions))
    result["settings"] = {"steps": steps, "batch": 32, "examples_seen": steps * 32, "max_length": length}
    return result


METHODS = {
    "extract": ("MiniLM feature extraction (last 5 layers, all splits)", run_extract),
    "tfidf": ("TF-IDF 1-2-grams + logistic regression", run_tfidf),
    "last_layer": ("MiniLM last-layer mean + logistic regression", run_last_layer),
    "llmembed": ("LLMEmbed head (hgzoo) over MiniLM, last 5 layers", run_llmembed),
    "finetune": ("MiniLM fine-tuned end to end", run_finetune),
}


def previous_rows():
    """Rows of earlier runs, so one dataset or method can be rerun and the table keeps the others.

    Each kept row carries the provenance of the run that produced it.
    """
    path = result_path("text", "text_classification")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        previous = json.load(f)
    known = {m[0] for m in METHODS.values()}
    earlier = {k: previous[k] for k in PROVENANCE_KEYS if k in previous}
    return [{"provenance": earlier,
             **{k: v for k, v in r.items() if k not in ("accuracy %", "macro-F1 %", "CPU s", "peak MB")}}
            for r in previous["rows"] if r.get("dataset") in DATASETS and r.get("method") in known]


def child(args):
    """One method in this process; its costs are this process's own."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    extra = {"llmembed": (args.max_epochs,), "finetune": (args.finetune_steps,)}.get(args.method, ())
    wall = time.perf_counter()
    result = METHODS[args.method][1](args.dataset, args.cache_dir, *extra)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result.update(wall_s=time.perf_counter() - wall, cpu_s=usage.ru_utime + usage.ru_stime,
                  peak_mb=usage.ru_maxrss / 1024)
    with open(args.out, "w") as f:
        json.dump(result, f)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(DATASETS), action="append")
    parser.add_argument("--method", choices=sorted(METHODS), action="append")
    parser.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(), "hgzoo_text_benchmark"))
    parser.add_argument("--max-epochs", type=int, default=30, help="LLMEmbed epochs searched on validation data")
    parser.add_argument("--finetune-steps", type=int, default=300, help="fine-tuning budget in AdamW steps")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.dataset, args.method = args.dataset[0], args.method[0]
        return child(args)
    rows = previous_rows()
    for dataset in args.dataset or ["sst2", "agnews"]:
        for method in args.method or list(METHODS):
            out = os.path.join(args.cache_dir, f"result-{dataset}-{method}.json")
            os.makedirs(args.cache_dir, exist_ok=True)
            print(f"{dataset}: {METHODS[method][0]} ...", flush=True)
            subprocess.run([sys.executable, __file__, "--child", "--dataset", dataset, "--method", method,
                            "--out", out, "--cache-dir", args.cache_dir, "--max-epochs", str(args.max_epochs),
                            "--finetune-steps", str(args.finetune_steps)], check=True)
            with open(out) as f:
                result = json.load(f)
            print(json.dumps(result), flush=True)
            rows = [r for r in rows if (r["dataset"], r["method"]) != (dataset, METHODS[method][0])]
            rows.append({"dataset": dataset, "method": METHODS[method][0], **result})
    order = [(d, m[0]) for d in DATASETS for m in METHODS.values()]
    rows.sort(key=lambda r: order.index((r["dataset"], r["method"])))
    table_rows = [{**r, "accuracy %": _pm(r), "macro-F1 %": r.get("macro_f1", ""),
                   "CPU s": r["cpu_s"], "peak MB": r["peak_mb"]} for r in rows]
    notes = ("CPU s: user + system seconds of the method's own process (all threads); the feature-based rows "
             "exclude the one-off extraction, listed on its own row. LLMEmbed: mean ± std over three seeds; σ and "
             "epochs chosen on validation data. sst2: trained on 60,614 sentences of GLUE's training set (the "
             "other 6,735 are the validation data), tested on the 872-sentence GLUE dev set. agnews: trained on a "
             "10,001-item cut of the 120,000-item training set (not all of it), tested on the official 7,600-item "
             "test set.")
    print(write("text", "text_classification", table_rows,
                ["dataset", "method", "accuracy %", "macro-F1 %", "CPU s", "peak MB"], notes))


def _pm(row):
    if "accuracy" not in row:
        return ""
    text = f"{row['accuracy']:.2f}"
    return text + (f" ± {row['accuracy_std']:.2f}" if "accuracy_std" in row else "")


if __name__ == "__main__":
    main()
