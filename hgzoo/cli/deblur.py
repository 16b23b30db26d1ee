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

from hgzoo.files import replace_atomically
from hgzoo.tuning.sweep import TUNERS

DEFAULT_ACTION = "run"


def output_plan(inputs, folder, compare=False, overwrite=False):
    """``[(input, [output, compare output?]), ...]`` for ``hgzoo deblur run``, or an error if it would lose data.

    Each input ``dir/name.ext`` becomes ``folder/name.png`` (and
    ``folder/name_compare.png``). Refused before any work: an output that is
    an input (by path or by file identity: links, case), two inputs mapping
    to one output, an existing output without ``overwrite``, an output
    folder that is a file or not writable. The same input given twice is
    deblurred once.
    """
    from hgzoo.errors import OutputPathError

    def key(path):  # names that differ only in case are one file on macOS and Windows: treat them as one
        return os.path.normcase(os.path.realpath(path)).casefold()

    def identity(path):
        st = os.stat(path)
        return st.st_dev, st.st_ino

    _check_output_folder(folder)
    first = {}
    for path in inputs:
        first.setdefault(os.path.realpath(path), path)
    unique = list(first.values())
    files = [path for path in unique if os.path.isfile(path)]  # the others fail when read, writing nothing
    input_keys = {key(path): path for path in files}
    input_files = {identity(path): path for path in files}
    plan, owner, existing = [], {}, []
    for path in unique:
        stem = os.path.splitext(os.path.basename(os.path.normpath(path)))[0]
        outs = [os.path.join(folder, f"{stem}{suffix}.png") for suffix in ("", "_compare")[:1 + bool(compare)]]
        for out in outs if os.path.isfile(path) else ():
            same = input_keys.get(key(out)) or (os.path.isfile(out) and input_files.get(identity(out)))
            if same:
                raise OutputPathError(f"{out} would replace the input {same}; hgzoo never overwrites an input: "
                                      "choose another output folder (-o)")
            if key(out) in owner:
                raise OutputPathError(f"{owner[key(out)]} and {path} would both be written to {out}; "
                                      "deblur them into different output folders (-o)")
            owner[key(out)] = path
            if os.path.isdir(out):
                raise OutputPathError(f"{out}: is a folder; move it away to write the output")
            if os.path.lexists(out) and not overwrite:
                existing.append(out)
        plan.append((path, outs))
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise OutputPathError(f"{existing[0]} exists{more}; pass --overwrite to replace existing outputs")
    return plan


def _check_output_folder(folder):
    """A clear error now if ``folder`` cannot be a writable folder (not after deblurring every image)."""
    from hgzoo.errors import OutputPathError

    existing = os.path.abspath(folder)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise OutputPathError(f"{folder}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputPathError(f"{folder}: permission denied; cannot write in {existing}")


def run(args):
    import keras
    import numpy as np

    import hgzoo
    from hgzoo.cli.general import load_model, side_by_side
    from hgzoo.data.images import check_image_path, from_float, read_image, to_float_rgb, write_image
    from hgzoo.errors import HgzooError

    def as_rgb8(image):
        x, info = to_float_rgb(image)
        return from_float(x, type(info)(np.dtype(np.uint8), 3))

    plan = output_plan(args.inputs, args.output, args.compare, args.overwrite)
    problems = []
    for path, _ in plan:
        try:
            check_image_path(path)
        except HgzooError as e:
            problems.append(e)
    if len(problems) == len(plan):  # nothing to deblur: say why before loading a model (or failing to fetch one)
        raise problems[0] if len(plan) == 1 else HgzooError("no input is an image file: " + "; ".join(map(str, problems)))
    model = load_model(args.model)
    if getattr(model, "task", None) != "deblur":
        raise ValueError(f"{args.model} is not a deblurring model; see 'hgzoo list --task deblur'")
    bar = keras.utils.Progbar(len(plan), unit_name="image") if len(plan) > 1 else None
    failures = []
    for i, (path, outs) in enumerate(plan):
        try:
            image = read_image(path)
            result = hgzoo.deblur.deblur(model, image, tile=args.tile or "auto", progress=bar is None,
                                         precision=args.precision)
            write_image(outs[0], result)
            if args.compare:
                write_image(outs[1], side_by_side(as_rgb8(image), as_rgb8(result)))
            if not bar:
                print(outs[0])
        except (HgzooError, OSError, ValueError) as e:  # one bad file must not stop the batch
            failures.append((e, str(e) if str(e).startswith(path) else f"{path}: {e}"))
        if bar:
            bar.update(i + 1)
    if len(plan) == 1 and failures:
        (error, message), = failures
        raise error if message == str(error) else HgzooError(message) from error
    if failures:
        raise HgzooError(f"{len(failures)} of {len(plan)} images failed: " + "; ".join(m for _, m in failures))
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
    replace_atomically(final, model.save_weights, suffix=".weights.h5")
    print(f"weights: {final}  (load with {type(model).__name__}(pretrained={final!r}, ...))")
    return 0


def tune(args):
    import hgzoo
    from hgzoo.config import require
    from hgzoo.models.search_space import Float
    from hgzoo.tuning.sweep import make_tuner, results_table

    keras_tuner = require("keras_tuner", "tune")
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
    p = actions.add_parser(
        "run", help="deblur image files (the default: 'hgzoo deblur IMG...')",
        description="Deblur image files: each INPUT dir/NAME.ext becomes OUT/NAME.png, at the input's bit depth "
                    "(16-bit and float inputs give 16-bit PNGs), upright by its EXIF orientation.",
        epilog="Nothing is lost: an input is never overwritten (an output that would replace one is refused: "
               "choose another -o), two inputs with the same NAME are refused, an existing output is replaced "
               "only with --overwrite, and every output is written atomically. A file that fails is reported at "
               "the end, after the others are written (exit status 2).")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("-o", "--output", default="deblurred", metavar="OUT",
                   help="output folder (default: ./deblurred); it must not be where an output would replace an input")
    p.add_argument("--model", default="stack_mpn_4_gopro",
                   help="preset id or a .keras file (default: stack_mpn_4_gopro)")
    p.add_argument("--tile", type=int, default=0, help="tile side for large images (default: auto)")
    p.add_argument("--precision", choices=["auto", "float32", "bfloat16"], default="auto",
                   help="auto (default): bfloat16 for 8-bit images on hardware that runs it natively and faster "
                        "(CPU AMX/AVX512-BF16 or a GPU, checked once per machine and cached), else float32; "
                        "16-bit images stay float32")
    p.add_argument("--compare", action="store_true", help="also write NAME_compare.png side by side")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs (never an input)")
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
