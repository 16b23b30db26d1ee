"""One few-shot table: SoSN, SalNet, MlSo, SM and SM + CrossTransformer, each with and without ARL, and ablations.

Every row trains for the same fixed wall-clock budget (``--budget`` seconds of
training, default 75, on this machine's CPU) on Omniglot's background
characters minus 42 held-out ones (with 90° rotations as new classes; 10-way
1-shot episodes, 3 queries per class, Adam 1e-3 constant), then is measured on
Lake et al.'s 20 official runs (20-way 1-shot), on 600 held-out 5-way 1-shot
and 600 5-way 5-shot episodes (5 queries per class, mean ± 95% CI; the same
episodes for every row) and records its wall time, training episodes and
parameters. ``--dataset cifar10`` gives the CIFAR-10 class-split proxy of
``fewshot_cifar.py`` (5 training classes, so 5-way training episodes; 5 unseen
test classes) instead.

Each (row, dataset) is one resumable unit: its training resumes after a kill
(``fit_resumable`` in ``runs/fewshot_table/<dataset>/<row>``), and a finished
row is appended to the results JSON, so running the same command again
continues with the first row not yet measured.

    python benchmarks/fewshot/fewshot_table.py tune             # SM settings, chosen on held-out characters
    python benchmarks/fewshot/fewshot_table.py run              # every row, main rows first (resumes)
    python benchmarks/fewshot/fewshot_table.py run --rows sosn arl_sosn --dataset cifar10
    python benchmarks/fewshot/fewshot_table.py run --rows sosn --again   # forget and re-measure rows
    python benchmarks/fewshot/fewshot_table.py missing          # the rows not measured yet
    python benchmarks/fewshot/fewshot_table.py render           # rewrite the table files from the rows

Results: ``benchmarks/results/fewshot/fewshot_table[_cifar10].{json,md}`` and
``fewshot_sm_settings.{json,md}``.
"""

import argparse
import json
import os
import pathlib
import shutil
import sys
import time

import keras

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # benchmarks/_report.py
from _report import RESULTS, data_dir, provenance, write  # noqa: E402

import hgzoo  # noqa: E402
from hgzoo.fewshot import EpisodeSampler, evaluate_episodes, omniglot  # noqa: E402
from hgzoo.fewshot.class_embeddings import alphabet_embeddings, sentence_embeddings  # noqa: E402
from hgzoo.fewshot.data.class_id_episodes import PseudoClassSampler  # noqa: E402
from hgzoo.files import replace_atomically  # noqa: E402
from hgzoo.training import fit_resumable  # noqa: E402

HELD_OUT, SPLIT_SEED, EVAL_SEED, SELECTION_SEED = 42, 1, 2024, 99  # as fewshot_omniglot.py; selection apart
EPOCH_STEPS = 10  # the budget is checked after every 10 training episodes
# episodes per evaluation batch: 30 at 5-way 5-shot made MlSo's relation maps (15000, 62, 62, 64) run out of memory
EVAL_BATCH = {"mlso": 2, "salnet": 5}
RUNS = "runs/fewshot_table"

# name: (architecture, its config, ARL settings or None, group). Main rows first, then the ablations.
ROWS = {
    "sosn": ("sosn", {}, None, "main"),
    "arl_sosn": ("sosn", {}, {}, "main"),
    "sm": ("spatial_matching", {}, None, "main"),
    "sm_ct": ("spatial_matching", {"aligner": "cross_transformer"}, None, "main"),
    "mlso": ("mlso", {}, None, "main"),
    "salnet": ("salnet", {}, None, "main"),
    "arl_sm": ("spatial_matching", {}, {}, "main"),
    "arl_mlso": ("mlso", {}, {}, "main"),
    "arl_sm_ct": ("spatial_matching", {"aligner": "cross_transformer"}, {}, "main"),
    # SalNet fuses two encoders, so ARL has no one feature layer for its absolute heads: relative part only
    "arl_salnet": ("salnet", {}, {"absolute_weight": 0.0}, "main"),
    "mlso_one_level_one_scale": ("mlso", {"levels": [4], "scales": [1.0]}, None, "ablation"),
    "mlso_no_feature_matching": ("mlso", {"matching": "mean"}, None, "ablation"),
    "mlso_no_discriminator": ("mlso", {"discriminator_weight": 0.0}, None, "ablation"),
    "sm_no_weighting": ("spatial_matching", {"weighting": False}, None, "ablation"),
    "arl_sosn_relative_only": ("sosn", {}, {"absolute_weight": 0.0}, "ablation"),
    "arl_sosn_absolute_only": ("sosn", {}, {"relative_weight": 0.0}, "ablation"),
    "arl_sosn_unsupervised": ("sosn", {}, {"unsupervised": True}, "ablation"),
}

# SM settings tried by ``tune`` on held-out characters only; the SM and SM + CT rows take the best one
# (``chosen_sm_settings``), so the 20 runs and the table's episodes choose nothing.
TRIALS = [
    ("spatial_matching", {}, "mse"),
    ("spatial_matching", {}, "cross_entropy"),
    ("spatial_matching", {"discriminator_weight": 0.01}, "cross_entropy"),
]


class Omniglot:
    """Training characters (+ rotations), held-out characters, the 20 runs; 28×28 grey models."""

    name, config = "omniglot", {"image_size": [28, 28], "channels": 1}
    episode = (10, 1, 3)  # training episodes: N-way, K-shot, queries per class

    def __init__(self):
        folder = data_dir("omniglot")
        background = omniglot.load_background(os.path.join(folder, "images_background_small1.zip"),
                                              os.path.join(folder, "images_background_small2.zip"))
        train, self.test = background.split([background.num_classes - HELD_OUT, HELD_OUT], seed=SPLIT_SEED)
        self.train = train.with_rotations((0, 90, 180, 270))
        self.runs = omniglot.load_runs(os.path.join(folder, "all_runs.zip"))

    def embeddings(self):
        return alphabet_embeddings(self.train.names)  # characters of one alphabet: cosine 0.5


class Cifar10:
    """fewshot_cifar.py's split: 5 training classes (train images), 5 unseen test classes (test images)."""

    name, config = "cifar10", {"image_size": [32, 32], "channels": 3, "mean": 0.5, "std": 0.25}
    episode = (5, 1, 3)  # five training classes: every training episode is 5-way
    runs = None

    def __init__(self):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from fewshot_cifar import load

        self.train, self.test = load()

    def embeddings(self):
        return sentence_embeddings([n.split("/")[-1] for n in self.train.names])  # MiniLM, the class names


DATASETS = {"omniglot": Omniglot, "cifar10": Cifar10}


class TimeBudget(keras.callbacks.Callback):
    """Stops training once ``seconds`` of it have passed, counting those before a resume (``seconds.json``)."""

    def __init__(self, seconds, path):
        super().__init__()
        self.seconds, self.path = seconds, path
        self.spent = json.loads(pathlib.Path(path).read_text())["seconds"] if os.path.exists(path) else 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.spent += time.perf_counter() - self.start
        state = json.dumps({"seconds": self.spent, "episodes": (epoch + 1) * EPOCH_STEPS})
        replace_atomically(self.path, lambda tmp: pathlib.Path(tmp).write_text(state))
        self.model.stop_training = self.spent >= self.seconds


def chosen_sm_settings():
    """(config, loss) of the best ``tune`` trial on held-out characters; the class defaults before any tuning."""
    path = os.path.join(RESULTS, "fewshot", "fewshot_sm_settings.json")
    if not os.path.exists(path):
        return {}, None
    best = max(json.loads(pathlib.Path(path).read_text())["rows"],
               key=lambda r: float(r["heldout_5way_1shot"].split()[0]))
    return json.loads(best["settings"]), best["loss"]


def build(data, arch, config, arl, loss=None):
    """(compiled model, training episodes) for one row."""
    keras.utils.set_random_seed(0)  # the same initial weights for a row whenever it runs
    base = hgzoo.create_model(arch, **data.config, **config)
    sampler_args = (data.train, *data.episode)
    if arl is None:
        model, sampler = base, EpisodeSampler(*sampler_args, seed=0)
    elif arl.get("unsupervised"):
        model = hgzoo.fewshot.ARL(base, num_classes=len(data.train))
        sampler = PseudoClassSampler(*sampler_args, seed=0)
    else:
        model = hgzoo.fewshot.ARL(base, class_embeddings=data.embeddings(), **arl)
        sampler = EpisodeSampler(*sampler_args, seed=0, class_ids=True)
    optimizer = keras.optimizers.Adam(1e-3)
    if isinstance(getattr(model, "base", model), hgzoo.fewshot.SalNet):  # SalNet, or ARL around it
        from hgzoo.fewshot.clipping import ModuleClippedAdam

        optimizer = ModuleClippedAdam(1e-3)  # SalNet's own per-network clipping (no TriR teacher)
    model.compile(optimizer=optimizer, **({"loss": loss} if loss else {}))
    return model, sampler


def train(model, sampler, out, budget):
    """Train within ``budget`` seconds (resumable); returns (seconds, episodes) spent."""
    state = os.path.join(out, "seconds.json")
    done = os.path.exists(state) and json.loads(pathlib.Path(state).read_text())["seconds"] >= budget
    if done and not os.path.exists(os.path.join(out, "backup")):
        model.load_weights(os.path.join(out, "last.weights.h5"))  # trained; killed before its row was written
    else:
        keras.utils.set_random_seed(0)
        fit_resumable(model, sampler.dataset(), out, epochs=10_000, steps_per_epoch=EPOCH_STEPS,
                      callbacks=[TimeBudget(budget, state)], verbose=0)
    spent = json.loads(pathlib.Path(state).read_text())
    return spent["seconds"], spent["episodes"]


def measure(model, data, episodes=600, seed=EVAL_SEED, shots=(1, 5), batch=30):
    """Accuracy (%) ± 95% CI on the 20 runs (when the dataset has them) and held-out 5-way K-shot episodes."""
    result = {}
    if data.runs is not None:
        result["runs_20way_1shot"] = evaluate_episodes(model, data.runs, verbose=0)
    for k in shots:
        sampler = EpisodeSampler(data.test, 5, k, 5, seed=seed)
        result[f"5way_{k}shot"] = evaluate_episodes(model, sampler.dataset(episodes=episodes, batch_size=batch),
                                                    verbose=0)
    return {key: (round(100 * r["accuracy"], 2), round(100 * r["ci95"], 2)) for key, r in result.items()}


def result_name(dataset):
    return "fewshot_table" if dataset == "omniglot" else f"fewshot_table_{dataset}"


def measured_rows(dataset):
    path = os.path.join(RESULTS, "fewshot", f"{result_name(dataset)}.json")
    return json.loads(pathlib.Path(path).read_text())["rows"] if os.path.exists(path) else []


def missing_rows(dataset, rows):
    """Rows of ``ROWS`` not in ``rows``; the ablations belong to the Omniglot table only."""
    done = {r["row"] for r in rows}
    return [name for name in ROWS if name not in done and (dataset == "omniglot" or ROWS[name][3] == "main")]


def write_table(dataset, rows, budget):
    rows = sorted(rows, key=lambda r: list(ROWS).index(r["row"]))  # main rows, then ablations, as ROWS
    missing = missing_rows(dataset, rows)
    columns = ["row", "group", "model", "runs_20way_1shot", "heldout_5way_1shot", "heldout_5way_5shot",
               "train_episodes", "train_seconds", "eval_seconds", "parameters"]
    if dataset != "omniglot":
        columns.remove("runs_20way_1shot")
    n_way, k_shot, queries = DATASETS[dataset].episode
    notes = (f"Every row: {budget} s of training on this CPU ({n_way}-way {k_shot}-shot episodes, {queries} queries "
             "per class, Adam "
             "1e-3 constant, seed 0; train_episodes says how many that was), then the same evaluation episodes: "
             "accuracy % ± 95% CI; held-out: 600 episodes of 5 queries per class"
             + ("; 20 runs: Lake et al.'s 20-way 1-shot runs (400 queries)." if dataset == "omniglot" else ".")
             + " ARL rows: soft targets from "
             + ("the alphabet structure" if dataset == "omniglot" else "MiniLM embeddings of the class names")
             + ", relative weight 0.5, absolute heads 0.1, unless the row says otherwise. Rows are measured one"
               " at a time on an otherwise idle machine (the budget is wall-clock: a busy machine gives fewer"
               " episodes, as train_episodes shows; `run --again` re-measures a row); each row records its commit. "
             + f"Rows measured by `python benchmarks/fewshot/fewshot_table.py run --dataset {dataset}` (a `render` "
               "header means the files were rewritten from those rows, not re-measured). "
             + ("" if dataset == "omniglot" else "The ablations are measured on Omniglot only. ")
             + (f"Not measured yet: {', '.join(missing)}." if missing else "All rows measured."))
    write("fewshot", result_name(dataset), rows, columns, notes=notes)


def run(dataset, names, budget, again=False):
    """Measure ``names`` in order, skipping measured rows; ``again`` first forgets their results and runs."""
    data = DATASETS[dataset]()
    rows = measured_rows(dataset)
    if again:
        rows = [r for r in rows if r["row"] not in names]
        for name in names:
            shutil.rmtree(os.path.join(RUNS, dataset, name), ignore_errors=True)
    for name in names:
        if any(r["row"] == name for r in rows):
            continue
        arch, config, arl, group = ROWS[name]
        loss = None
        if arch == "spatial_matching":
            tuned, loss = chosen_sm_settings()
            config = {**tuned, **config}
        model, sampler = build(data, arch, config, arl, loss=loss)
        out = os.path.join(RUNS, dataset, name)
        seconds, episodes = train(model, sampler, out, budget)
        start = time.perf_counter()
        scores = measure(model, data, batch=EVAL_BATCH.get(arch, 30))
        label = type(model.base if arl is not None else model).__name__
        if config.get("aligner") == "cross_transformer":
            label += " + CrossTransformer"
        row = {"row": name, "group": group, "model": ("ARL + " if arl is not None else "") + label,
               "config": config, "loss": loss or model.default_loss, "arl": arl, "train_episodes": episodes, "train_seconds": round(seconds, 1),
               "eval_seconds": round(time.perf_counter() - start, 1), "parameters": model.count_params(),
               "commit": provenance()["commit"]}
        for key, (accuracy, ci) in scores.items():
            row[key if key.startswith("runs") else f"heldout_{key}"] = f"{accuracy:.2f} ± {ci:.2f}"
        rows.append(row)
        write_table(dataset, rows, budget)
        print(json.dumps(row), flush=True)


def tune(budget, episodes):
    """SM settings chosen on held-out background characters (5-way 1-shot, seed apart from the table's)."""
    data = Omniglot()
    rows = []
    for arch, config, loss in TRIALS:
        keras.utils.set_random_seed(0)
        model, sampler = build(data, arch, config, None, loss=loss)
        name = "_".join([arch, loss, *(f"{k}{v:g}" for k, v in config.items())])
        seconds, trained = train(model, sampler, os.path.join(RUNS, "tune", name), budget)
        (accuracy, ci), = measure(model, Heldout(data), episodes=episodes, seed=SELECTION_SEED, shots=(1,)).values()
        rows.append({"model": arch, "loss": loss, "settings": json.dumps(config), "train_episodes": trained,
                     "train_seconds": round(seconds, 1), "heldout_5way_1shot": f"{accuracy:.2f} ± {ci:.2f}"})
        print(rows[-1], flush=True)
    write("fewshot", "fewshot_sm_settings", rows, list(rows[0]),
          notes=f"Each setting trained {budget} s (10-way 1-shot, Adam 1e-3), scored on {episodes} 5-way 1-shot "
                f"episodes of the {HELD_OUT} held-out background characters (seed {SELECTION_SEED}, not the "
                "table's episodes); the 20 runs chose nothing. The table's SM and SM + CrossTransformer rows use the best.")


class Heldout:
    """A dataset view without the 20 runs: selection reads held-out characters only."""

    def __init__(self, data):
        self.test, self.runs = data.test, None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="measure rows not measured yet, in order")
    r.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS))
    r.add_argument("--dataset", choices=list(DATASETS), default="omniglot")
    r.add_argument("--budget", type=float, default=75.0, help="training seconds per row (default 75)")
    r.add_argument("--again", action="store_true",
                   help="re-measure --rows from scratch (e.g. after a fix, or on a machine that was busy)")
    t = sub.add_parser("tune", help="choose SM's loss and discriminator weight on held-out characters")
    t.add_argument("--budget", type=float, default=40.0)
    t.add_argument("--episodes", type=int, default=200)
    m = sub.add_parser("missing", help="print the rows not measured yet")
    m.add_argument("--dataset", choices=list(DATASETS), default="omniglot")
    w = sub.add_parser("render", help="rewrite the table files from the measured rows (order, notes), measuring nothing")
    w.add_argument("--dataset", choices=list(DATASETS), default="omniglot")
    w.add_argument("--budget", type=float, default=75.0, help="the budget the rows were measured with")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.dataset, args.rows, args.budget, args.again)
    elif args.command == "render":
        write_table(args.dataset, measured_rows(args.dataset), args.budget)
    elif args.command == "tune":
        tune(args.budget, args.episodes)
    else:
        print("\n".join(missing_rows(args.dataset, measured_rows(args.dataset))))


if __name__ == "__main__":
    main()
