"""``hgzoo action train|evaluate|predict``: few-shot action recognition on your own videos.

Examples::

    hgzoo action train --data videos/train --frames 8 --size 64 64 --out runs/arn      # class folders of videos
    hgzoo action evaluate --model runs/arn/model.keras --data videos/test --way 5 --shot 1 --episodes 600
    hgzoo action predict --model runs/arn/model.keras --support examples/ --query new_videos/

``--data`` and ``--support`` are folders with one sub-folder per class, each
holding video files (anything FFmpeg decodes, via PyAV: ``pip install
"hgzoo[action]"``) or folders of frame images. ``--query`` takes video files,
frame folders, or folders of them. Clips are read at the model's frame count
and size; files that cannot be read are skipped and listed, not fatal.
Killing ``train`` and running the same command again resumes training.

Example:

>>> from hgzoo.cli.main import build_parser
>>> args = build_parser().parse_args(["action", "evaluate", "--model", "m.keras", "--data", "videos/"])
>>> args.way, args.shot, args.queries, args.episodes
(5, 1, 5, 600)
"""

import json
import os
import pathlib
import sys

from hgzoo.files import replace_atomically


def _report_skipped(skipped):
    for path, reason in skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)


def _clip_format(model):
    config = model.get_config()
    return config["frames"], tuple(config["image_size"]), config["channels"]


def _pool(path, frames, size, channels):
    from hgzoo.action.video import clip_classes_from_folder

    pool, skipped = clip_classes_from_folder(path, frames, size, channels)
    _report_skipped(skipped)
    return pool


def train(args):
    import keras

    import hgzoo
    from hgzoo.action import ClipEpisodeSampler
    from hgzoo.training import fit_resumable

    keras.utils.set_random_seed(args.seed)
    fixed = {"n_way": args.way} if keras.backend.backend() == "jax" else {}
    model = hgzoo.action.ARN(frames=args.frames, image_size=tuple(args.size), channels=args.channels,
                             filters=args.filters, attention=args.attention,
                             temporal_order_weight=args.temporal_order_weight, jigsaw_weight=args.jigsaw_weight,
                             **fixed)
    pool = _pool(args.data, *_clip_format(model))
    sampler = ClipEpisodeSampler(pool, args.way, args.shot, args.queries, seed=args.seed)
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
        args.lr, args.epochs * args.steps_per_epoch)))
    fit_resumable(model, sampler.dataset(), args.out, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
                  verbose=2)
    path = os.path.join(args.out, "model.keras")
    replace_atomically(path, model.save, suffix=".keras")
    print(f"Saved {os.path.abspath(path)}  (evaluate with: hgzoo action evaluate --model {path} --data ...)")
    return 0


def evaluate(args):
    from hgzoo.action import ClipEpisodeSampler
    from hgzoo.cli.general import load_model
    from hgzoo.fewshot import evaluate_episodes

    model = load_model(args.model)
    sampler = ClipEpisodeSampler(_pool(args.data, *_clip_format(model)), args.way, args.shot, args.queries,
                                 seed=args.seed)
    result = evaluate_episodes(model, (sampler.episode(i) for i in range(args.episodes)), steps=args.episodes,
                               verbose=int(sys.stdout.isatty()))
    setting = f"{args.way}-way {args.shot}-shot, {args.queries} queries per class"
    print(f"{setting}: accuracy {100 * result['accuracy']:.2f}% ± {100 * result['ci95']:.2f} "
          f"(95% CI over {result['episodes']} episodes)")
    if args.output:
        record = {"model": args.model, "setting": setting, "seed": args.seed, **result}
        replace_atomically(args.output, lambda tmp: pathlib.Path(tmp).write_text(json.dumps(record, indent=1)))
    return 0


def _query_sources(paths):
    from hgzoo.action.video import is_clip_source

    sources = []
    for path in paths:
        if os.path.isdir(path) and not is_clip_source(path):  # a folder of videos / frame folders
            inside = [os.path.join(path, f) for f in sorted(os.listdir(path))]
            sources += [p for p in inside if is_clip_source(p)]
        else:
            sources.append(path)
    return sources


def predict(args):
    import numpy as np

    from hgzoo.action.video import read_clips
    from hgzoo.cli.general import load_model

    model = load_model(args.model)
    frames, size, channels = _clip_format(model)
    pool = _pool(args.support, frames, size, channels)
    if pool.num_classes < 2:
        raise ValueError(f"{args.support}: needs at least two class folders with readable clips")
    shots = min(len(c) for c in pool.images)
    support = np.concatenate([c[:shots] for c in pool.images]).astype(np.float32) / 255.0
    labels = np.repeat(np.arange(pool.num_classes, dtype=np.int32), shots)
    queries, read, skipped = read_clips(_query_sources(args.query), frames, size, channels)
    _report_skipped(skipped)
    if not read:
        raise ValueError(f"no readable query clip among {args.query}")
    scores = np.asarray(model.predict_on_batch({"support_clips": support[None], "support_labels": labels[None],
                                                "query_clips": queries[None].astype(np.float32) / 255.0}))[0]
    results = [{"clip": path, "class": pool.names[int(s.argmax())], "score": round(float(s.max()), 4)}
               for path, s in zip(read, scores)]
    for r in results:
        print(f"{r['clip']}\t{r['class']}\t{r['score']}")
    if args.output:
        replace_atomically(args.output, lambda tmp: pathlib.Path(tmp).write_text(json.dumps(
            {"classes": pool.names, "shots": shots, "predictions": results,
             "skipped": [{"clip": p, "reason": r} for p, r in skipped]}, indent=1)))
    return 0


def _add_episode_arguments(p):
    p.add_argument("--way", type=int, default=5, help="classes per episode (default 5)")
    p.add_argument("--shot", type=int, default=1, help="support clips per class (default 1)")
    p.add_argument("--queries", type=int, default=5, help="query clips per class (default 5)")
    p.add_argument("--seed", type=int, default=0, help="episodes are a function of (seed, index)")


def add_actions(actions):
    """Add train, evaluate and predict to ``hgzoo action`` (``actions``: its argparse sub-parsers)."""
    p = actions.add_parser("train", help="train ARN on episodes of your class folders of videos, resumably")
    p.add_argument("--data", required=True, help="folder with one sub-folder of videos / frame folders per class")
    p.add_argument("--out", required=True, help="run folder: model.keras, weights, logs, resume state")
    p.add_argument("--frames", type=int, default=20, help="frames per clip (default 20, the paper's)")
    p.add_argument("--size", type=int, nargs=2, default=(128, 128), metavar=("H", "W"),
                   help="frame size (default 128 128, the paper's)")
    p.add_argument("--channels", type=int, default=3, choices=(1, 3))
    p.add_argument("--filters", type=int, default=64, help="encoder width (default 64)")
    p.add_argument("--attention", default="spatial", choices=("spatial", "temporal", "both", "none"))
    p.add_argument("--temporal-order-weight", type=float, default=0.1)
    p.add_argument("--jigsaw-weight", type=float, default=0.1)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--steps-per-epoch", type=int, default=100, help="episodes per epoch (default 100)")
    p.add_argument("--lr", type=float, default=1e-3, help="initial learning rate of the cosine schedule")
    _add_episode_arguments(p)
    p.set_defaults(func=train)

    p = actions.add_parser("evaluate", help="mean accuracy ± 95%% CI over N-way K-shot clip episodes")
    p.add_argument("--model", required=True, help="a .keras file from `hgzoo action train`")
    p.add_argument("--data", required=True, help="folder with one sub-folder of videos / frame folders per class")
    p.add_argument("--episodes", type=int, default=600, help="episodes to average (default 600)")
    p.add_argument("--output", help="also write the result (and per-episode accuracies) as JSON here")
    _add_episode_arguments(p)
    p.set_defaults(func=evaluate)

    p = actions.add_parser("predict", help="name the action of query videos from a few labelled examples")
    p.add_argument("--model", required=True, help="a .keras file from `hgzoo action train`")
    p.add_argument("--support", required=True, help="folder with one sub-folder of example clips per class")
    p.add_argument("--query", required=True, nargs="+", help="videos, frame folders, or folders of them")
    p.add_argument("--output", help="also write the predictions as JSON here")
    p.set_defaults(func=predict)
