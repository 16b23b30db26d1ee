"""The ``hgzoo`` command line: models, weights, deblurring, demo, training, text classification.

Run ``hgzoo --help`` or ``hgzoo VERB --help``.
"""

import argparse
import json
import os
import sys


def _quiet_tensorflow():
    """Import keras (and TensorFlow) without TensorFlow's start-up log lines on stderr.

    Those lines are printed by C++ before any Python logging setting applies,
    so stderr is pointed at /dev/null for the import only; errors still raise.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def markdown_table():
    """The README's model table, generated from the registry and the manifest."""
    import hgzoo
    from hgzoo.weights import manifest

    rows = ["| name | class | task | weights | size | measured |", "|---|---|---|---|---|---|"]
    for name in hgzoo.list_models():
        cls = hgzoo.get_model_class(name)
        preset = manifest.all_presets().get(name)
        if preset is None:
            rows.append(f"| `{name}` | `{cls.__name__}` | {cls.task} | random init | | |")
            continue
        source = "authors' checkpoint, converted locally" if preset.converter else "hgzoo-trained, packaged"
        measured = ", ".join(f"{k} {v}" for k, v in preset.metrics.items())
        rows.append(f"| `{name}` | `{cls.__name__}` | {cls.task} | {source} | "
                    f"{preset.total_size / 1e6:.1f} MB | {measured} |")
    return "\n".join(rows) + "\n"


def _cmd_list(args):
    import hgzoo

    if args.markdown:
        print(markdown_table(), end="")
        return
    pretrained = True if args.pretrained else None
    for name in hgzoo.list_models(args.pattern, task=args.task, pretrained=pretrained):
        print(name)


def _cmd_info(args):
    import hgzoo
    from hgzoo.weights import manifest

    presets = manifest.all_presets()
    if args.name in presets:
        info = presets[args.name].as_dict()
        info["class"] = hgzoo.get_model_class(args.name).__name__
    else:
        cls = hgzoo.get_model_class(args.name)
        info = {"class": cls.__name__, "task": cls.task, "registered_name": f"hgzoo>{cls.__name__}",
                "presets": [p.id for p in manifest.presets_for(f"hgzoo>{cls.__name__}")],
                "doc": (cls.__doc__ or "").strip().split("\n")[0]}
    print(json.dumps(info, indent=2))


def _cmd_weights(args):
    from hgzoo.weights import manifest, store

    if args.weights_verb == "list":
        for p in manifest.all_presets().values():
            print(f"{p.id:24s} {p.arch:18s} {p.total_size / 1e6:7.1f} MB  {p.description}")
    elif args.weights_verb == "where":
        for rel, status, path in store.where(args.preset):
            print(f"{status:8s} {rel}  {path}")
    elif args.weights_verb == "download":
        for path in store.download_to(args.preset, args.dest):
            print(path)
        print(f"done; on an offline machine set HGZOO_WEIGHTS_DIR={os.path.abspath(args.dest)}")
    elif args.weights_verb == "verify":
        ids = args.preset or list(manifest.all_presets())
        bad = 0
        for pid in ids:
            for rel, status, path in store.where(pid):
                print(f"{pid}: {status:8s} {rel}")
                bad += status == "corrupt"
        return 1 if bad else 0
    return 0


def _side_by_side(*images):
    import numpy as np

    h = max(im.shape[0] for im in images)
    padded = [np.pad(im, ((0, h - im.shape[0]), (0, 8), (0, 0)), constant_values=255) for im in images]
    return np.concatenate(padded, axis=1)[:, :-8]


def _as_rgb8(image):
    import numpy as np

    from hgzoo.data.images import from_float, to_float_rgb

    x, info = to_float_rgb(image)
    return from_float(x, type(info)(np.dtype(np.uint8), 3))


def _cmd_deblur(args):
    import keras

    import hgzoo
    from hgzoo.data.images import read_image, write_image

    model = hgzoo.create_model(args.model, pretrained=True)
    os.makedirs(args.output, exist_ok=True)
    bar = keras.utils.Progbar(len(args.inputs), unit_name="image") if len(args.inputs) > 1 else None
    for i, path in enumerate(args.inputs):
        image = read_image(path)
        result = hgzoo.deblur.deblur(model, image, tile=args.tile if args.tile else "auto",
                                     progress=bar is None)
        stem = os.path.splitext(os.path.basename(path))[0]
        out = write_image(os.path.join(args.output, f"{stem}.png"), result)
        if args.compare:
            write_image(os.path.join(args.output, f"{stem}_compare.png"),
                        _side_by_side(_as_rgb8(image), _as_rgb8(result)))
        if bar:
            bar.update(i + 1)
        else:
            print(out)
    return 0


def _cmd_demo(args):
    import numpy as np

    import hgzoo
    from hgzoo.data.images import read_image, write_image
    from hgzoo.deblur.demo import best_local_preset, sample_paths

    preset = best_local_preset()
    print(f"Using preset {preset} (best weights available locally; no download)")
    model = hgzoo.create_model(preset, pretrained=True)
    blurry_path, sharp_path = sample_paths()
    blurry, sharp = read_image(blurry_path), read_image(sharp_path)
    result = hgzoo.deblur.deblur(model, blurry)
    os.makedirs(args.output, exist_ok=True)
    out = write_image(os.path.join(args.output, "demo_deblurred.png"), result)
    compare = write_image(os.path.join(args.output, "demo_compare.png"), _side_by_side(blurry, result, sharp))

    def psnr(a):
        return 10 * np.log10(255.0**2 / np.mean((a.astype(np.float64) - sharp) ** 2))

    print(f"PSNR against the sharp photo: blurry {psnr(blurry):.2f} dB -> deblurred {psnr(result):.2f} dB")
    print(f"Deblurred image: {os.path.abspath(out)}")
    print(f"Side by side (blurry | deblurred | sharp): {os.path.abspath(compare)}")
    return 0


def _cmd_export(args):
    import hgzoo

    if args.model.endswith(".keras"):
        import keras

        model = keras.saving.load_model(args.model)
    else:
        model = hgzoo.create_model(args.model, pretrained=True)
    path = hgzoo.export.export_for_serving(model, args.base_dir, version=args.version, input_dtype=args.dtype,
                                           overwrite=args.overwrite)
    print(f"SavedModel for TF Serving: {os.path.abspath(path)}")
    print(f"  docker run -p 8501:8501 -v {os.path.abspath(args.base_dir)}:/models/{args.name} "
          f"-e MODEL_NAME={args.name} tensorflow/serving")
    return 0


def _cmd_train(args):
    from hgzoo.deblur.train_cli import run_training

    return run_training(args)


def _cmd_tune(args):
    from hgzoo.deblur.tune_cli import run_tuning

    return run_tuning(args)


def _cmd_text(args):
    from hgzoo.text import cli

    return cli.run_train(args) if args.text_verb == "train" else cli.run_predict(args)


def build_parser():
    parser = argparse.ArgumentParser(prog="hgzoo", description="hgzoo: Keras 3 model zoo (Zhang, Koniusz et al.)")
    from hgzoo.version import __version__

    parser.add_argument("--version", action="version", version=f"hgzoo {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")

    p = verbs.add_parser("list", help="list models and presets")
    p.add_argument("pattern", nargs="?", help="wildcard, e.g. 'dmphn*'")
    p.add_argument("--task", help="only this family, e.g. deblur")
    p.add_argument("--pretrained", action="store_true", help="only presets with weights")
    p.add_argument("--markdown", action="store_true", help="print the README's model table")
    p.set_defaults(func=_cmd_list)

    p = verbs.add_parser("info", help="show a model or preset (config, files, licence, metrics)")
    p.add_argument("name")
    p.set_defaults(func=_cmd_info)

    p = verbs.add_parser("weights", help="manage weight files: list, where, download, verify")
    wverbs = p.add_subparsers(dest="weights_verb", metavar="ACTION", required=True)
    wverbs.add_parser("list", help="every preset with its size")
    w = wverbs.add_parser("where", help="where each file of a preset is found")
    w.add_argument("preset")
    w = wverbs.add_parser("download", help="download a preset's files into DEST (mirror layout)")
    w.add_argument("preset")
    w.add_argument("--dest", required=True, help="folder to fill; use it as HGZOO_WEIGHTS_DIR offline")
    w = wverbs.add_parser("verify", help="check the sha256 of every local copy")
    w.add_argument("preset", nargs="*")
    p.set_defaults(func=_cmd_weights)

    p = verbs.add_parser("deblur", help="deblur image files")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("-o", "--output", default="deblurred", help="output folder (default: ./deblurred)")
    p.add_argument("--model", default="stack_mpn_4_gopro", help="preset id (default: stack_mpn_4_gopro)")
    p.add_argument("--tile", type=int, default=0, help="tile side for large images (default: auto)")
    p.add_argument("--compare", action="store_true", help="also write <stem>_compare.png side by side")
    p.set_defaults(func=_cmd_deblur)

    p = verbs.add_parser("demo", help="deblur the packaged sample photo offline and show the result")
    p.add_argument("-o", "--output", default="hgzoo_demo", help="output folder (default: ./hgzoo_demo)")
    p.set_defaults(func=_cmd_demo)

    p = verbs.add_parser("export", help="write a SavedModel for TF Serving (BASE_DIR/VERSION/)")
    p.add_argument("model", metavar="MODEL_OR_PRESET", help="preset id (its weights) or a .keras file")
    p.add_argument("base_dir", metavar="BASE_DIR")
    p.add_argument("--version", type=int, default=1, help="version folder (default 1; never overwritten)")
    p.add_argument("--dtype", choices=["float32", "uint8"], default="float32",
                   help="input pixels: float32 in [0, 1] or uint8 0-255 (uint8 out too)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing version folder")
    p.add_argument("--name", default="hgzoo", help="model name in the printed docker command")
    p.set_defaults(func=_cmd_export)

    p = verbs.add_parser("train", help="train a model (task: deblur)")
    tverbs = p.add_subparsers(dest="task", metavar="TASK", required=True)
    from hgzoo.deblur.train_cli import add_arguments

    add_arguments(tverbs.add_parser("deblur", help="train a deblurring model with model.fit"))
    p.set_defaults(func=_cmd_train)

    p = verbs.add_parser("tune", help="Keras Tuner sweep over a model's search space (task: deblur)")
    tverbs = p.add_subparsers(dest="task", metavar="TASK", required=True)
    from hgzoo.deblur import tune_cli

    tune_cli.add_arguments(tverbs.add_parser("deblur", help="sweep DMPHN / StackMPN hyperparameters"))
    p.set_defaults(func=_cmd_tune)

    p = verbs.add_parser("text", help="text classification with LLMEmbed: train, predict")
    from hgzoo.text import cli as text_cli

    text_cli.add_arguments(p.add_subparsers(dest="text_verb", metavar="ACTION", required=True))
    p.set_defaults(func=_cmd_text)
    return parser


def main(argv=None):
    _quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from hgzoo.errors import HgzooError

    try:
        return args.func(args) or 0
    except (HgzooError, FileNotFoundError, FileExistsError, ValueError) as e:
        print(f"hgzoo {args.verb}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
