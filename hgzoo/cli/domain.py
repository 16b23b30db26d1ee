"""``hgzoo domain train|evaluate``: supervised domain adaptation by scatter alignment on the digit domains.

Examples::

    hgzoo domain train --source mnist --target uci --k 5 --divergence jbld --out runs/mnist2uci
    hgzoo domain evaluate --model runs/mnist2uci

``train`` uses every labelled source digit and K labelled target digits per
class (drawn with ``--seed``), trains :class:`hgzoo.domain.ScatterAlignmentNet`
for ``--steps`` paired batches and saves ``model.keras`` and
``metrics.json`` (the split, the settings and the target test accuracy) in
``--out``. ``evaluate`` re-draws the same split from ``metrics.json`` and
prints the target test accuracy; ``hgzoo export`` serves the target
classifier. Needs the ``domain`` extra (the digit domains).

Example:

>>> from hgzoo.cli.main import build_parser
>>> args = build_parser().parse_args(["domain", "train", "--source", "mnist", "--target", "uci", "--out", "run"])
>>> args.k, args.divergence, args.steps
(5, 'log_euclidean', 300)
"""

import json
import os
import pathlib


DOMAINS = ("mnist", "uci")
DIVERGENCE_CHOICES = ("frobenius", "jbld", "airm", "log_euclidean", "none")


def add_actions(actions):
    """Add train and evaluate to ``hgzoo domain`` (``actions``: its argparse sub-parsers)."""
    p = actions.add_parser("train", help="adapt a two-stream classifier from a source to a target digit domain")
    p.add_argument("--source", required=True, choices=DOMAINS, help="labelled source domain (all of it)")
    p.add_argument("--target", required=True, choices=DOMAINS, help="target domain: K labelled per class, rest = test")
    p.add_argument("--k", type=int, default=5, help="labelled target samples per class (default 5)")
    p.add_argument("--divergence", choices=DIVERGENCE_CHOICES, default="log_euclidean",
                   help="SPD divergence of the scatter term; 'none' aligns means only")
    p.add_argument("--scatter-weight", type=float, default=0.1)
    p.add_argument("--mean-weight", type=float, default=1.0)
    p.add_argument("--separation-weight", type=float, default=0.1)
    p.add_argument("--steps", type=int, default=300, help="training steps of paired batches (default 300)")
    p.add_argument("--per-class", type=int, default=4, help="source (and at most target) samples per class per batch")
    p.add_argument("--size", type=int, default=16, help="common image size both domains are resized to (default 16)")
    p.add_argument("--seed", type=int, default=0, help="draws the K labelled target samples and the initialisation")
    p.add_argument("--out", required=True, help="run folder: model.keras and metrics.json")
    p.set_defaults(func=train)

    p = actions.add_parser("evaluate", help="target test accuracy of a model from 'hgzoo domain train'")
    p.add_argument("--model", required=True, help="a run folder of 'hgzoo domain train'")
    p.set_defaults(func=evaluate)


def _positive(value, name):
    if value < 1:
        raise ValueError(f"--{name} must be at least 1, got {value}")


def train(args):
    import keras

    from hgzoo.domain import ScatterAlignmentNet, target_accuracy
    from hgzoo.domain.data import few_shot_split, load_digit_domain, supervised_da_dataset
    from hgzoo.training import save_run

    for name in ("k", "steps", "per_class"):
        _positive(getattr(args, name), name.replace("_", "-"))
    if args.source == args.target:
        raise ValueError(f"--source and --target are both {args.source!r}: adaptation needs two domains")
    source = load_digit_domain(args.source, args.size)
    labelled, test = few_shot_split(*load_digit_domain(args.target, args.size), k=args.k, seed=args.seed)
    keras.utils.set_random_seed(args.seed)
    model = ScatterAlignmentNet(num_classes=10, image_size=(args.size, args.size), divergence=args.divergence,
                                scatter_weight=args.scatter_weight, mean_weight=args.mean_weight,
                                separation_weight=args.separation_weight)
    print(f"Training {args.source} -> {args.target}, K={args.k}, divergence {args.divergence}, {args.steps} steps")
    model.fit(supervised_da_dataset(*source, *labelled, per_class=args.per_class, seed=args.seed),
              steps_per_epoch=args.steps, epochs=1, shuffle=False, verbose=2)
    accuracy = target_accuracy(model, *test)
    metrics = {"source": args.source, "target": args.target, "k": args.k, "seed": args.seed, "size": args.size,
               "divergence": args.divergence, "steps": args.steps, "target_test_images": len(test[1]),
               "target_test_accuracy": round(accuracy, 2)}
    save_run(model, args.out, metrics)
    print(f"target test accuracy {accuracy:.2f}% on {len(test[1])} {args.target} images; saved {args.out}")
    return 0


def evaluate(args):
    import keras

    from hgzoo.domain import target_accuracy
    from hgzoo.domain.data import few_shot_split, load_digit_domain

    path, run = os.path.join(args.model, "model.keras"), os.path.join(args.model, "metrics.json")
    for f in (path, run):
        if not os.path.isfile(f):
            raise FileNotFoundError(f"{f} not found: give a run folder written by 'hgzoo domain train'")
    try:
        settings = json.loads(pathlib.Path(run).read_text())
        target, k, seed, size = settings["target"], settings["k"], settings["seed"], settings["size"]
    except (ValueError, KeyError) as e:
        raise ValueError(f"{run} is not a 'hgzoo domain train' record (missing or unreadable {e})") from None
    model = keras.saving.load_model(path)
    _, test = few_shot_split(*load_digit_domain(target, size), k=k, seed=seed)
    accuracy = target_accuracy(model, *test)
    print(json.dumps({"target": target, "k": k, "seed": seed, "target_test_images": len(test[1]),
                      "target_test_accuracy": round(accuracy, 2)}))
    return 0
