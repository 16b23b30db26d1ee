"""``hgzoo dualpixel simulate|train|predict``: dual-pixel simulation, DDDNet training and inference.

Examples::

    hgzoo dualpixel simulate photo.png photo_depth.npy --focus 1.5 --f-number 2 -o out/   # out/left.png, right.png
    hgzoo dualpixel train --data motorcycle my_rgbd_folder/ --out runs/dddnet --width 0.25
    hgzoo dualpixel predict --model runs/dddnet/model.keras --left L.png --right R.png -o out/
    hgzoo dualpixel predict --model runs/dddnet/model.keras --pixel4 DP_data_pixel_4/ --scene 001 -o out/

``--data`` takes ``motorcycle`` (the Middlebury pair bundled in scikit-image)
and folders of ``NAME.png`` with ``NAME_depth.npy`` (metres) or
``NAME_depth.png`` (16-bit millimetres). Killing ``train`` and running the
same command again resumes it.

Example:

>>> from hgzoo.cli.main import build_parser
>>> args = build_parser().parse_args(["dualpixel", "train", "--data", "motorcycle", "--out", "run"])
>>> args.width, args.crop, args.epochs
(1.0, 128, 10)
"""

import os

import numpy as np


def _write(path, array):
    from hgzoo.data.images import write_image

    write_image(path, np.clip(np.round(np.asarray(array) * 255.0), 0, 255).astype(np.uint8))


def simulate(args):
    """Render left/right views of an image and its depth map."""
    from hgzoo.data.images import read_image, to_float_rgb
    from hgzoo.dualpixel.simulate import Camera, simulate as render

    image, _ = to_float_rgb(read_image(args.image), "image")
    depth = np.load(args.depth, allow_pickle=False) if args.depth.endswith(".npy") else \
        read_image(args.depth).astype("float64") / 1000.0
    camera = Camera(args.focal_length, args.f_number, args.focus, args.pixel_pitch, max_radius=args.max_radius)
    left, right, radius = render(image[None], np.asarray(depth, "float64")[None], camera, read_noise=args.noise)
    os.makedirs(args.output, exist_ok=True)
    _write(os.path.join(args.output, "left.png"), left[0])
    _write(os.path.join(args.output, "right.png"), right[0])
    np.save(os.path.join(args.output, "blur_radius.npy"), np.asarray(radius)[0])
    print(f"wrote left.png, right.png, blur_radius.npy to {args.output}")


def _sources(data):
    from hgzoo.dualpixel.data import motorcycle, rgbd_folder

    sources = []
    for item in data:
        sources.extend([motorcycle()] if item == "motorcycle" else rgbd_folder(item))
    return sources


def train(args):
    """Train DDDNet on pairs simulated on the fly, resumably."""
    import keras

    from hgzoo.dualpixel import DDDNet
    from hgzoo.dualpixel.data import dual_pixel_dataset
    from hgzoo.training import fit_resumable

    if args.mixed_precision:
        keras.config.set_dtype_policy("mixed_float16")
    model = DDDNet(width=args.width)
    model.compile(optimizer=keras.optimizers.Adam(args.lr))
    dataset = dual_pixel_dataset(_sources(args.data), crop=args.crop, batch_size=args.batch_size,
                                 grayscale=args.grayscale)
    fit_resumable(model, dataset, args.out, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch)
    model.save(os.path.join(args.out, "model.keras"))
    print(f"saved {os.path.join(args.out, 'model.keras')}")


def predict(args):
    """All-in-focus image and disparity from a DP pair (PNG files or a Pixel-4 scene)."""
    import keras

    from hgzoo.data.images import read_image, to_float_rgb
    from hgzoo.dualpixel import read_pixel4_scene, restore

    if args.pixel4:
        left, right = read_pixel4_scene(args.pixel4, args.scene)
    elif args.left and args.right:
        left, right = (to_float_rgb(read_image(p), p)[0] for p in (args.left, args.right))
    else:
        raise SystemExit("hgzoo dualpixel predict: give --left and --right, or --pixel4 FOLDER --scene ID")
    model = keras.saving.load_model(args.model)
    image, disparity = restore(model, left, right, tile=args.tile)
    os.makedirs(args.output, exist_ok=True)
    _write(os.path.join(args.output, "image.png"), image)
    np.save(os.path.join(args.output, "disparity.npy"), disparity)
    span = max(float(disparity.max() - disparity.min()), 1e-6)
    _write(os.path.join(args.output, "disparity.png"), (disparity - disparity.min()) / span)
    print(f"wrote image.png, disparity.npy, disparity.png to {args.output}")


def add_actions(actions):
    """Add simulate, train and predict to ``hgzoo dualpixel`` (``actions``: its argparse sub-parsers)."""
    p = actions.add_parser("simulate", help="render dual-pixel left/right views from an image and its depth")
    p.add_argument("image")
    p.add_argument("depth", help="depth map: .npy in metres or 16-bit PNG in millimetres")
    p.add_argument("--focus", type=float, required=True, help="focus distance in metres")
    p.add_argument("--f-number", type=float, default=2.0)
    p.add_argument("--focal-length", type=float, default=4.38, help="millimetres (default: a phone's 4.38)")
    p.add_argument("--pixel-pitch", type=float, default=1.4, help="micrometres (default 1.4)")
    p.add_argument("--max-radius", type=int, default=8, help="largest blur radius in pixels (default 8)")
    p.add_argument("--noise", type=float, default=0.0, help="read-noise standard deviation (default 0)")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.set_defaults(func=simulate)

    p = actions.add_parser("train", help="train DDDNet on dual-pixel pairs simulated from RGB-D data, resumably")
    p.add_argument("--data", nargs="+", required=True, help="'motorcycle' and/or folders of RGB + NAME_depth files")
    p.add_argument("--out", required=True, help="run folder: model.keras, weights, logs, resume state")
    p.add_argument("--width", type=float, default=1.0, help="channel multiplier (default 1: the published widths)")
    p.add_argument("--crop", type=int, default=128, help="training crop side, a multiple of 8, >= 64 (default 128)")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--steps-per-epoch", type=int, default=100)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--grayscale", action="store_true", help="train on the green channel (for Pixel-4 DP data)")
    p.add_argument("--mixed-precision", action="store_true", help="mixed_float16 compute")
    p.set_defaults(func=train)

    p = actions.add_parser("predict", help="all-in-focus image and defocus disparity from a dual-pixel pair")
    p.add_argument("--model", required=True, help="a DDDNet .keras file")
    p.add_argument("--left")
    p.add_argument("--right")
    p.add_argument("--pixel4", help="folder of Pixel-4 DP captures (SCENE_left.png, SCENE_right.png)")
    p.add_argument("--scene", default="001")
    p.add_argument("--tile", type=int, default=256, help="tile side for large images (default 256)")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.set_defaults(func=predict)
