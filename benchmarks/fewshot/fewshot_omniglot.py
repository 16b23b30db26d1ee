"""SoSN on real Omniglot: train, evaluate on the 20 official runs, compare power normalisations.

Data (not in this repo): ``images_background_small{1,2}.zip`` and ``all_runs.zip``
from brendenlake/omniglot, found in ``$HGZOO_TEST_DATA/omniglot`` (default
``../shared/data/omniglot``).

    # sosn_omniglot v3 (the packaged preset): v2 fine-tuned with half its episodes within one alphabet and
    # rotation (like the 20 runs' tasks), the checkpoint best on v2's 100 held-out 20-way episodes
    python benchmarks/fewshot/fewshot_omniglot.py train --out runs/sosn_omniglot_v3 --epochs 3 --steps 200 \
        --lr 3e-4 --init-weights weights/files/sosn_omniglot.v2.weights.h5 --select-episodes 100 --augment \
        --within-alphabet 0.5
    python benchmarks/fewshot/fewshot_omniglot.py publish --run runs/sosn_omniglot_v3 --version 3
    # v2: v1's recipe from scratch on random affine views, the checkpoint best on 100 held-out 20-way
    # episodes (4,000 queries); resumes after a kill
    python benchmarks/fewshot/fewshot_omniglot.py train --out runs/sosn_omniglot_v2scratch --epochs 30 \
        --select-episodes 100 --augment
    # a run becomes the next version only if its checkpoint beats the previous version on those episodes
    python benchmarks/fewshot/fewshot_omniglot.py publish --run runs/sosn_omniglot_v2scratch --version 2
    # score any weights file on the held-out selection episodes alone
    python benchmarks/fewshot/fewshot_omniglot.py selection-score --weights weights/files/sosn_omniglot.v1.weights.h5
    # v1: 30 epochs, no augmentation, last weights (published before the held-out gate existed)
    python benchmarks/fewshot/fewshot_omniglot.py train --out runs/sosn_omniglot --epochs 30
    python benchmarks/fewshot/fewshot_omniglot.py publish --run runs/sosn_omniglot
    # two fine-tunes of v1 tried before v2, selection on 30 held-out episodes; neither published (the README's
    # few-shot section has their numbers)
    python benchmarks/fewshot/fewshot_omniglot.py train --out runs/sosn_omniglot_v2 --epochs 4 --n-way 20 \
        --queries 1 --lr 3e-4 --init-weights weights/files/sosn_omniglot.v1.weights.h5 --select-episodes 30 --steps 60
    python benchmarks/fewshot/fewshot_omniglot.py train --out runs/sosn_omniglot_v2aug --epochs 10 --steps 100 \
        --lr 3e-4 --init-weights weights/files/sosn_omniglot.v1.weights.h5 --select-episodes 30 --augment
    # evaluate weights: 20 runs (20-way 1-shot), 5-way 1/5-shot on held-out characters
    python benchmarks/fewshot/fewshot_omniglot.py evaluate --weights runs/sosn_omniglot/last.weights.h5
    # power-normalisation table, every variant with the same short budget
    python benchmarks/fewshot/fewshot_omniglot.py table --steps 150

``table`` writes ``benchmarks/results/fewshot/fewshot_omniglot_power_norms.{json,md}``.
"""

import argparse
import json
import os
import sys
import time

import keras
import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # benchmarks/_report.py
from _report import data_dir, write  # noqa: E402

import hgzoo  # noqa: E402
from hgzoo.fewshot import EpisodeSampler, evaluate_episodes, omniglot  # noqa: E402
from hgzoo.training import fit_resumable  # noqa: E402

HELD_OUT = 42  # background characters kept out of training for the 5-way evaluation
SPLIT_SEED = 1  # the SoSN code shuffles Omniglot's characters with seed 1
SELECTION_SEED, SELECTION_QUERIES = 7, 2  # held-out checkpoint selection: fixed episodes, queries per class
AUGMENT = {"degrees": 10, "zoom": 0.15, "shift": 0.04}  # --augment: ±10°, ±15% scale, ±4% (4 px) shift
PRESET_CONFIG = {"image_size": [28, 28], "channels": 1, "power_norm": "sigme", "strength": 100.0}


def omniglot_dir():
    return data_dir("omniglot")


def pools():
    """(training classes with 90° rotations as new classes, held-out characters)."""
    folder = omniglot_dir()
    background = omniglot.load_background(os.path.join(folder, "images_background_small1.zip"),
                                          os.path.join(folder, "images_background_small2.zip"))
    train, held_out = background.split([background.num_classes - HELD_OUT, HELD_OUT], seed=SPLIT_SEED)
    return train.with_rotations((0, 90, 180, 270)), held_out


class RunsAccuracy(keras.callbacks.Callback):
    """Accuracy on the 20 official runs every ``every`` epochs: a learning curve, not model selection."""

    def __init__(self, runs, every=5):
        super().__init__()
        self.runs, self.every = runs, every

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        result = evaluate_episodes(self.model, self.runs, verbose=0)
        if logs is not None:
            logs["runs_accuracy"] = result["accuracy"]
        print(f"  epoch {epoch + 1}: 20-run accuracy {100 * result['accuracy']:.2f}%", flush=True)


def selection_episodes(episodes, seed=SELECTION_SEED):
    """The fixed held-out episodes that choose the checkpoint: 20-way 1-shot like the 20 runs."""
    _, held_out = pools()
    return EpisodeSampler(held_out, 20, 1, SELECTION_QUERIES, seed=seed).dataset(episodes=episodes)


class HeldOutSelection(keras.callbacks.Callback):
    """Keeps ``selected.weights.h5``: the weights best on held-out 20-way 1-shot episodes.

    The starting weights are scored before the first epoch, so fine-tuning that never helps on
    held-out characters selects them. Scores go to ``selection.json`` (read back on a resume).
    """

    def __init__(self, out_dir, episodes):
        super().__init__()
        self.path = os.path.join(out_dir, "selection.json")
        self.weights_path = os.path.join(out_dir, "selected.weights.h5")
        self.episodes = episodes
        self.scores = json.load(open(self.path))["scores"] if os.path.exists(self.path) else []

    def _score(self, epoch):
        accuracy = evaluate_episodes(self.model, self.episodes, verbose=0)["accuracy"]
        self.scores.append({"epoch": epoch, "heldout_20way_1shot": accuracy})
        best = max(self.scores, key=lambda s: s["heldout_20way_1shot"])
        if best is self.scores[-1]:
            self.model.save_weights(self.weights_path)
        with open(self.path, "w") as f:
            json.dump({"scores": self.scores, "selected_epoch": best["epoch"]}, f, indent=1)
        print(f"  epoch {epoch}: held-out 20-way 1-shot {100 * accuracy:.2f}% (best: epoch {best['epoch']})",
              flush=True)

    def on_train_begin(self, logs=None):
        if not self.scores:
            self._score(0)

    def on_epoch_end(self, epoch, logs=None):
        self._score(epoch + 1)


def affine_views(seed):
    """A tf.data map giving every training image its own random affine view (rotation, scale, shift).

    Koch et al.'s one-shot Omniglot recipe (affine distortions of 105×105 characters); the empty
    border is filled with 1.0, Omniglot's white background. The reshapes are TensorFlow's, as the map
    runs in tf.data; the Keras preprocessing layers work there whatever the backend.
    """
    warp = keras.Sequential([
        keras.layers.RandomRotation(AUGMENT["degrees"] / 360, fill_mode="constant", fill_value=1.0, seed=seed),
        keras.layers.RandomZoom(AUGMENT["zoom"], fill_mode="constant", fill_value=1.0, seed=seed + 1),
        keras.layers.RandomTranslation(AUGMENT["shift"], AUGMENT["shift"], fill_mode="constant", fill_value=1.0,
                                       seed=seed + 2),
    ])

    def views(images):
        flat = tf.reshape(images, (-1,) + tuple(images.shape[2:]))
        return tf.reshape(warp(flat, training=True), tf.shape(images))

    def apply(inputs, target):
        return {**inputs, "support_images": views(inputs["support_images"]),
                "query_images": views(inputs["query_images"])}, target

    return apply


def train(config, out_dir, epochs, steps_per_epoch=100, n_way=10, queries=3, batch_size=1, lr=1e-3, seed=0,
          runs=None, init_weights=None, select_episodes=0, augment=False, within_alphabet=0.0, verbose=2):
    """Adam with a cosine decay to 0 over all steps; ``fit_resumable`` continues after a kill.

    ``init_weights`` fine-tunes from a weights file (a resume still takes the run's own checkpoint);
    ``select_episodes`` > 0 keeps the checkpoint best on that many held-out 20-way 1-shot episodes;
    ``augment`` trains on random affine views of the images (:func:`affine_views`);
    ``within_alphabet`` is the share of episodes whose classes come from one alphabet (and one rotation).
    """
    train_pool, _ = pools()
    keras.utils.set_random_seed(seed)
    model = hgzoo.fewshot.SoSN(**config)
    if init_weights:
        model.load_weights(init_weights)
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(lr, epochs * steps_per_epoch)))
    groups = omniglot.alphabets(train_pool) if within_alphabet else None
    dataset = EpisodeSampler(train_pool, n_way, 1, queries, seed=seed, groups=groups,
                             within_group=within_alphabet).dataset(batch_size=batch_size)
    if augment:
        dataset = dataset.map(affine_views(seed))
    callbacks = [RunsAccuracy(runs)] if runs is not None else []
    if select_episodes:
        callbacks.insert(0, HeldOutSelection(out_dir, selection_episodes(select_episodes)))
    start = time.time()
    fit_resumable(model, dataset, out_dir, epochs=epochs, steps_per_epoch=steps_per_epoch, callbacks=callbacks,
                  verbose=verbose)
    return model, time.time() - start


def evaluate(model, episodes=600, seed=2024):
    """20-run accuracy and 5-way 1-/5-shot accuracy on held-out characters (± 95% CI)."""
    runs = omniglot.load_runs(os.path.join(omniglot_dir(), "all_runs.zip"))
    result = {"runs_20way_1shot": evaluate_episodes(model, runs, verbose=0)}
    _, held_out = pools()
    for shots in (1, 5):
        sampler = EpisodeSampler(held_out, 5, shots, 5, seed=seed)
        result[f"heldout_5way_{shots}shot"] = evaluate_episodes(model, sampler.dataset(episodes=episodes), verbose=0)
    for r in result.values():
        r.pop("per_episode")
    return result


def nearest_neighbour_runs():
    """Raw-pixel nearest neighbour on the 20 runs (Lake et al.'s simplest baseline)."""
    runs = omniglot.load_runs(os.path.join(omniglot_dir(), "all_runs.zip"))
    correct = []
    for inputs, target in runs:
        s = inputs["support_images"][0].reshape(20, -1)
        q = inputs["query_images"][0].reshape(20, -1)
        d = ((q[:, None] - s[None]) ** 2).sum(-1)
        correct.append(float(np.mean(d.argmin(1) == target[0].argmax(1))))
    return float(np.mean(correct))


def _recipe_training(run, settings, log, selection):
    """The recipe's training paragraph, written from the run's own settings and selection log."""
    epochs, steps = settings.get("epochs", len(log)), settings.get("steps_per_epoch", 100)
    n_way, queries, lr = settings.get("n_way", 10), settings.get("queries", 3), settings.get("lr", 1e-3)
    command = (f"python benchmarks/fewshot/fewshot_omniglot.py train --out {run} --epochs {epochs} --steps {steps} "
               f"--n-way {n_way} --queries {queries} --lr {lr:g}")
    if settings.get("init_weights"):
        command += f" --init-weights {settings['init_weights']}"
    if settings.get("select_episodes"):
        command += f" --select-episodes {settings['select_episodes']}"
    if settings.get("augment"):
        command += " --augment"
    if settings.get("within_alphabet"):
        command += f" --within-alphabet {settings['within_alphabet']:g}"
    text = f"""    {command}
    python benchmarks/fewshot/fewshot_omniglot.py publish --run {run} --version {{version}}
- `SoSN(**{json.dumps(PRESET_CONFIG)})`: Conv-4, SigmE σ = 100 on M/tr(M); raw 105×105 images are
  resized inside the model with Lanczos, standardised with the SoSN code's Omniglot statistics.
- {epochs} epochs × {steps} episodes of {n_way}-way 1-shot, {queries} queries per class, batch 1 episode; MSE to
  one-hot; Adam, cosine decay from {lr:g} to 0; seed 0; float32, TensorFlow backend."""
    if settings.get("augment"):
        text += f"""
- **Affine views**: every training image is seen through a random rotation (±{AUGMENT['degrees']}°), scale
  (±{100 * AUGMENT['zoom']:.0f}%) and shift (±{100 * AUGMENT['shift']:.0f}% of the side), white-filled (Koch et al.'s
  distortions for one-shot Omniglot); evaluation images are not augmented."""
    if settings.get("within_alphabet"):
        text += f"""
- **Within-alphabet episodes**: {100 * settings['within_alphabet']:.0f}% of the episodes take all {n_way} characters from
  one alphabet in one orientation (the 20 runs' tasks are within one alphabet, where characters look
  alike); the rest draw from every training class."""
    if settings.get("init_weights"):
        text += f"""
- **Fine-tuned**: training starts from `{settings['init_weights']}` (the previous version of this preset,
  see its recipe), not from scratch; the optimizer state starts fresh."""
    if selection:
        scores = ", ".join(f"{100 * s['heldout_20way_1shot']:.2f}" for s in selection["scores"])
        text += f"""
- **Checkpoint selection on held-out characters only**: after every epoch (and once before the first),
  accuracy on {settings['select_episodes']} fixed 20-way 1-shot episodes ({SELECTION_QUERIES} queries per class, seed
  {SELECTION_SEED}) of the {HELD_OUT} held-out background characters; the best is published (epoch
  {selection['selected_epoch']}; epoch 0 = the starting weights). Per epoch: {scores} %. The 20 official
  runs chose nothing: they are measured once, on the selected weights."""
    return text


def publish(run, version=1, preset="sosn_omniglot"):
    """Copy the run's weights (model only) into weights/files, measure them, write manifest and recipe.

    A run trained with ``--select-episodes`` publishes ``selected.weights.h5`` (chosen on held-out
    characters), otherwise ``last.weights.h5``. A new version must beat the previous one on the run's
    held-out selection episodes (scored here on the same episodes), or nothing is written: the 20 runs
    never decide whether a version replaces another.
    """
    import csv
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "tools"))
    from publish_weights import commit_line, file_entry, write_manifest_entry

    commit = commit_line()  # before anything is written: the code that publishes, not the files it writes
    run = pathlib.Path(run)
    selection = json.loads((run / "selection.json").read_text()) if (run / "selection.json").exists() else None
    settings_path = run / "train_settings.json"
    settings = json.loads(settings_path.read_text()) if settings_path.exists() else {}
    model = hgzoo.fewshot.SoSN(**PRESET_CONFIG)
    model.load_weights(run / ("selected.weights.h5" if selection else "last.weights.h5"))
    previous = root / "weights" / "files" / f"{preset}.v{version - 1}.weights.h5"
    previous_score = None
    if selection and previous.exists():
        previous_model = hgzoo.fewshot.SoSN(**PRESET_CONFIG)
        previous_model.load_weights(previous)
        previous_score = evaluate_episodes(previous_model, selection_episodes(settings["select_episodes"]),
                                           verbose=0)["accuracy"]
        best = max(s["heldout_20way_1shot"] for s in selection["scores"])
        print(f"held-out selection episodes: v{version - 1} {100 * previous_score:.2f}%, this run {100 * best:.2f}%")
        if best <= previous_score:
            raise SystemExit(f"not published: the run does not beat v{version - 1} on the held-out selection episodes")
    target = root / "weights" / "files" / f"{preset}.v{version}.weights.h5"
    fresh = hgzoo.fewshot.SoSN(**PRESET_CONFIG)
    fresh.set_weights(model.get_weights())  # drops the optimizer state
    fresh.save_weights(target)
    metrics = evaluate(fresh)
    with open(run / "log.csv") as f:
        log = list(csv.DictReader(f))
    minutes = json.loads((run / "train_seconds.json").read_text())["train_seconds"] / 60
    summary = {"runs_20way_1shot": round(100 * metrics["runs_20way_1shot"]["accuracy"], 2),
               "heldout_5way_1shot": round(100 * metrics["heldout_5way_1shot"]["accuracy"], 2),
               "heldout_5way_1shot_ci95": round(100 * metrics["heldout_5way_1shot"]["ci95"], 2),
               "heldout_5way_5shot": round(100 * metrics["heldout_5way_5shot"]["accuracy"], 2),
               "heldout_5way_5shot_ci95": round(100 * metrics["heldout_5way_5shot"]["ci95"], 2),
               "runs_pixel_nearest_neighbour": round(100 * nearest_neighbour_runs(), 2)}
    if selection:
        summary["heldout_20way_1shot_selection"] = round(
            100 * max(s["heldout_20way_1shot"] for s in selection["scores"]), 2)
    if previous_score is not None:
        summary[f"heldout_20way_1shot_selection_v{version - 1}"] = round(100 * previous_score, 2)
    write_manifest_entry("fewshot", preset, {
        "arch": "hgzoo>SoSN", "task": "fewshot", "version": version, "default": True,
        "description": "SoSN (Conv-4, SigmE) trained by hgzoo on Omniglot's background characters; "
                       "takes raw 105×105 Omniglot PNGs",
        "config": {k: v for k, v in fresh.get_config().items() if k in PRESET_CONFIG},
        "files": [file_entry(target)],
        "license": "Apache-2.0 (trained by hgzoo on Omniglot, MIT licence, brendenlake/omniglot)",
        "input_contract": fresh.input_contract,
        "recipe": f"recipes/{preset}.v{version}.md",
        "metrics": summary,
    })
    training = _recipe_training(run, settings, log, selection).replace("{version}", str(version))
    if previous_score is not None:
        training += f"""
- **Replaces v{version - 1} on held-out evidence only**: on the same selection episodes v{version - 1} scores
  {100 * previous_score:.2f} % and this version {summary['heldout_20way_1shot_selection']:.2f} %; `publish` refuses a
  version that does not beat its predecessor there."""
    (root / "weights" / "recipes" / f"{preset}.v{version}.md").write_text(f"""# {preset} v{version}

hgzoo's own few-shot preset, packaged in the wheel so `hgzoo.fewshot.SoSN(pretrained=True)` works offline.

## Data (MIT, brendenlake/omniglot; not committed here)
- `images_background_small1.zip` + `images_background_small2.zip`: {HELD_OUT} of their characters
  (seed {SPLIT_SEED}) are held out for evaluation and checkpoint selection; the rest, with 90/180/270°
  rotations as new classes, are the training classes.
- Evaluation: the 20 official 20-way 1-shot runs in `all_runs.zip` (evaluation alphabets, never seen
  in training; 400 queries) and 600 episodes each of 5-way 1-shot and 5-shot (5 queries per class) on
  the held-out background characters.

## Recipe
{training}
- Hardware: {os.cpu_count()}-core CPU; training took {minutes:.0f} minutes of wall time. Weights {target.stat().st_size / 1e6:.2f} MB (float32).
- hgzoo commit at publication: {commit}.

## Measured (accuracy %, ± 95% CI half-width)
```json
{json.dumps(summary, indent=1)}
```
The 20-run number is checked by `tests/fewshot/test_omniglot.py` on every CI run.
""")
    print(json.dumps(summary, indent=1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train the sosn_omniglot recipe")
    t.add_argument("--out", required=True)
    t.add_argument("--epochs", type=int, default=30, help="of 100 episodes each")
    t.add_argument("--strength", type=float, default=PRESET_CONFIG["strength"])
    t.add_argument("--n-way", type=int, default=10)
    t.add_argument("--queries", type=int, default=3)
    t.add_argument("--steps", type=int, default=100, help="episodes per epoch")
    t.add_argument("--lr", type=float, default=1e-3, help="start of the cosine decay to 0")
    t.add_argument("--init-weights", help="fine-tune from this weights file (e.g. the v1 preset's)")
    t.add_argument("--select-episodes", type=int, default=0,
                   help="keep selected.weights.h5, best on this many held-out 20-way 1-shot episodes")
    t.add_argument("--augment", action="store_true", help="train on random affine views of the images")
    t.add_argument("--within-alphabet", type=float, default=0.0,
                   help="share of episodes drawn within one alphabet and rotation, like the 20 runs' tasks")
    e = sub.add_parser("evaluate", help="evaluate a weights file with the preset's architecture")
    e.add_argument("--weights", required=True)
    e.add_argument("--strength", type=float, default=PRESET_CONFIG["strength"])
    sel = sub.add_parser("selection-score", help="score a weights file on the held-out selection episodes only")
    sel.add_argument("--weights", required=True)
    sel.add_argument("--episodes", type=int, default=100, help="as the run's --select-episodes")
    p = sub.add_parser("publish", help="package a run as the sosn_omniglot preset")
    p.add_argument("--run", required=True)
    p.add_argument("--version", type=int, default=1, help="the preset version this run becomes")
    tab = sub.add_parser("table", help="power-normalisation variants, same short budget each")
    tab.add_argument("--steps", type=int, default=150)
    tab.add_argument("--out", default="runs/pn_table")
    args = parser.parse_args(argv)

    if args.command == "train":
        config = {**PRESET_CONFIG, "strength": args.strength}
        runs = omniglot.load_runs(os.path.join(omniglot_dir(), "all_runs.zip"))
        settings = {"epochs": args.epochs, "steps_per_epoch": args.steps, "n_way": args.n_way, "queries": args.queries, "lr": args.lr,
                    "init_weights": args.init_weights, "select_episodes": args.select_episodes, "augment": args.augment,
                    "within_alphabet": args.within_alphabet}
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "train_settings.json"), "w") as f:
            json.dump({**settings, "strength": args.strength}, f, indent=1)  # publish writes the recipe from these
        model, seconds = train(config, args.out, runs=runs, **settings)
        with open(os.path.join(args.out, "train_seconds.json"), "w") as f:
            json.dump({"train_seconds": seconds, "note": "this invocation only (a resumed run adds up)"}, f)
        if args.select_episodes:
            # the checkpoint chosen on held-out characters, measured once on the 20 runs; `publish` measures the rest
            model.load_weights(os.path.join(args.out, "selected.weights.h5"))
            print(json.dumps({"train_seconds": seconds, "selected": json.load(open(os.path.join(
                args.out, "selection.json"))), "runs_20way_1shot": evaluate_episodes(model, runs, verbose=0)["accuracy"]}))
            return
        print(json.dumps({"train_seconds": seconds, **evaluate(model)}, indent=1))
    elif args.command == "evaluate":
        model = hgzoo.fewshot.SoSN(**{**PRESET_CONFIG, "strength": args.strength})
        model.load_weights(args.weights)
        print(json.dumps(evaluate(model), indent=1))
    elif args.command == "selection-score":
        model = hgzoo.fewshot.SoSN(**PRESET_CONFIG)
        model.load_weights(args.weights)
        accuracy = evaluate_episodes(model, selection_episodes(args.episodes), verbose=0)["accuracy"]
        print(json.dumps({"weights": args.weights, "episodes": args.episodes, "heldout_20way_1shot": accuracy}))
    elif args.command == "publish":
        publish(args.run, args.version)
    else:
        variants = [("sigme", 100.0, False), ("sigme", 1.0, False), ("maxexp", 20.0, False),
                    ("gamma", 0.5, False), ("asinhe", 100.0, False), ("none", 1.0, False),
                    ("sigme", 100.0, True), ("maxexp", 16.0, True)]
        rows = []
        for function, strength, spectral in variants:
            # spectral MaxExp takes the fast repeated-squaring path (η a power of two)
            config = {**PRESET_CONFIG, "power_norm": function, "strength": strength, "spectral": spectral,
                      "fast": spectral and function == "maxexp"}
            out = os.path.join(args.out, f"{function}_{strength:g}_{'spectral' if spectral else 'elementwise'}")
            model, seconds = train(config, out, epochs=1, steps_per_epoch=args.steps, verbose=0)
            r = evaluate(model, episodes=300)
            rows.append({"power_norm": function, "strength": strength,
                         "mode": ("fast spectral" if config["fast"] else "spectral") if spectral else "element-wise", "train_steps": args.steps,
                         "train_seconds": round(seconds, 1),
                         "runs_20way_1shot": round(100 * r["runs_20way_1shot"]["accuracy"], 2),
                         "heldout_5way_1shot": round(100 * r["heldout_5way_1shot"]["accuracy"], 2),
                         "heldout_5way_1shot_ci95": round(100 * r["heldout_5way_1shot"]["ci95"], 2)})
            print(rows[-1], flush=True)
        write("fewshot", "fewshot_omniglot_power_norms", rows, list(rows[0]),
              notes=f"Every variant trained {args.steps} episodes (10-way 1-shot, 3 queries per class), Adam 1e-3 cosine; "
                    "accuracies in %; held-out: 300 episodes of 5-way 1-shot, 5 queries per class.")


if __name__ == "__main__":
    main()
