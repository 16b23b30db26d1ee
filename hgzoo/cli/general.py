"""The commands that work on any model: ``hgzoo list``, ``info``, ``weights``, ``export`` and ``demo``.

Example:

>>> from hgzoo.cli.main import build_parser
>>> args = build_parser().parse_args(["weights", "where", "sosn_omniglot"])
>>> args.func.__name__, args.preset
('weights', 'sosn_omniglot')
"""

import json
import os

from hgzoo.cli.startup import import_models


def list_(args):
    from hgzoo.cli.listing import list_models, markdown_table

    if args.markdown:
        import_models()
        print(markdown_table(), end="")
        return 0
    for name in list_models(args.pattern, task=args.task, pretrained=True if args.pretrained else None):
        print(name)
    return 0


def info(args):
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
    return 0


def weights(args):
    from hgzoo.weights import manifest, store

    if args.weights_action == "list":
        for p in manifest.all_presets().values():
            print(f"{p.id:24s} {p.arch:18s} {p.total_size / 1e6:7.1f} MB  {p.description}")
    elif args.weights_action == "where":
        for rel, status, path in store.where(args.preset):
            print(f"{status:8s} {rel}  {path}")
    elif args.weights_action == "download":
        for path in store.download_to(args.preset, args.dest):
            print(path)
        print(f"done; on an offline machine set HGZOO_WEIGHTS_DIR={os.path.abspath(args.dest)}")
    else:
        bad = 0
        for pid in args.preset or list(manifest.all_presets()):
            for rel, status, path in store.where(pid):
                print(f"{pid}: {status:8s} {rel}")
                bad += status == "corrupt"
        return 1 if bad else 0
    return 0


def load_model(name):
    """A ``.keras`` file, or a preset id / architecture name with its pretrained weights."""
    import hgzoo

    if name.endswith(".keras"):
        import keras

        if not os.path.isfile(name):
            raise FileNotFoundError(f"{name}: no such file")
        return keras.saving.load_model(name)
    return hgzoo.create_model(name, pretrained=True)


def export(args):
    import hgzoo

    model = load_model(args.model)
    path = hgzoo.export.export_for_serving(model, args.base_dir, version=args.version, input_dtype=args.dtype,
                                           overwrite=args.overwrite)
    print(f"SavedModel for TF Serving: {os.path.abspath(path)}")
    print(f"  docker run -p 8501:8501 -v {os.path.abspath(args.base_dir)}:/models/{args.name} "
          f"-e MODEL_NAME={args.name} tensorflow/serving")
    return 0


def side_by_side(*images):
    """uint8 (H, W, 3) images next to each other, 8 white pixels apart, padded to the tallest."""
    import numpy as np

    h = max(im.shape[0] for im in images)
    padded = [np.pad(im, ((0, h - im.shape[0]), (0, 8), (0, 0)), constant_values=255) for im in images]
    return np.concatenate(padded, axis=1)[:, :-8]


def demo(args):
    import hgzoo
    from hgzoo.data.images import read_image, write_image
    from hgzoo.deblur.demo import best_local_preset, sample_paths, stored_results, weights_report
    from hgzoo.deblur.precision import resolve

    preset = args.model or best_local_preset()
    print(f"Using preset {preset}" + ("" if args.model else " (best weights available locally; no download)"))
    model = hgzoo.create_model(preset, pretrained=True)
    if getattr(model, "task", None) != "deblur":
        raise ValueError(f"--model {preset} is not a deblurring preset; see 'hgzoo list --task deblur --pretrained'")
    blurry_path, sharp_path = sample_paths()
    blurry, sharp = read_image(blurry_path), read_image(sharp_path)
    precision = resolve(args.precision, blurry.dtype, blurry.shape[0] * blurry.shape[1], model)
    print("\n".join(weights_report(preset, precision, stored_results())))
    print(f"Precision: {precision} (--precision {args.precision})")
    result = hgzoo.deblur.deblur(model, blurry, precision=precision)
    os.makedirs(args.output, exist_ok=True)
    out = write_image(os.path.join(args.output, "demo_deblurred.png"), result)
    compare = write_image(os.path.join(args.output, "demo_compare.png"), side_by_side(blurry, result, sharp))

    def psnr(image):
        return float(hgzoo.metrics.psnr(sharp, image, max_value=255))

    print(f"PSNR against the sharp photo: blurry {psnr(blurry):.2f} dB -> deblurred {psnr(result):.2f} dB")
    print(f"Deblurred image: {os.path.abspath(out)}")
    print(f"Side by side (blurry | deblurred | sharp): {os.path.abspath(compare)}")
    return 0


def add_commands(commands):
    """Add list, info, weights, export and demo to the ``hgzoo`` sub-parsers ``commands``."""
    p = commands.add_parser("list", help="list models and presets")
    p.add_argument("pattern", nargs="?", help="wildcard, e.g. 'dmphn*'")
    p.add_argument("--task", help="only this family, e.g. deblur")
    p.add_argument("--pretrained", action="store_true", help="only presets with weights")
    p.add_argument("--markdown", action="store_true", help="print the README's model table")
    p.set_defaults(func=list_, light=True)

    p = commands.add_parser("info", help="show a model or preset (config, files, licence, metrics)")
    p.add_argument("name")
    p.set_defaults(func=info)

    p = commands.add_parser("weights", help="manage weight files: list, where, download, verify")
    actions = p.add_subparsers(dest="weights_action", metavar="ACTION", required=True)
    actions.add_parser("list", help="every preset with its size")
    w = actions.add_parser("where", help="where each file of a preset is found")
    w.add_argument("preset")
    w = actions.add_parser("download", help="download a preset's files into DEST (mirror layout)")
    w.add_argument("preset")
    w.add_argument("--dest", required=True, help="folder to fill; use it as HGZOO_WEIGHTS_DIR offline")
    w = actions.add_parser("verify", help="check the sha256 of every local copy")
    w.add_argument("preset", nargs="*")
    p.set_defaults(func=weights)

    p = commands.add_parser("export", help="write a SavedModel for TF Serving (BASE_DIR/VERSION/)")
    p.add_argument("model", metavar="MODEL_OR_PRESET", help="preset id (its weights) or a .keras file")
    p.add_argument("base_dir", metavar="BASE_DIR")
    p.add_argument("--version", type=int, default=1, help="version folder (default 1; never overwritten)")
    p.add_argument("--dtype", choices=["float32", "uint8"], default="float32",
                   help="input pixels: float32 in [0, 1] or uint8 0-255 (uint8 out too)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing version folder")
    p.add_argument("--name", default="hgzoo", help="model name in the printed docker command")
    p.set_defaults(func=export)

    p = commands.add_parser("demo", help="deblur the packaged sample photo offline and show the result")
    p.add_argument("-o", "--output", default="hgzoo_demo", help="output folder (default: ./hgzoo_demo)")
    p.add_argument("--model", default=None, help="a deblurring preset (downloaded if needed, with a progress bar); "
                   "default: the best one available locally")
    p.add_argument("--precision", choices=["auto", "float32", "bfloat16"], default="auto",
                   help="auto: bfloat16 where the hardware runs it natively and faster (hgzoo.deblur.precision)")
    p.set_defaults(func=demo)
