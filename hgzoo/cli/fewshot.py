"""``hgzoo fewshot evaluate|train``: the few-shot protocol on a class pool, and episodic training.

Examples::

    hgzoo fewshot evaluate --model sosn_omniglot --data images_evaluation.zip --way 5 --shot 1 --episodes 600
    hgzoo fewshot evaluate --model sosn_omniglot --omniglot-runs all_runs.zip       # Lake et al.'s 20 runs
    hgzoo fewshot train --model sosn_omniglot --data images_background.zip --rotations --out runs/sosn
    hgzoo fewshot evaluate --model runs/sosn/model.keras --data DIR --way 5 --shot 5
    hgzoo fewshot evaluate --model salnet_inter_miniimagenet_5way_1shot --data DIR   # authors' SalNet weights
    hgzoo fewshot train --model salnet --data DIR --way 5 --shot 1 --queries 15 \
        --teacher salnet_vanilla_miniimagenet_5way_1shot --out runs/salnet               # TriR, frozen teacher
    hgzoo fewshot train --model mlso --config '{"image_size": [28, 28], "channels": 1}' --data DIR --out runs/mlso
    hgzoo fewshot train --model arl --base sosn --class-embeddings alphabet --data images_background.zip --out runs/arl
    hgzoo fewshot train --model arl --base spatial_matching --unsupervised --data DIR --out runs/arl_unsup
    hgzoo fewshot evaluate --model runs/sosn/model.keras runs/arl/model.keras --data DIR --shot 1 5  # a table

``--data`` takes folders, ``.zip``/``.tar`` archives (every folder of images is
a class) or TensorFlow Datasets names (e.g. ``omniglot``, with ``--split``);
several are merged into one pool. Images are read with the model's channel
count and kept at their size unless ``--resize`` is given: the models resize
inside. ``train`` builds any registered few-shot model (``sosn``, ``salnet``,
``mlso``, ``spatial_matching``, ``cross_transformer``, or a preset id) with
``--config`` (JSON constructor arguments); ``--model arl --base ARCH`` wraps
one in absolute-relative learning, with class embeddings from
``--class-embeddings`` (``names``: MiniLM sentence embeddings of the class
names, the ``text`` extra; ``alphabet``: Omniglot's alphabet structure; or a
``.npy``/``.csv`` matrix, one row per class in the pool's order, e.g. attribute
vectors), or label-free with ``--unsupervised``. Killing ``train`` and running
the same command again resumes training. ``evaluate`` takes several models and
shot counts and prints one row each (mean accuracy with its 95% confidence
interval over the same episodes, parameters, seconds); ``--output`` also
writes the rows as JSON.

Example:

>>> from hgzoo.cli.main import build_parser
>>> args = build_parser().parse_args(["fewshot", "evaluate", "--model", "sosn_omniglot", "--data", "pool/"])
>>> args.way, args.shot, args.queries, args.episodes
(5, [1], 15, 600)
"""

import json
import os
import pathlib
import sys

from hgzoo.config import require
from hgzoo.errors import MissingExtraError
from hgzoo.files import replace_atomically


def _is_tfds_name(source):
    """Whether ``source`` names a TensorFlow Datasets dataset, e.g. ``omniglot`` or ``omniglot/small1:3.0.0``.

    Without the ``data`` extra it names none: a mistyped path must say "no such folder", not "install".
    """
    try:
        tfds = require("tensorflow_datasets", "data")
    except MissingExtraError:
        return False
    return source.split("/")[0].split(":")[0] in tfds.list_builders(with_community_datasets=False)


def _pool(args, channels):
    """One ImageClasses pool of every ``--data`` source, with rotated copies as classes under ``--rotations``."""
    from hgzoo.data.image_classes import ImageClasses

    size = tuple(args.resize) if args.resize else None
    pools = []
    for source in args.data:
        if os.path.exists(source):
            pools.append(ImageClasses.from_folder(source, channels=channels, size=size))
        elif _is_tfds_name(source):
            pools.append(ImageClasses.from_tfds(source, split=args.split, channels=channels, size=size))
        else:
            raise FileNotFoundError(f"{source}: no such folder or archive, nor a TensorFlow Datasets name")
    pool = ImageClasses([a for p in pools for a in p.images], [n for p in pools for n in p.names])
    return pool.with_rotations() if getattr(args, "rotations", False) else pool


def _result_rows(model_name, model, args, pool_cache):
    """One row per ``--shot`` (or the 20 runs) for ``model``, all models on the same episodes."""
    import time

    from hgzoo.fewshot import EpisodeSampler, evaluate_episodes, omniglot

    verbose = int(sys.stdout.isatty())
    if args.omniglot_runs:
        settings = [("Omniglot's 20 runs, 20-way 1-shot", lambda: omniglot.load_runs(args.omniglot_runs))]
    else:
        if model.channels not in pool_cache:
            pool_cache[model.channels] = _pool(args, model.channels)
        pool = pool_cache[model.channels]

        def episodes(shot):
            sampler = EpisodeSampler(pool, args.way, shot, args.queries, seed=args.seed)
            return (sampler.episode(i) for i in range(args.episodes))

        settings = [(f"{args.way}-way {shot}-shot, {args.queries} queries per class", lambda s=shot: episodes(s))
                    for shot in args.shot]
    rows = []
    for setting, make_episodes in settings:
        start = time.perf_counter()
        result = evaluate_episodes(model, make_episodes(), steps=args.episodes, verbose=verbose)
        rows.append({"model": model_name, "setting": setting, "seed": args.seed, "parameters": model.count_params(),
                     "seconds": round(time.perf_counter() - start, 2), **result})
        print(f"{model_name}: {setting}: accuracy {100 * result['accuracy']:.2f}% ± {100 * result['ci95']:.2f} "
              f"(95% CI over {result['episodes']} episodes)", flush=True)
    return rows


def _print_table(rows):
    header = ("model", "setting", "accuracy %", "± 95% CI", "episodes", "parameters", "seconds")
    lines = [(r["model"], r["setting"], f"{100 * r['accuracy']:.2f}", f"{100 * r['ci95']:.2f}", str(r["episodes"]),
              f"{r['parameters']:,}", f"{r['seconds']:.1f}") for r in rows]
    widths = [max(len(c) for c in column) for column in zip(header, *lines)]
    for line in (header, *lines):
        print("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())


def evaluate(args):
    from hgzoo.cli.general import load_model

    rows, pools = [], {}
    for name in args.model:
        rows.extend(_result_rows(name, load_model(name), args, pools))
    if len(rows) > 1:
        print()
        _print_table(rows)
    if args.output:
        record = {"command": ["hgzoo", *sys.argv[1:]], "rows": rows}
        replace_atomically(args.output, lambda tmp: pathlib.Path(tmp).write_text(json.dumps(record, indent=1)))
        print(f"Results: {os.path.abspath(args.output)}")
    return 0


def _config(args):
    """``--config``: a JSON object of constructor arguments."""
    try:
        config = json.loads(args.config) if args.config else {}
    except json.JSONDecodeError as e:
        raise ValueError(f"--config must be a JSON object of constructor arguments: {e}") from None
    if not isinstance(config, dict):
        raise ValueError(f"--config must be a JSON object of constructor arguments, got {args.config}")
    return config


def _training_setup(args, fixed):
    """(model, episode sampler): ``--model`` built from ``--config``, ARL around ``--base`` with its embeddings."""
    import hgzoo
    from hgzoo.fewshot import EpisodeSampler, omniglot
    from hgzoo.fewshot.class_embeddings import class_embeddings_from
    from hgzoo.fewshot.data.class_id_episodes import PseudoClassSampler

    arl = args.model == "arl"
    for option, given in (("--base", args.base), ("--class-embeddings", args.class_embeddings),
                          ("--unsupervised", args.unsupervised)):
        if given and not arl:
            raise ValueError(f"{option} is for --model arl (absolute-relative learning around --base)")
    model = hgzoo.create_model((args.base or "sosn") if arl else args.model, pretrained=args.pretrained,
                               **_config(args), **fixed)
    pool = _pool(args, model.channels)
    grouping = {}
    if args.within_group:
        if args.unsupervised:
            raise ValueError("--within-group draws labelled classes; --unsupervised has none")
        grouping = {"groups": omniglot.alphabets(pool), "within_group": args.within_group}
    if not arl:
        return model, EpisodeSampler(pool, args.way, args.shot, args.queries, seed=args.seed, **grouping)
    if isinstance(model, hgzoo.fewshot.SalNet) and args.absolute_weight:
        raise ValueError("ARL's absolute heads need one per-image feature layer and SalNet fuses two encoders: "
                         "pass --absolute-weight 0 (the relative part only)")
    weights = {"absolute_weight": args.absolute_weight}
    if args.unsupervised:
        if args.class_embeddings:
            raise ValueError("--unsupervised trains without labels, so without class embeddings")
        sampler = PseudoClassSampler(pool, args.way, args.shot, args.queries, seed=args.seed)
        return hgzoo.fewshot.ARL(model, num_classes=len(pool), **weights), sampler
    embeddings = class_embeddings_from(args.class_embeddings or "names", pool.names)
    if args.relative_weight is not None:
        weights["relative_weight"] = args.relative_weight
    sampler = EpisodeSampler(pool, args.way, args.shot, args.queries, seed=args.seed, class_ids=True, **grouping)
    return hgzoo.fewshot.ARL(model, class_embeddings=embeddings, **weights), sampler


def train(args):
    import keras

    import hgzoo
    from hgzoo.training import fit_resumable

    keras.utils.set_random_seed(args.seed)
    # JAX traces need the class count fixed (README, few-shot section).
    fixed = {"n_way": args.way} if keras.backend.backend() == "jax" else {}
    model, sampler = _training_setup(args, fixed)
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, args.epochs * args.steps_per_epoch)
    if args.teacher and not isinstance(model, hgzoo.fewshot.SalNet):
        raise ValueError(f"--teacher is for SalNet (TriR); {args.model} is a {type(model).__name__}")
    if isinstance(model, hgzoo.fewshot.SalNet):  # per-network gradient clipping, TriR with a frozen teacher
        from hgzoo.fewshot.clipping import ModuleClippedAdam

        teacher = hgzoo.create_model(args.teacher, pretrained=True, **fixed) if args.teacher else None
        model.compile(optimizer=ModuleClippedAdam(schedule), teacher=teacher)
    elif isinstance(getattr(model, "base", None), hgzoo.fewshot.SalNet):  # ARL around SalNet: its clipping too
        from hgzoo.fewshot.clipping import ModuleClippedAdam

        model.compile(optimizer=ModuleClippedAdam(schedule))
    else:
        model.compile(optimizer=keras.optimizers.Adam(schedule))
    fit_resumable(model, sampler.dataset(batch_size=args.batch_size), args.out, epochs=args.epochs,
                  steps_per_epoch=args.steps_per_epoch, verbose=2)
    path = os.path.join(args.out, "model.keras")
    replace_atomically(path, model.save, suffix=".keras")
    print(f"{type(model).__name__}, {model.count_params():,} parameters. Saved {os.path.abspath(path)}  "
          f"(evaluate with: hgzoo fewshot evaluate --model {path} --data ...)")
    return 0


def _add_episode_arguments(p, way, queries, shots=False):
    p.add_argument("--way", type=int, default=way, help=f"classes per episode (default {way})")
    if shots:
        p.add_argument("--shot", type=int, nargs="+", default=[1],
                       help="support images per class; several give one row each (default 1)")
    else:
        p.add_argument("--shot", type=int, default=1, help="support images per class (default 1)")
    p.add_argument("--queries", type=int, default=queries, help=f"query images per class (default {queries})")
    p.add_argument("--seed", type=int, default=0, help="episodes are a function of (seed, index)")
    p.add_argument("--split", default="train", help="split of a TensorFlow Datasets name (default: train)")
    p.add_argument("--resize", type=int, nargs=2, metavar=("H", "W"),
                   help="resize images on reading (needed when a pool's images differ in size)")


def add_actions(actions):
    """Add evaluate and train to ``hgzoo fewshot`` (``actions``: its argparse sub-parsers)."""
    p = actions.add_parser("evaluate", help="mean accuracy ± 95%% CI over N-way K-shot episodes, a row per model")
    p.add_argument("--model", required=True, nargs="+", metavar="MODEL",
                   help="preset ids (their weights) or .keras files; each is evaluated on the same episodes")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", nargs="+", metavar="SOURCE",
                        help="class pool: folders, .zip/.tar archives or TensorFlow Datasets names")
    source.add_argument("--omniglot-runs", metavar="ALL_RUNS_ZIP",
                        help="Omniglot's all_runs.zip: the 20 official 20-way 1-shot runs")
    _add_episode_arguments(p, way=5, queries=15, shots=True)
    p.add_argument("--episodes", type=int, default=600, help="episodes to average (default 600; of Omniglot's runs, the first N)")
    p.add_argument("--output", help="also write the rows (with per-episode accuracies) as JSON here")
    p.set_defaults(func=evaluate)

    p = actions.add_parser("train", help="train a few-shot model on episodes, resumably")
    p.add_argument("--data", nargs="+", required=True, metavar="SOURCE",
                   help="training classes: folders, .zip/.tar archives or TensorFlow Datasets names")
    p.add_argument("--model", default="sosn",
                   help="architecture (sosn, salnet, mlso, spatial_matching, cross_transformer, arl) or preset id, "
                        "e.g. sosn_omniglot (default: sosn)")
    p.add_argument("--config", metavar="JSON",
                   help="constructor arguments (of --base under arl), e.g. '{\"image_size\": [28, 28], \"channels\": 1}'")
    p.add_argument("--pretrained", action="store_true", help="start from the preset's weights (fine-tune)")
    p.add_argument("--out", required=True, help="run folder: model.keras, weights, logs, resume state")
    p.add_argument("--rotations", action="store_true", help="add 90/180/270-degree rotations as new classes")
    p.add_argument("--within-group", type=float, default=0.0, metavar="SHARE",
                   help="share of episodes whose classes all share a parent folder and rotation, e.g. an "
                        "Omniglot alphabet: harder tasks, like Lake et al.'s 20 runs (default 0)")
    p.add_argument("--teacher", metavar="PRESET",
                   help="SalNet only: the frozen TriR teacher, e.g. salnet_vanilla_miniimagenet_5way_1shot")
    arl = p.add_argument_group("absolute-relative learning (--model arl)")
    arl.add_argument("--base", help="the model ARL trains: an architecture or preset id (default: sosn)")
    arl.add_argument("--class-embeddings", metavar="SOURCE",
                     help="names (MiniLM embeddings of the class names; default), alphabet (Omniglot), "
                          "or a .npy/.csv matrix with one row per class in the pool's order")
    arl.add_argument("--relative-weight", type=float, help="share of the soft relation targets (default 0.5)")
    arl.add_argument("--absolute-weight", type=float, default=0.1,
                     help="weight of the class-label and embedding heads (default 0.1; 0 for SalNet)")
    arl.add_argument("--unsupervised", action="store_true",
                     help="no labels: each episode class is one image, its shots and queries augmentations")
    _add_episode_arguments(p, way=10, queries=3)
    p.add_argument("--batch-size", type=int, default=1, help="episodes per step (default 1)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--steps-per-epoch", type=int, default=100)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam, cosine decay to 0 over all steps (default 1e-3)")
    p.set_defaults(func=train)
