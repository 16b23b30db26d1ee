"""``hgzoo generation generate``: images of an identity in a requested layout, with the BeyondFacial plug-ins.

Examples::

    hgzoo generation install-parts      # keras-hub (SD3) and gan-face-generate, pinned, --no-deps
    hgzoo generation generate --model runs/idd/model.keras --identity me.npy --layout 0.3,0.3,0.7 -o out/
    hgzoo generation generate --model runs/idd/model.keras --identity a.npy b.npy --layout 0.3,0.5,0.5 \\
        --plugins dli,idaf,idap --background 2 --count 4 -o out/

``--identity`` takes one or more face images (one face each; embedded by
dlib, the ``generation`` extra) or ``.npy`` identity embeddings (128-d dlib
descriptors); several are references of one person, which Identity
Aggregation Prepending aggregates. ``--layout`` is the face box as
``scale,centre_x,centre_y`` (fractions of the frame; the box must lie inside
it). ``generate`` writes ``<out>/generated_<i>.png``.

Example:

>>> from hgzoo.cli.main import build_parser
>>> args = build_parser().parse_args(["generation", "generate", "--model", "m.keras", "--identity", "a.npy",
...                                   "--layout", "0.3,0.5,0.5", "-o", "out"])
>>> args.layout, args.plugins, args.steps, args.guidance
([0.3, 0.5, 0.5], [], 25, 3.0)
"""

import argparse
import functools
import os

import numpy as np

PLUGINS = {"dli": "DualLineInference", "idaf": "IdentityAdaptiveFusion", "idap": "IdentityAggregationPrepending"}


def _layout(text):
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"--layout {text!r}: give scale,centre_x,centre_y, e.g. 0.3,0.5,0.5")
    return values


def _plugins(text):
    names = [n for n in text.split(",") if n]
    unknown = sorted(set(names) - set(PLUGINS))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown plug-in(s) {unknown}: choose from {', '.join(PLUGINS)}")
    return names


def _read_embedding(path, encoder):
    from hgzoo.data.images import read_image
    from hgzoo.errors import InvalidConfigError

    if not path.endswith(".npy"):
        image = read_image(path)  # a bad file is refused before the face models load
        return encoder().embed(image, what=path)
    embedding = np.load(path, allow_pickle=False).astype(np.float32).reshape(-1)
    if not np.any(embedding):
        raise InvalidConfigError(f"{path}: the embedding is all zeros (that input means no identity)")
    return embedding


def generate(args):
    import keras

    from hgzoo import generation
    from hgzoo.data.images import quantise, write_image
    from hgzoo.generation import check_layout, sample

    layout = check_layout([args.layout], "--layout")
    encoder = functools.cache(generation.DlibIdentity)  # built once, only when an image is given
    references = np.stack([_read_embedding(p, encoder) for p in args.identity])
    model = keras.saving.load_model(args.model, compile=False)
    plugins = [getattr(generation, PLUGINS[name])() for name in args.plugins]
    images = sample(model, np.repeat(references[None], args.count, axis=0), np.repeat(layout, args.count, axis=0),
                    np.full(args.count, args.background), steps=args.steps, guidance=args.guidance,
                    plugins=plugins, seed=args.seed)
    os.makedirs(args.out, exist_ok=True)
    for i, image in enumerate(images):
        write_image(os.path.join(args.out, f"generated_{i}.png"), quantise(image))
    print(f"{len(images)} images ({'+'.join(args.plugins) or 'baseline'}, {args.steps} DDIM steps) -> {args.out}")
    return 0


def install_parts(args):
    import sys

    from hgzoo.cli.pip_install import run_pip_commands
    from hgzoo.generation.optional_parts import install_commands

    return run_pip_commands(install_commands(sys.executable), args.print_only)


def add_actions(actions):
    """Add generate and install-parts to ``hgzoo generation`` (``actions``: its argparse sub-parsers)."""
    p = actions.add_parser("generate", help="sample images of an identity in a face layout (PNG files)")
    p.add_argument("--model", required=True, help="a trained IDDiffusion or IDUNet .keras file")
    p.add_argument("--identity", nargs="+", required=True,
                   help="face images or .npy identity embeddings (references of one person)")
    p.add_argument("--layout", type=_layout, required=True, help="face box scale,centre_x,centre_y in the frame")
    p.add_argument("--background", type=int, default=0, help="background class (0)")
    p.add_argument("--plugins", type=_plugins, default=[], help="comma-separated subset of dli,idaf,idap")
    p.add_argument("--steps", type=int, default=25, help="DDIM steps (25)")
    p.add_argument("--guidance", type=float, default=3.0, help="classifier-free guidance scale (3.0)")
    p.add_argument("--count", type=int, default=1, help="images to generate (1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--out", required=True, help="output folder")
    p.set_defaults(func=generate)

    p = actions.add_parser("install-parts", help="pip-install the pinned keras-hub (SD3) and gan-face-generate "
                                                 "(DCGAN faces) without their declared dependencies")
    p.add_argument("--print", action="store_true", dest="print_only", help="print the pip command, run nothing")
    p.set_defaults(func=install_parts)
