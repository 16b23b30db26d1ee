"""A Keras Tuner sweep that records memory per trial, and its results as a Markdown table.

What ``hgzoo <family> tune`` runs: any tuner kind over any hypermodel, with
the process memory measured after each trial so growth across trials shows.

Example:

>>> from hgzoo.tuning.sweep import TUNERS, make_tuner, results_table
>>> TUNERS
('random', 'bayesian', 'hyperband')
>>> tuner = make_tuner("random", hypermodel, "val_loss", 10, "sweeps/x", overwrite=True, epochs=5)  # doctest: +SKIP
>>> tuner.search(train, validation_data=val, epochs=5)  # doctest: +SKIP
>>> print(results_table(tuner))  # doctest: +SKIP
| rank | trial | learning_rate | levels | score | memory MB |
"""

import os

from hgzoo.config import require

TUNERS = ("random", "bayesian", "hyperband")


def _rss_mb():
    """Current resident memory of this process (Linux), in MB; None elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return None


def make_tuner(kind, hypermodel, objective, max_trials, directory, overwrite, epochs):
    """A ``kind`` tuner (one of :data:`TUNERS`) whose ``memory_mb`` maps trial id -> MB after it.

    ``max_trials`` bounds random and Bayesian search; Hyperband's budget is
    ``epochs`` (at least 2) instead. The project is ``directory/sweep``.
    """
    keras_tuner = require("keras_tuner", "tune")
    if kind not in TUNERS:
        raise ValueError(f"unknown tuner {kind!r}; choose one of {', '.join(TUNERS)}")
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
    """Every trial of a :func:`make_tuner` tuner, best first: hyperparameters, score, memory."""
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
