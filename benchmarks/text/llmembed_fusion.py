"""LLMEmbed full fusion measured: SmolLM2-135M layer streams + all-mpnet-base-v2 + all-MiniLM-L6-v2 (issue #23).

The table of issue #23, one resumable unit per row: each unit runs in its
own process (so its CPU seconds and peak memory are its own) and is
appended to ``benchmarks/results/text/llmembed_fusion.json`` as soon as it
finishes; a rerun skips the units already there (``--rerun UNIT`` measures
one again). Features are cached on disk (``FeatureExtractor``'s cache,
``--cache-dir``), so every row reuses the extraction units' arrays, and each
row's total CPU seconds add the extraction units it reads to its own.

Units, cheapest first (``--list`` prints them):

- ``extract:<backbone>``: frozen features of every split (masked mean,
  right padding, max_length per dataset as the paper, batches sorted by
  length), with texts/s and positions/s for planning; SmolLM2 keeps the
  last five and five spread layers (one forward pass gives them all);
  ``extract:smollm2-padded`` is the official padding-included mean;
- ``tfidf``: TF-IDF 1-2-grams + logistic regression;
- ``lr:<backbone>``: last layer's masked mean, standardized, + logistic regression;
- ``llmembed:minilm``: the LLMEmbed head over MiniLM's last five layers
  (today's row), ``llmembed:smollm2`` over SmolLM2's last five (standardized
  inputs), ``llmembed:fusion`` SmolLM2's five streams + mpnet + MiniLM
  (standardized): σ of ``--sigmas`` and epochs (≤ ``--max-epochs``)
  chosen on validation data with seed 0, then mean ± std of three seeds;
- ``ablation:*``: the fusion with one change (LLM layers last 1 / spread 5,
  no Gram co-occurrence, each σ, the padding-included mean), at the
  fusion row's σ and epochs;
- ``finetune:<backbone>``: MiniLM / mpnet fine-tuned end to end (mean
  pooling + linear, AdamW, batch 32) until its CPU seconds reach the
  full fusion's total (extraction included), or ``--finetune-cpu``; a
  killed fine-tune resumes from its last checkpoint (every 300 CPU s).

Data: SST-2 trains on a seeded ``--train-size`` sample (2,000) of
``sst2/train.tsv``, chooses on a seeded ``--val-size`` sample of
``sst2/dev.tsv`` and tests on the 872 GLUE-dev sentences (``sst2/test.tsv``);
AG News trains on the 10,001-item cut ``agnews/dev.tsv`` (a seeded 10 % held
out for choosing, the other 9,001 for training unless ``--train-size`` says
fewer) and tests on the 7,600-item test set.
Every process runs torch and TensorFlow on ``--threads`` threads (default
1: on a busy 2-core machine two torch threads ran SmolLM2 8× slower).

    flock /work/heavy.lock timeout 15m python benchmarks/text/llmembed_fusion.py --dataset sst2
    python benchmarks/text/llmembed_fusion.py --dataset sst2 --unit llmembed:fusion   # one row
    python benchmarks/text/llmembed_fusion.py --render   # rewrite the table from the measured rows

Two instances with disjoint ``--unit`` lists may run side by side (one per
core): each re-reads the results file under a lock before adding its row.

Needs ``hgzoo[text,llm,dev]`` and ``hgzoo text install-backbones``.
"""

import argparse
import contextlib
import fcntl
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))  # benchmarks/_report.py
sys.path.insert(0, HERE)  # text_classification.py: the data files and the scores
from _report import PROVENANCE_KEYS, result_path, write  # noqa: E402
from text_classification import load, scores  # noqa: E402

NAME = "llmembed_fusion"
BACKBONES = {"minilm": "all-MiniLM-L6-v2", "mpnet": "all-mpnet-base-v2", "smollm2": "smollm2-135m"}
LAST5 = [-1, -2, -3, -4, -5]
SPREAD5 = [-1, -7, -13, -19, -25]  # layer_indices("spread5", 30): SmolLM2's layers 30, 24, 18, 12, 6
EXTRACTIONS = {  # unit -> backbone, hidden states kept, pooling
    "extract:minilm": ("minilm", LAST5, "mean"),
    "extract:mpnet": ("mpnet", LAST5, "mean"),
    "extract:smollm2": ("smollm2", LAST5 + SPREAD5[1:], "mean"),
    "extract:smollm2-padded": ("smollm2", LAST5 + SPREAD5[1:], "mean_unmasked"),
}
# head units: (label, extraction units read, LLM stream layers, encoders, standardize, co_occurrence)
HEADS = {
    "llmembed:minilm": ("LLMEmbed, MiniLM last 5 layers (no encoder streams)", ["extract:minilm"], LAST5, [], False,
                        True),
    "llmembed:smollm2": ("LLMEmbed, SmolLM2 last 5 layers only", ["extract:smollm2"], LAST5, [], True, True),
    "llmembed:fusion": ("LLMEmbed full fusion: SmolLM2 last 5 + mpnet + MiniLM",
                        ["extract:smollm2", "extract:mpnet", "extract:minilm"], LAST5, ["mpnet", "minilm"], True, True),
}
ABLATIONS = {  # the fusion with one change: (label, LLM extraction, layers, co_occurrence, σ grid)
    "ablation:last1": ("ablation: fusion, SmolLM2 last layer only", "extract:smollm2", [-1], True, None),
    "ablation:spread5": ("ablation: fusion, SmolLM2 5 layers spread over the depth", "extract:smollm2", SPREAD5, True,
                         None),
    "ablation:no-gram": ("ablation: fusion without the Gram co-occurrence (streams concatenated)", "extract:smollm2",
                         LAST5, False, None),
    "ablation:sigma": ("ablation: fusion, SigmE σ (test accuracy per σ, seed 0)", "extract:smollm2", LAST5, True,
                       (0.001, 0.01, 0.1, 1.0)),
    "ablation:padded": ("ablation: fusion, SmolLM2 padding-included mean (official)", "extract:smollm2-padded", LAST5,
                        True, None),
}
FINETUNES = {"finetune:minilm": "MiniLM fine-tuned end to end", "finetune:mpnet": "mpnet fine-tuned end to end"}
UNITS = (["extract:minilm", "tfidf", "lr:minilm", "extract:mpnet", "lr:mpnet", "extract:smollm2", "lr:smollm2",
          "llmembed:minilm", "llmembed:smollm2", "llmembed:fusion"] + [u for u in ABLATIONS if u != "ablation:padded"]
         + list(FINETUNES) + ["extract:smollm2-padded", "ablation:padded"])
LABELS = {"tfidf": "TF-IDF 1-2-grams + logistic regression",
          **{f"lr:{b}": f"{BACKBONES[b]} last layer + logistic regression" for b in BACKBONES},
          **{u: f"{BACKBONES[b]} feature extraction ({'padding-included' if p != 'mean' else 'masked'} mean)"
             for u, (b, _, p) in EXTRACTIONS.items()},
          **{u: h[0] for u, h in HEADS.items()}, **{u: a[0] for u, a in ABLATIONS.items()}, **FINETUNES}
FINETUNE_LENGTH = {"sst2": 64, "agnews": 128}
TRAIN_SIZE = {"sst2": 2000, "agnews": None}  # default training texts; None: all 9,001 of AG News' cut less val
# the official padding-included mean at AG News' 256 positions: 17,600 texts x 256 positions at ~390 positions/s
# on one core is about 3 CPU hours; SST-2 (2,000 training texts at 128) measures that ablation
NOT_RUN = {"agnews": ("extract:smollm2-padded", "ablation:padded")}
CHECKPOINT_CPU_S = 300  # a fine-tune saves its state this often (CPU seconds)
HEAD_BATCH = 128  # 2,000 training texts: 16 steps an epoch (the published 1024 would give two)


def depends(unit, args):
    """The units whose results ``unit`` reads."""
    if unit in HEADS:
        return HEADS[unit][1]
    if unit in ABLATIONS:
        return [ABLATIONS[unit][1], "extract:mpnet", "extract:minilm", "llmembed:fusion"]
    if unit.startswith("lr:"):
        return ["extract:" + unit.split(":")[1]]
    if unit in FINETUNES and not args.finetune_cpu:
        return ["llmembed:fusion"]
    return []


def work_dir():
    """Units' result files, the results lock and fine-tune checkpoints."""
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "hgzoo_llmembed_fusion")
    os.makedirs(path, exist_ok=True)
    return path


@contextlib.contextmanager
def results_lock():
    """Held while the results file is read and rewritten, so that instances side by side (and
    ``--render``) never overwrite each other's rows."""
    with open(os.path.join(work_dir(), "results.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def splits(dataset, train_size, val_size):
    """(texts, labels) of train, val and test, as the module docstring says."""
    train, val, test = load(dataset)
    rng = np.random.default_rng(0)
    if val is None:  # AG News: hold out a seeded 10 % of the training cut for choosing
        order = rng.permutation(len(train))
        cut = len(train) // 10
        val_index, train_index = np.sort(order[:cut]), order[cut:]
        val = ([train.texts[i] for i in val_index], train.labels[val_index])
    else:
        val_index = np.sort(np.random.default_rng(1).permutation(len(val))[:val_size])
        val = ([val.texts[i] for i in val_index], val.labels[val_index])
        train_index = rng.permutation(len(train))
    train_index = np.sort(train_index[:train_size or TRAIN_SIZE[dataset]])
    return {"train": ([train.texts[i] for i in train_index], train.labels[train_index]), "val": val,
            "test": (test.texts, test.labels)}


def extractor(unit, args):
    from hgzoo.text import PAPER_MAX_LENGTH, FeatureExtractor

    backbone, layers, pooling = EXTRACTIONS[unit]
    return FeatureExtractor(BACKBONES[backbone], layers=layers, pooling=pooling,
                            max_length=PAPER_MAX_LENGTH[args.dataset], batch_size=32, cache_dir=args.cache_dir,
                            threads=args.threads)


def features(unit, data, args):
    """{split: (N, L, D) array} of an extraction unit, from the cache."""
    ex = extractor(unit, args)
    return {name: ex.extract(texts, progress=False) for name, (texts, _) in data.items()}


def run_extract(unit, data, args, previous):
    ex = extractor(unit, args)
    counts = {"texts": 0, "tokens": 0, "positions": 0, "truncated": 0}
    wall, cpu = time.perf_counter(), cpu_seconds()  # from here: loading the backbone and running it
    for texts, _ in data.values():
        path = ex.cache_path(texts)
        if os.path.exists(path):
            os.remove(path)  # measure the real extraction, not a cache hit
        ex.extract(texts, progress=False)
        for key, value in (("texts", len(texts)), ("tokens", ex.last_tokens), ("positions", ex.last_positions),
                           ("truncated", ex.last_truncated)):
            counts[key] += value
    wall = time.perf_counter() - wall
    return {**counts, "extraction CPU s": cpu_seconds() - cpu, "texts/s": counts["texts"] / wall,
            "positions/s": counts["positions"] / wall,
            "settings": {"layers": ex.layers, "pooling": ex.pooling, "max_length": ex.max_length, "batch_size": 32}}


def run_tfidf(unit, data, args, previous):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    (texts, y), (test_texts, yt) = data["train"], data["test"]
    cpu = cpu_seconds()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    clf = LogisticRegression(max_iter=2000).fit(vectorizer.fit_transform(texts), y)
    return {**scores(yt, clf.predict(vectorizer.transform(test_texts))), "training CPU s": cpu_seconds() - cpu}


def run_lr(unit, data, args, previous):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    source = "extract:" + unit.split(":")[1]
    x = features(source, data, args)
    cpu = cpu_seconds()
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x["train"][:, 0], data["train"][1])
    return {**scores(data["test"][1], clf.predict(x["test"][:, 0])), "training CPU s": cpu_seconds() - cpu,
            "reads": [source]}


def head_inputs(x, extras, layers, source_layers):
    """The head's inputs: the chosen layers of the LLM streams, then each encoder's last layer."""
    index = [source_layers.index(i) for i in layers]
    streams = np.ascontiguousarray(x[:, index])
    return streams if not extras else [streams, *(np.ascontiguousarray(e[:, 0]) for e in extras)]


def fit_head(inputs, y, settings, seed, val=None, **head_kwargs):
    """A head trained on ``inputs``; ``head_kwargs`` go to LLMEmbed (``encoder``, ``class_names``, ...)."""
    import keras

    from hgzoo.text import LLMEmbed

    keras.utils.set_random_seed(seed)
    streams = inputs if not isinstance(inputs, list) else inputs[0]
    extra_dims = [] if not isinstance(inputs, list) else [e.shape[1] for e in inputs[1:]]
    head = LLMEmbed(int(y.max()) + 1, num_layers=streams.shape[1], feature_dim=streams.shape[2], extra_dims=extra_dims,
                    sigma=settings["sigma"], standardize=settings["standardize"],
                    co_occurrence=settings["co_occurrence"], **head_kwargs)
    if settings["standardize"]:
        head.adapt(inputs)
    history = head.fit(inputs, y, batch_size=HEAD_BATCH, epochs=settings["epochs"], validation_data=val, verbose=0,
                       shuffle=True)
    return head, history.history


def evaluate(inputs, data, settings, seeds):
    runs = [scores(data["test"][1], fit_head(inputs["train"], data["train"][1], settings, seed)[0].predict(
        inputs["test"], verbose=0, batch_size=1024).argmax(-1)) for seed in seeds]
    return {"accuracy": float(np.mean([r["accuracy"] for r in runs])),
            "accuracy_std": float(np.std([r["accuracy"] for r in runs])),
            "macro_f1": float(np.mean([r["macro_f1"] for r in runs])),
            "per_seed_accuracy": [r["accuracy"] for r in runs]}


def load_inputs(reads, layers, args, data):
    llm, *encoders = (features(u, data, args) for u in reads)
    source_layers = EXTRACTIONS[reads[0]][1]
    return {name: head_inputs(llm[name], [e[name] for e in encoders], layers, source_layers) for name in data}


def run_head(unit, data, args, previous):
    _, reads, layers, encoders, standardize, co_occurrence = HEADS[unit]
    inputs = load_inputs(reads, layers, args, data)
    cpu = cpu_seconds()
    selection = {}
    for sigma in args.sigmas:
        settings = {"sigma": sigma, "epochs": args.max_epochs, "standardize": standardize,
                    "co_occurrence": co_occurrence}
        accuracy = fit_head(inputs["train"], data["train"][1], settings, 0, (inputs["val"], data["val"][1]))[1][
            "val_sparse_categorical_accuracy"]
        selection[str(sigma)] = {"epochs": int(np.argmax(accuracy)) + 1, "val_accuracy": 100 * float(np.max(accuracy))}
    best = max(selection, key=lambda s: selection[s]["val_accuracy"])
    settings = {"sigma": float(best), "epochs": selection[best]["epochs"], "standardize": standardize,
                "co_occurrence": co_occurrence, "layers": layers, "encoders": encoders}
    result = evaluate(inputs, data, settings, args.seeds)
    return {**result, "training CPU s": cpu_seconds() - cpu, "reads": reads,
            "settings": {**settings, "selection": selection}}


def run_ablation(unit, data, args, previous):
    _, llm, layers, co_occurrence, sigmas = ABLATIONS[unit]
    fusion = previous.get("llmembed:fusion")
    if fusion is None:
        raise RuntimeError(f"{unit} uses the σ and epochs of llmembed:fusion: run that unit first")
    reads = [llm, "extract:mpnet", "extract:minilm"]
    inputs = load_inputs(reads, layers, args, data)
    settings = {**fusion["settings"], "layers": layers, "co_occurrence": co_occurrence}
    settings.pop("selection", None)
    cpu = cpu_seconds()
    if sigmas is None:
        result = evaluate(inputs, data, settings, args.seeds)
    else:
        per_sigma = {str(s): evaluate(inputs, data, {**settings, "sigma": s}, args.seeds[:1])["accuracy"]
                     for s in sigmas}
        best = max(per_sigma, key=per_sigma.get)
        result = {"accuracy": per_sigma[best], "test_accuracy_per_sigma": per_sigma}
        settings["sigma"] = f"best of {list(sigmas)}: {best}"
    return {**result, "training CPU s": cpu_seconds() - cpu, "reads": reads, "settings": settings}


def run_finetune(unit, data, args, previous):
    import torch
    import transformers

    from hgzoo.text import resolve_backbone

    backbone = unit.split(":")[1]
    budget = args.finetune_cpu or (previous.get("llmembed:fusion") or {}).get("total CPU s")
    if not budget:
        raise RuntimeError(f"{unit} trains for the full fusion's total CPU seconds: run llmembed:fusion first or "
                           "give --finetune-cpu")
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    folder = str(resolve_backbone(BACKBONES[backbone]))
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    encoder = transformers.AutoModel.from_pretrained(folder)
    (texts, y), (test_texts, yt) = data["train"], data["test"]
    classifier = torch.nn.Linear(encoder.config.hidden_size, int(y.max()) + 1)
    optimizer = torch.optim.AdamW(list(encoder.parameters()) + list(classifier.parameters()), lr=args.finetune_lr)
    length = FINETUNE_LENGTH[args.dataset]

    def logits(batch_texts):
        batch = tokenizer(batch_texts, truncation=True, max_length=length, padding=True, return_tensors="pt")
        hidden = encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return classifier((hidden * mask).sum(1) / mask.sum(1))

    rng, order, step, used = np.random.default_rng(0), np.array([], int), 0, 0.0
    # A killed fine-tune (an hour of CPU at AG News' budget) resumes from its last checkpoint; its CPU
    # seconds so far count against the budget. Dropout's random state is not restored.
    key = {"budget": budget, "lr": args.finetune_lr, "max_length": length, "train_texts": len(texts)}
    state_path = os.path.join(work_dir(), f"{args.dataset}-{unit.replace(':', '-')}.state.pt")
    if os.path.exists(state_path):
        saved = torch.load(state_path, weights_only=False)
        if saved["key"] == key:
            for part, name in ((encoder, "encoder"), (classifier, "classifier"), (optimizer, "optimizer")):
                part.load_state_dict(saved[name])
            order, step, used, rng.bit_generator.state = saved["order"], saved["step"], saved["used"], saved["rng"]
            print(f"{unit}: resumed at step {step}, {used:.0f} of {budget:.0f} CPU s used", flush=True)

    def checkpoint():
        torch.save({"key": key, "encoder": encoder.state_dict(), "classifier": classifier.state_dict(),
                    "optimizer": optimizer.state_dict(), "order": order, "step": step,
                    "used": used + cpu_seconds() - start, "rng": rng.bit_generator.state}, state_path + ".tmp")
        os.replace(state_path + ".tmp", state_path)

    start = saved_at = cpu_seconds()
    encoder.train()
    while used + cpu_seconds() - start < budget:  # the full fusion's CPU seconds, extraction included
        if len(order) < 32:
            order = np.concatenate([order, rng.permutation(len(texts))])
        index, order = order[:32], order[32:]
        loss = torch.nn.functional.cross_entropy(logits([texts[i] for i in index]),
                                                 torch.as_tensor(y[index], dtype=torch.long))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
        if cpu_seconds() - saved_at > CHECKPOINT_CPU_S:
            checkpoint()
            saved_at = cpu_seconds()
    training = used + cpu_seconds() - start
    encoder.eval()
    with torch.inference_mode():
        predicted = np.concatenate([logits(test_texts[i:i + 128]).argmax(-1).numpy()
                                    for i in range(0, len(test_texts), 128)])
    if os.path.exists(state_path):
        os.remove(state_path)
    return {**scores(yt, predicted), "training CPU s": training,
            "settings": {"steps": step, "batch": 32, "epochs": step * 32 / len(texts), "lr": args.finetune_lr,
                         "max_length": length, "cpu_budget_s": budget}}


def runner(unit):
    if unit in EXTRACTIONS:
        return run_extract
    if unit in HEADS:
        return run_head
    if unit in ABLATIONS:
        return run_ablation
    return {"tfidf": run_tfidf, "finetune": run_finetune, "lr": run_lr}[unit.split(":")[0]]


def child(args):
    """One unit in this process: its CPU seconds and peak memory are its own."""
    previous = {r["unit"]: r for r in previous_rows(args.dataset)}
    data = splits(args.dataset, args.train_size, args.val_size)
    wall = time.perf_counter()
    result = runner(args.unit)(args.unit, data, args, previous)
    result.update(train_texts=len(data["train"][0]), wall_s=time.perf_counter() - wall, process_cpu_s=cpu_seconds(),
                  peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    with open(args.out, "w") as f:
        json.dump(result, f)


def previous_rows(dataset=None):
    """Rows already measured, each with the provenance of the run that produced it."""
    path = result_path("text", NAME)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        previous = json.load(f)
    earlier = {k: previous[k] for k in PROVENANCE_KEYS if k in previous}
    rows = [{"provenance": earlier, **r} if "provenance" not in r else r for r in previous["rows"]]
    return [r for r in rows if dataset is None or r["dataset"] == dataset]


def finish(unit, result, done):
    """The table row of a unit: its CPU seconds plus those of the extraction units it reads."""
    reads = result.get("reads", [])
    extraction = sum(done[u]["extraction CPU s"] for u in reads)
    own = result.get("training CPU s", result.get("extraction CPU s", result["process_cpu_s"]))
    return {"unit": unit, "method": LABELS[unit], **result,
            "extraction CPU s": result.get("extraction CPU s", extraction),
            "training CPU s": result.get("training CPU s", own if unit not in EXTRACTIONS else ""),
            "total CPU s": (extraction + own) if unit not in EXTRACTIONS else result["extraction CPU s"]}


def report(rows, args):
    order = {u: i for i, u in enumerate(UNITS)}
    rows = sorted(rows, key=lambda r: (r["dataset"] != "sst2", order.get(r["unit"], len(order))))
    table = [{**r, "accuracy %": ("" if "accuracy" not in r else f"{r['accuracy']:.2f}" + (
        f" ± {r['accuracy_std']:.2f}" if "accuracy_std" in r else "")), "macro-F1 %": r.get("macro_f1", ""),
              "texts/s": r.get("texts/s", ""), "peak MB": r["peak_mb"]} for r in rows]
    measured = {(r["dataset"], r["unit"]) for r in rows}
    missing = {d: [u for u in UNITS if (d, u) not in measured and u not in NOT_RUN.get(d, ())]
               for d in ("sst2", "agnews")}
    notes = ("SST-2: trained on a seeded sample of sst2/train.tsv (size in each row's train_texts), σ and epochs "
             "chosen on a seeded sample of sst2/dev.tsv, tested on all 872 GLUE-dev sentences. AG News: trained on "
             "the 10,001-item cut of its training set less a seeded 10 % for choosing (9,001 texts), tested on the "
             "7,600-item test set; its padding-included ablation is not run (about 3 CPU hours at 256 positions), "
             "SST-2 measures it. Features: masked means (right padding, batches sorted by length) unless the row says "
             "padding-included; max_length 128 (SST-2) / 256 (AG News) as the paper; "
             f"{args.threads} torch and TensorFlow thread(s) per process. CPU s: user + system of the unit's own work (imports excluded; extraction "
             "includes loading the backbone); total CPU s adds the extraction units a row reads (all splits) to its "
             "training. LLMEmbed rows: σ and epochs chosen on validation "
             "data, mean ± std over three seeds; ablations reuse the full fusion's σ and epochs. Fine-tunes train "
             "until their CPU seconds reach the full fusion's total, on texts truncated at "
             f"{FINETUNE_LENGTH['sst2']} (SST-2) / {FINETUNE_LENGTH['agnews']} (AG News) tokens (shorter sequences give "
             "more steps in the budget). Peak MB: the unit's process. Not yet measured: "
             + "; ".join(f"{d}: {', '.join(m) if m else 'none'}" for d, m in missing.items()) + ".")
    return write("text", NAME, table, ["dataset", "method", "accuracy %", "macro-F1 %", "extraction CPU s",
                                       "training CPU s", "total CPU s", "texts/s", "peak MB"], notes)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=["sst2", "agnews"], default="sst2")
    parser.add_argument("--unit", action="append", choices=UNITS, help="units to run (default: all not yet measured)")
    parser.add_argument("--rerun", action="store_true", help="measure the --unit units again")
    parser.add_argument("--list", action="store_true", help="print the units and whether each is measured")
    parser.add_argument("--render", action="store_true",
                        help="rewrite the table files from the measured rows (notes, order), measuring nothing")
    parser.add_argument("--train-size", type=int,
                        help="training texts (default: 2,000 for SST-2, all 9,001 for AG News)")
    parser.add_argument("--val-size", type=int, default=500)
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--sigmas", type=float, nargs="+", default=[0.001, 0.01, 0.1])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1, help="torch and TensorFlow threads per process")
    parser.add_argument("--finetune-cpu", type=float, help="fine-tuning CPU seconds (default: the full fusion's total)")
    parser.add_argument("--finetune-lr", type=float, default=5e-5)
    parser.add_argument("--cache-dir", help="feature cache (default: $HGZOO_HOME/text_features)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.unit = args.unit[0]
        return child(args)
    rows = previous_rows()
    done = {r["unit"]: r for r in rows if r["dataset"] == args.dataset}
    if args.list:
        for unit in UNITS:
            print(f"{unit:24s} {'measured' if unit in done else '-'}")
        return
    if args.render:
        with results_lock():
            print(report(previous_rows(), args))
        return
    units = [u for u in UNITS if u in (args.unit or UNITS) and (u not in done or args.rerun)
             and u not in NOT_RUN.get(args.dataset, ())]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "TF_NUM_INTRAOP_THREADS": str(args.threads),
           "TF_NUM_INTEROP_THREADS": str(args.threads), "TF_CPP_MIN_LOG_LEVEL": "3", "HF_HUB_OFFLINE": "1"}
    work = work_dir()
    forwarded = ["--dataset", args.dataset, "--val-size", str(args.val_size),
                 "--max-epochs", str(args.max_epochs), "--threads", str(args.threads), "--finetune-lr",
                 str(args.finetune_lr), "--sigmas", *map(str, args.sigmas), "--seeds", *map(str, args.seeds)]
    forwarded += ["--cache-dir", args.cache_dir] if args.cache_dir else []
    forwarded += ["--train-size", str(args.train_size)] if args.train_size else []
    forwarded += ["--finetune-cpu", str(args.finetune_cpu)] if args.finetune_cpu else []
    for unit in units:
        done = {r["unit"]: r for r in previous_rows(args.dataset)}  # another instance may have added rows
        missing = [u for u in depends(unit, args) if u not in done]
        if missing:
            print(f"{unit}: skipped, it reads {missing}, not measured yet", flush=True)
            continue
        print(f"{args.dataset} {unit} ...", flush=True)
        out = os.path.join(work, f"{args.dataset}-{unit.replace(':', '-')}.json")
        subprocess.run([sys.executable, __file__, "--child", "--unit", unit, "--out", out, *forwarded], check=True,
                       env=env)
        with open(out) as f:
            result = json.load(f)
        row = {"dataset": args.dataset, **finish(unit, result, done)}
        print(json.dumps({k: v for k, v in row.items() if k != "settings"}), flush=True)
        with results_lock():  # another instance may have added rows since
            rows = [r for r in previous_rows() if (r["dataset"], r["unit"]) != (args.dataset, unit)] + [row]
            print(report(rows, args), flush=True)


if __name__ == "__main__":
    main()
