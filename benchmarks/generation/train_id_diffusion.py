"""Train IDDiffusion (or IDUNet) on DCGAN-face scenes within a fixed CPU budget (resumable; Keras' progress bar).

Identities are latent neighbourhoods of gan-face-generate's DCGAN
(:func:`hgzoo.generation.data.faces.identity_neighbourhoods`); each face is
conditioned on the mean unit dlib descriptor of the *other* members of its
identity (what :func:`hgzoo.generation.sample` feeds from references), and
composed into 64×64 scenes at close-up (1.0), middle (0.5) and small (0.3)
face scales on the four background classes. Training stops after the first
epoch that ends past ``--minutes`` of this process; rerunning the same
command resumes (``fit_resumable``) with a fresh budget.

    flock /work/heavy.lock timeout 30m python benchmarks/generation/train_id_diffusion.py --minutes 24

``--arch unet`` trains :class:`hgzoo.generation.IDUNet` (level widths
``--channels``) instead of the DiT (``--width``, ``--depth``); use a fresh
``--out`` per architecture (a resume loads the checkpoint's weights into the model this command builds).

Writes ``<out>/model.keras``, ``<out>/identities.npz`` (faces, descriptors,
labels: what ``identity_table.py`` evaluates on) and
``benchmarks/results/generation/training.{json,md}`` (recipe and losses).
"""

import argparse
import json
import os
import sys
import time

import keras
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from _report import write  # noqa: E402

from hgzoo.files import replace_atomically  # noqa: E402
from hgzoo.generation import DlibIdentity, IDDiffusion, IDUNet, NoisedScenes  # noqa: E402
from hgzoo.generation.data import scene_set  # noqa: E402
from hgzoo.generation.data.faces import identity_neighbourhoods, other_member_references  # noqa: E402
from hgzoo.training import fit_resumable  # noqa: E402

SCALES = (1.0, 0.5, 0.3)
COLUMNS = ["epochs", "steps", "batch", "scenes", "identities × members", "parameters", "train minutes",
           "first-epoch loss", "last-epoch loss"]


class StopAfter(keras.callbacks.Callback):
    """Stops training at the end of the first epoch that ends past ``seconds`` of wall time."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds, self.start = float(seconds), time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        if time.monotonic() - self.start > self.seconds:
            self.model.stop_training = True


def identities(out, count, members, seed):
    """The training identities, built once and kept in ``<out>/identities.npz`` (a rerun reads them)."""
    path = os.path.join(out, "identities.npz")
    if os.path.exists(path):
        with np.load(path) as saved:
            return saved["faces"], saved["descriptors"], saved["labels"]
    faces, descriptors, labels = identity_neighbourhoods(DlibIdentity(), count, members, seed=seed)
    replace_atomically(path, lambda tmp: np.savez(tmp, faces=faces, descriptors=descriptors, labels=labels),
                       suffix=".npz")
    return faces, descriptors, labels


def build_model(args):
    """The model ``--arch`` names and its description for the results' notes."""
    if args.arch == "unet":
        widths = tuple(args.channels)
        return (IDUNet(widths=widths, width=128, heads=4, seed=args.seed, dtype=args.dtype),
                f"IDUNet(widths={widths}, width 128, heads=4, cross-attention at ≤ 16×16 and the middle, 64×64, "
                "T=1000)")
    return (IDDiffusion(width=args.width, depth=args.depth, heads=4, seed=args.seed, dtype=args.dtype),
            f"IDDiffusion(width={args.width}, depth={args.depth}, heads=4, patch 4, 64×64, T=1000)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/generation/idd")
    parser.add_argument("--identities", type=int, default=32)
    parser.add_argument("--members", type=int, default=4)
    parser.add_argument("--copies", type=int, default=16, help="scenes per face (random layouts and backgrounds)")
    parser.add_argument("--arch", choices=("dit", "unet"), default="dit",
                        help="dit: IDDiffusion (--width, --depth); unet: IDUNet (--channels)")
    parser.add_argument("--width", type=int, default=96, help="dit: token width")
    parser.add_argument("--depth", type=int, default=3, help="dit: blocks")
    parser.add_argument("--channels", type=int, nargs="+", default=[32, 64, 96, 96],
                        help="unet: feature channels per resolution level")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--epochs", type=int, default=1000, help="an upper bound; --minutes usually stops first")
    parser.add_argument("--minutes", type=float, default=24.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", choices=("float32", "mixed_bfloat16"), default="float32",
                        help="mixed_bfloat16: bf16 compute, float32 weights (about 1.7x faster per IDUNet step on "
                             "an AVX512-BF16 CPU)")
    parser.add_argument("--ema", type=float, default=0.0,
                        help="keep an exponential moving average of the weights with this momentum (e.g. 0.999) "
                             "and save it as model.keras; 0: off")
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    faces, descriptors, labels = identities(args.out, args.identities, args.members, args.seed)
    references = other_member_references(descriptors, labels)
    unit = references / np.linalg.norm(references, axis=-1, keepdims=True)
    conditions = unit.mean(axis=1)  # as the sampler combines several references
    images, ids, layouts, backgrounds = scene_set(faces, conditions, SCALES, size=64, copies=args.copies,
                                                  seed=args.seed)
    model, architecture = build_model(args)
    model.compile(optimizer=keras.optimizers.Adam(args.lr, use_ema=args.ema > 0,
                                                  ema_momentum=args.ema if args.ema > 0 else 0.99))
    batches = NoisedScenes(images, ids, layouts, backgrounds, model.schedule, batch_size=args.batch, seed=args.seed)
    start = time.monotonic()
    history = fit_resumable(model, batches, args.out, epochs=args.epochs, callbacks=[StopAfter(args.minutes * 60)])
    minutes = (time.monotonic() - start) / 60
    replace_atomically(os.path.join(args.out, "model.keras"), model.save, suffix=".keras")
    losses = history.history["loss"]
    row = {"epochs": len(losses), "steps": len(losses) * len(batches), "batch": args.batch, "scenes": len(images),
           "identities × members": f"{args.identities} × {args.members}", "parameters": model.count_params(),
           "train minutes": minutes, "first-epoch loss": float(losses[0]), "last-epoch loss": float(losses[-1])}
    print(json.dumps(row))
    write("generation", "training", [row], COLUMNS,
          notes=f"{architecture}, {args.dtype}, Adam {args.lr:g}"
                + (f" with weight EMA {args.ema:g} (model.keras holds the average)" if args.ema > 0 else "")
                + f", condition dropout 0.1, ε-MSE; {args.identities} DCGAN identities × {args.members} "
                f"members (latent neighbourhoods, σ 0.2, members within dlib 0.6 of the anchor), each face "
                f"conditioned on the other members' mean unit descriptor; {args.copies} scenes per face at scales "
                f"{SCALES} (random centres, 4 backgrounds). 'train minutes' is this process's run (a resumed run "
                "counts from its restart); loss is the epoch mean ε-MSE.")


if __name__ == "__main__":
    main()
