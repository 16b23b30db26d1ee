"""``hgzoo fewshot evaluate|train``: the few-shot protocol on a class pool, and episodic training.

Examples::

    hgzoo fewshot evaluate --model sosn_omniglot --data images_evaluation.zip --way 5 --shot 1 --episodes 600
    hgzoo fewshot evaluate --model sosn_omniglot --omniglot-runs all_runs.zip       # Lake et al.'s 20 runs
    hgzoo fewshot train --model sosn_omniglot --data images_background.zip --rotations --out runs/sosn
    hgzoo fewshot evaluate --model runs/sosn/model.keras --data DIR --way 5 --shot 5
    hgzoo fewshot evaluate --model salnet_inter_miniimagenet_5way_1shot --data DIR   # authors' SalNet weights
    hgzoo fewshot train --model salnet --data DIR --way 5 --shot 1 --queries 15 \
        --teacher salnet_vanilla_miniimagenet_5way_1shot --out runs/salnet               # TriR, frozen teacher

``--data`` takes folders, ``.zip``/``.tar`` archives (every folder of images is
a class) or TensorFlow Datasets names (e.g. ``omniglot``, with ``--split``);
several are merged into one pool. Images are read with the model's channel
count and kept at their size unless ``--resize`` is given: the models resize
inside. Evaluation prints the mean accuracy with its 95% confidence interval
over episodes; ``--output`` also writes it as JSON. Killing ``train`` and
running the same command again resumes training.

Example:

>>> from hgzoo.cli.main import build_parser
>>> args = build_parser().parse_args(["fewshot", "evaluate", "--model", "sosn_omniglot", "--data", "pool/"])
>>> args.way, args.shot, args.queries, args.episodes
(5, 1, 15, 600)
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


def evaluate(args):
    from hgzoo.cli.general import load_model
    from hgzoo.fewshot import EpisodeSampler, evaluate_episodes, omniglot

    model = load_model(args.model)
    if args.omniglot_runs:
        result = evaluate_episodes(model, omniglot.load_runs(args.omniglot_runs), steps=args.episodes, verbose=0)
        setting = "Omniglot's 20 runs, 20-way 1-shot"
    else:
        sampler = EpisodeSampler(_pool(args, model.channels), args.way, args.shot, args.queries, seed=args.seed)
        episodes = (sampler.episode(i) for i in range(args.episodes))
        result = evaluate_episodes(model, episodes, steps=args.episodes, verbose=int(sys.stdout.isatty()))
        setting = f"{args.way}-way {args.shot}-shot, {args.queries} queries per class"
    print(f"{setting}: accuracy {100 * result['accuracy']:.2f}% ± {100 * result['ci95']:.2f} "
          f"(95% CI over {result['episodes']} episodes)")
    if args.output:
        record = {"model": args.model, "setting": setting, "seed": args.seed, **result}
        replace_atomically(args.output, lambda tmp: pathlib.Path(tmp).write_text(json.dumps(record, indent=1)))
        print(f"Results: {os.path.abspath(args.output)}")
    return 0


def train(args):
    import keras

    import hgzoo
    from hgzoo.fewshot import EpisodeSampler
    from hgzoo.training import fit_resumable

    keras.utils.set_random_seed(args.seed)
    # JAX traces need the class count fixed (README, few-shot section).
    fixed = {"n_way": args.way} if keras.backend.backend() == "jax" else {}
    model = hgzoo.create_model(args.model, pretrained=args.pretrained, **fixed)
    sampler = EpisodeSampler(_pool(args, model.channels), args.way, args.shot, args.queries, seed=args.seed)
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, args.epochs * args.steps_per_epoch)
    if isinstance(model, hgzoo.fewshot.SalNet):  # per-network gradient clipping, TriR with a frozen teacher
        from hgzoo.fewshot.clipping import ModuleClippedAdam

        teacher = hgzoo.create_model(args.teacher, pretrained=True, **fixed) if args.teacher else None
        model.compile(optimizer=ModuleClippedAdam(schedule), teacher=teacher)
    elif args.teacher:
        raise ValueError(f"--teacher is for SalNet (TriR); {args.model} is a {type(model).__name__}")
    else:
        model.compile(optimizer=keras.optimizers.Adam(schedule))
    fit_resumable(model, sampler.dataset(batch_size=args.batch_size), args.out, epochs=args.epochs,
                  steps_per_epoch=args.steps_per_epoch, verbose=2)
    path = os.path.join(args.out, "model.keras")
    replace_atomically(path, model.save, suffix=".keras")
    print(f"Saved {os.path.abspath(path)}  (evaluate with: hgzoo fewshot evaluate --model {path} --data ...)")
    return 0


def _add_episode_arguments(p, way, queries):
    p.add_argument("--way", type=int, default=way, help=f"classes per episode (default {way})")
    p.add_argument("--shot", type=int, default=1, help="support images per class (default 1)")
    p.add_argument("--queries", type=int, default=queries, help=f"query images per class (default {queries})")
    p.add_argument("--seed", type=int, default=0, help="episodes are a function of (seed, index)")
    p.add_argument("--split", default="train", help="split of a TensorFlow Datasets name (default: train)")
    p.add_argument("--resize", type=int, nargs=2, metavar=("H", "W"),
                   help="resize images on reading (needed when a pool's images differ in size)")


def add_actions(actions):
    """Add evaluate and train to ``hgzoo fewshot`` (``actions``: its argparse sub-parsers)."""
    p = actions.add_parser("evaluate", help="mean accuracy ± 95%% CI over N-way K-shot episodes")
    p.add_argument("--model", required=True, help="preset id (its weights) or a .keras file")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", nargs="+", metavar="SOURCE",
                        help="class pool: folders, .zip/.tar archives or TensorFlow Datasets names")
    source.add_argument("--omniglot-runs", metavar="ALL_RUNS_ZIP",
                        help="Omniglot's all_runs.zip: the 20 official 20-way 1-shot runs")
    _add_episode_arguments(p, way=5, queries=15)
    p.add_argument("--episodes", type=int, default=600, help="episodes to average (default 600; of Omniglot's runs, the first N)")
    p.add_argument("--output", help="also write the result (and per-episode accuracies) as JSON here")
    p.set_defaults(func=evaluate)

    p = actions.add_parser("train", help="train a few-shot model on episodes, resumably")
    p.add_argument("--data", nargs="+", required=True, metavar="SOURCE",
                   help="training classes: folders, .zip/.tar archives or TensorFlow Datasets names")
    p.add_argument("--model", default="sosn", help="architecture or preset id, e.g. sosn_omniglot (default: sosn)")
    p.add_argument("--pretrained", action="store_true", help="start from the preset's weights (fine-tune)")
    p.add_argument("--out", required=True, help="run folder: model.keras, weights, logs, resume state")
    p.add_argument("--rotations", action="store_true", help="add 90/180/270-degree rotations as new classes")
    p.add_argument("--teacher", metavar="PRESET",
                   help="SalNet only: the frozen TriR teacher, e.g. salnet_vanilla_miniimagenet_5way_1shot")
    _add_episode_arguments(p, way=10, queries=3)
    p.add_argument("--batch-size", type=int, default=1, help="episodes per step (default 1)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--steps-per-epoch", type=int, default=100)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam, cosine decay to 0 over all steps (default 1e-3)")
    p.set_defaults(func=train)
