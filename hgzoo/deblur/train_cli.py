"""``hgzoo train deblur``: train or fine-tune a deblurring model, resumably.

Examples::

    hgzoo train deblur --data GOPRO_Large/train --out runs/dmphn --epochs 100
    hgzoo train deblur --pairs blur_dir sharp_dir --model stack_mpn --num-stages 2 --out runs/s2
    hgzoo train deblur --synthetic photos_dir --model dmphn_1_2_4_gopro --pretrained --out runs/ft

Killing the process and running the same command again resumes training.
"""

import glob
import os


def add_data_arguments(p):
    """--data / --pairs / --synthetic, plus crop, batch size and seed."""
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="GoPro layout folder (GOPRxxxx/blur, GOPRxxxx/sharp)")
    src.add_argument("--pairs", nargs=2, metavar=("BLUR_DIR", "SHARP_DIR"), help="two folders, files matched by name")
    src.add_argument("--synthetic", metavar="PHOTOS_DIR", help="sharp photos; blur is synthetic camera shake")
    p.add_argument("--batch-size", type=int, default=2)
    p.add_argument("--crop", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)


def add_arguments(p):
    add_data_arguments(p)
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


def _model_kwargs(args):
    kwargs = {}
    if args.levels:
        kwargs["levels"] = tuple(int(v) for v in args.levels.split(","))
    if args.num_stages:
        kwargs["num_stages"] = args.num_stages
    return kwargs


def build_dataset(args, seed=None):
    """The training stream the --data / --pairs / --synthetic arguments describe."""
    from hgzoo.data import deblur_pairs

    seed = args.seed if seed is None else seed
    if args.data:
        return deblur_pairs.training_dataset(deblur_pairs.gopro_pairs(args.data), crop=args.crop,
                                             batch_size=args.batch_size, seed=seed)
    if args.pairs:
        return deblur_pairs.training_dataset(deblur_pairs.folder_pairs(*args.pairs), crop=args.crop,
                                             batch_size=args.batch_size, seed=seed)
    files = sorted(p for p in glob.glob(os.path.join(args.synthetic, "*"))
                   if p.lower().endswith(deblur_pairs.IMAGE_EXTENSIONS))
    photos = deblur_pairs.load_photos(files, min_side=args.crop + 32)
    return deblur_pairs.synthetic_pairs(photos, crop=args.crop, batch_size=args.batch_size, seed=seed)


def run_training(args):
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
