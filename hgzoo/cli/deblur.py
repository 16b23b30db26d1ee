"""``hgzoo deblur run|train|tune``: deblur image files, train a model resumably, sweep hyperparameters.

Examples::

    hgzoo deblur run photo.jpg more/*.png -o out --model stack_mpn_4_gopro --compare
    hgzoo deblur photo.jpg                    # the same: 'run' is the default action
    hgzoo deblur train --data GOPRO_Large/train --out runs/dmphn --epochs 100
    hgzoo deblur train --pairs blur_dir sharp_dir --model stack_mpn --num-stages 2 --out runs/s2
    hgzoo deblur train --synthetic photos_dir --model dmphn_1_2_4_gopro --pretrained --out runs/ft
    hgzoo deblur tune --data GOPRO_Large/train --model dmphn --tuner bayesian --max-trials 10 --out sweeps/d

The word after ``deblur`` is an action when it names one (``run``, ``train``,
``tune``); anything else means ``run``. To deblur an image file named like an
action, write ``hgzoo deblur run train`` or ``hgzoo deblur ./train``.
Killing ``train`` and running the same command again resumes training.

Example:

>>> from hgzoo.cli.main import build_parser
>>> args = build_parser().parse_args(["deblur", "run", "a.png", "b.png", "-o", "out"])
>>> args.inputs, args.output, args.model
(['a.png', 'b.png'], 'out', 'stack_mpn_4_gopro')
"""

import glob
import os

from hgzoo.tuning.sweep import TUNERS

DEFAULT_ACTION = "run"


def run(args):
    import keras
    import numpy as np

    import hgzoo
    from hgzoo.cli.general import side_by_side
    from hgzoo.data.images import from_float, read_image, to_float_rgb, write_image

    def as_rgb8(image):
        x, info = to_float_rgb(image)
        return from_float(x, type(info)(np.dtype(np.uint8), 3))

    model = hgzoo.create_model(args.model, pretrained=True)
    os.makedirs(args.output, exist_ok=True)
    bar = keras.utils.Progbar(len(args.inputs), unit_name="image") if len(args.inputs) > 1 else None
    for i, path in enumerate(args.inputs):
        image = read_image(path)
        result = hgzoo.deblur.deblur(model, image, tile=args.tile or "auto", progress=bar is None)
        stem = os.path.splitext(os.path.basename(path))[0]
        out = write_image(os.path.join(args.output, f"{stem}.png"), result)
        if args.compare:
            write_image(os.path.join(args.output, f"{stem}_compare.png"), side_by_side(as_rgb8(image), as_rgb8(result)))
        if bar:
            bar.update(i + 1)
        else:
            print(out)
    return 0


def build_dataset(args, seed=None):
    """The training stream that ``--data`` / ``--pairs`` / ``--synthetic`` describe."""
    from hgzoo.deblur.data import deblur_pairs

    seed = args.seed if seed is None else seed
    if args.data or args.pairs:
        pairs = deblur_pairs.gopro_pairs(args.data) if args.data else deblur_pairs.folder_pairs(*args.pairs)
        return deblur_pairs.training_dataset(pairs, crop=args.crop, batch_size=args.batch_size, seed=seed)
    files = sorted(p for p in glob.glob(os.path.join(args.synthetic, "*"))
                   if p.lower().endswith(deblur_pairs.IMAGE_EXTENSIONS))
    photos = deblur_pairs.load_photos(files, min_side=args.crop + 32)
    return deblur_pairs.synthetic_pairs(photos, crop=args.crop, batch_size=args.batch_size, seed=seed)


def _model_kwargs(args):
    kwargs = {}
    if args.levels:
        kwargs["levels"] = tuple(int(v) for v in args.levels.split(","))
    if args.num_stages:
        kwargs["num_stages"] = args.num_stages
    return kwargs


def train(args):
    import contextlib

    import keras

    import hgzoo
    from hgzoo.distribute import is_chief, make_strategy
    from hgzoo.training import fit_resumable

    keras.mixed_precision.set_global_policy(args.mixed_precision)
    keras.utils.set_random_seed(args.seed)
    strategy = make_strategy(args.strategy)
    ds = build_dataset(args)
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = hgzoo.create_model(args.model, pretrained=args.pretrained, **_model_kwargs(args))
        model.compile(optimizer=keras.optimizers.Adam(args.lr), self_supervision=args.self_supervision or None)
    fit_resumable(model, ds, args.out, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch)
    out = args.out if is_chief() else os.path.join(args.out, "worker-final")
    os.makedirs(out, exist_ok=True)
    final = os.path.join(out, "final.weights.h5")
    model.save_weights(final)
    print(f"weights: {final}  (load with {type(model).__name__}(pretrained={final!r}, ...))")
    return 0


def tune(args):
    import keras_tuner

    import hgzoo
    from hgzoo.models.search_space import Float
    from hgzoo.tuning.sweep import make_tuner, results_table

    cls = hgzoo.get_model_class(args.model)
    hypermodel = hgzoo.tuning.HyperModel(cls, train_space={"learning_rate": Float(1e-5, 1e-3, "log")})
    train_data = build_dataset(args)
    val = build_dataset(args, seed=args.seed + 1).take(args.validation_steps).cache()
    tuner = make_tuner(args.tuner, hypermodel, keras_tuner.Objective("val_loss", "min"), args.max_trials,
                       args.out, not args.resume, args.epochs)
    tuner.search(train_data, validation_data=val, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch, verbose=1)
    print(results_table(tuner))
    best = hypermodel.model_kwargs(tuner.get_best_hyperparameters()[0])
    print(f"best: hgzoo.deblur.{cls.__name__}(**{best})")
    return 0


def _add_data_arguments(p):
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="GoPro layout folder (GOPRxxxx/blur, GOPRxxxx/sharp)")
    src.add_argument("--pairs", nargs=2, metavar=("BLUR_DIR", "SHARP_DIR"), help="two folders, files matched by name")
    src.add_argument("--synthetic", metavar="PHOTOS_DIR", help="sharp photos; blur is synthetic camera shake")
    p.add_argument("--batch-size", type=int, default=2)
    p.add_argument("--crop", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)


def add_actions(actions):
    """Add run, train and tune to ``hgzoo deblur`` (``actions``: its argparse sub-parsers)."""
    p = actions.add_parser("run", help="deblur image files (the default: 'hgzoo deblur IMG...')")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("-o", "--output", default="deblurred", help="output folder (default: ./deblurred)")
    p.add_argument("--model", default="stack_mpn_4_gopro", help="preset id (default: stack_mpn_4_gopro)")
    p.add_argument("--tile", type=int, default=0, help="tile side for large images (default: auto)")
    p.add_argument("--compare", action="store_true", help="also write <stem>_compare.png side by side")
    p.set_defaults(func=run)

    p = actions.add_parser("train", help="train or fine-tune a deblurring model with model.fit, resumably")
    _add_data_arguments(p)
    p.add_argument("--model", default="dmphn", help="architecture or preset id (default: dmphn)")
    p.add_argument("--pretrained", action="store_true", help="start from the preset's weights (fine-tune)")
    p.add_argument("--levels", default=None, help="DMPHN levels, e.g. 1,2,4")
    p.add_argument("--num-stages", type=int, default=None, help="StackMPN stages")
    p.add_argument("--out", required=True, help="run folder: checkpoints, backup (resume), logs")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--steps-per-epoch", type=int, default=200)
    p.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (published: 1e-4)")
    p.add_argument("--self-supervision", action="store_true",
                   help="add rotation/rescaling equivariance and noise invariance losses (hgzoo.deblur.SelfSupervision)")
    p.add_argument("--mixed-precision", choices=["float32", "mixed_float16", "mixed_bfloat16"], default="float32")
    p.add_argument("--strategy", choices=["none", "mirrored", "multi-worker"], default="none",
                   help="tf.distribute data parallelism: all local GPUs, or workers from TF_CONFIG")
    p.set_defaults(func=train)

    p = actions.add_parser("tune", help="Keras Tuner sweep over DMPHN / StackMPN hyperparameters")
    _add_data_arguments(p)
    p.add_argument("--model", default="dmphn", choices=["dmphn", "stack_mpn"], help="architecture to sweep")
    p.add_argument("--tuner", default="random", choices=TUNERS)
    p.add_argument("--max-trials", type=int, default=10, help="trials (hyperband: its max_epochs budget)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--steps-per-epoch", type=int, default=50)
    p.add_argument("--validation-steps", type=int, default=10)
    p.add_argument("--out", required=True, help="tuner project folder")
    p.add_argument("--resume", action="store_true", help="continue an earlier sweep instead of starting over")
    p.set_defaults(func=tune)
