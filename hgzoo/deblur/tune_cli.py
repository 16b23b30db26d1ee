"""``hgzoo tune deblur``: a Keras Tuner sweep over a deblurring architecture.

Example::

    hgzoo tune deblur --data GOPRO_Large/train --model dmphn --tuner bayesian --max-trials 10 --out sweeps/d

Prints a results table (best first) with each trial's hyperparameters, score
and the process memory after the trial, so growth across trials is visible.
"""

import os

from hgzoo.deblur.train_cli import add_data_arguments, build_dataset

TUNERS = ("random", "bayesian", "hyperband")


def add_arguments(p):
    add_data_arguments(p)
    p.add_argument("--model", default="dmphn", choices=["dmphn", "stack_mpn"], help="architecture to sweep")
    p.add_argument("--tuner", default="random", choices=TUNERS)
    p.add_argument("--max-trials", type=int, default=10, help="trials (hyperband: its max_epochs budget)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--steps-per-epoch", type=int, default=50)
    p.add_argument("--validation-steps", type=int, default=10)
    p.add_argument("--out", required=True, help="tuner project folder")
    p.add_argument("--resume", action="store_true", help="continue an earlier sweep instead of starting over")


def _rss_mb():
    """Current resident memory of this process (Linux), in MB; None elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return None


def make_tuner(kind, hypermodel, objective, max_trials, directory, overwrite, epochs):
    import keras_tuner

    memory = {}

    common = dict(objective=objective, directory=directory, project_name="sweep", overwrite=overwrite)
    if kind == "random":
        base, extra = keras_tuner.RandomSearch, {"max_trials": max_trials}
    elif kind == "bayesian":
        base, extra = keras_tuner.BayesianOptimization, {"max_trials": max_trials}
    else:
        base, extra = keras_tuner.Hyperband, {"max_epochs": max(epochs, 2)}

    class MeasuredTuner(base):
        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            memory[trial.trial_id] = _rss_mb()

    tuner = MeasuredTuner(hypermodel, **common, **extra)
    tuner.memory_mb = memory
    return tuner


def results_table(tuner):
    trials = tuner.oracle.get_best_trials(num_trials=len(tuner.oracle.trials))
    names = sorted({k for t in trials for k in t.hyperparameters.values})
    lines = ["| rank | trial | " + " | ".join(names) + " | score | memory MB |",
             "|" + "---|" * (len(names) + 4)]
    for rank, t in enumerate(trials, 1):
        values = " | ".join(str(t.hyperparameters.values.get(n, "")) for n in names)
        score = "" if t.score is None else f"{t.score:.5f}"
        mem = tuner.memory_mb.get(t.trial_id)
        lines.append(f"| {rank} | {t.trial_id} | {values} | {score} | {'' if mem is None else f'{mem:.0f}'} |")
    return "\n".join(lines)


def run_tuning(args):
    import keras_tuner

    import hgzoo
    from hgzoo.models.search_space import Float

    cls = hgzoo.get_model_class(args.model)
    hypermodel = hgzoo.tuning.HyperModel(cls, train_space={"learning_rate": Float(1e-5, 1e-3, "log")})
    train = build_dataset(args)
    val = build_dataset(args, seed=args.seed + 1).take(args.validation_steps).cache()
    tuner = make_tuner(args.tuner, hypermodel, keras_tuner.Objective("val_loss", "min"), args.max_trials,
                       args.out, not args.resume, args.epochs)
    tuner.search(train, validation_data=val, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch, verbose=1)
    print(results_table(tuner))
    best = hypermodel.model_kwargs(tuner.get_best_hyperparameters()[0])
    print(f"best: hgzoo.deblur.{cls.__name__}(**{best})")
    return 0
