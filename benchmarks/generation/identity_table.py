"""Identity and layout of the trained IDDiffusion or IDUNet: baseline ID conditioning vs BeyondFacial's plug-ins.

For each training identity (from ``train_id_diffusion.py``'s run folder) the
target is its first member and the references are the descriptors of its
other members. Every plug-in set samples the same identities, layouts,
backgrounds, initial noise (seed) and DDIM steps, at close-up (scale 1.0,
centred) and small (scale 0.3, a random centre in the frame) faces in 64×64
frames; :class:`hgzoo.generation.metrics.FaceMetrics` measures each image.
Two reference rows bound the numbers: the real target face composed into the
same scenes (what a perfect model would reach through this pipeline and
these metrics) and the same real scenes scored against *another* identity's
references (chance). The quality proxy is the Fréchet distance of dlib
descriptors of the face crops to those of the real composed scenes at the
same scale.

    flock /work/heavy.lock timeout 15m python benchmarks/generation/identity_table.py

Results: ``benchmarks/results/generation/identity_table.{json,md}`` and the
picture grid ``identity_grid.png`` beside them.
"""

import argparse
import os
import sys
import time

import keras
import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from _report import RESULTS, write  # noqa: E402

from hgzoo.data.images import quantise, write_image  # noqa: E402
from hgzoo.generation import PLUGIN_SETS, sample  # noqa: E402
from hgzoo.generation.data import compose, random_layouts  # noqa: E402
from hgzoo.generation.data.faces import other_member_references  # noqa: E402
from hgzoo.generation.metrics import FaceMetrics, frechet_distance  # noqa: E402

SCALES = {"close-up": 1.0, "small": 0.3}
COLUMNS = ["scale", "images", "detection rate", "detected distance", "detected same-person rate", "crop distance",
           "crop same-person rate", "size error", "position error", "Fréchet (dlib)", "wall s / image"]
GRID_COLUMNS = 4  # identities per scale in the picture grid


def scenes(scale, count, seed):
    """(count, 3) layouts at ``scale`` (centred close-ups; random centres otherwise) and background classes."""
    rng = np.random.default_rng(seed)
    layouts = np.tile([[1.0, 0.5, 0.5]], (count, 1)) if scale >= 1.0 else random_layouts(count, (scale,), rng)
    return layouts.astype(np.float32), np.arange(count) % 4


def row(label, scale_name, measured, real_crops, seconds=None):
    summary = FaceMetrics.summary(measured)
    return {"plug-ins": label, "scale": scale_name, "images": len(measured["detected"]), **summary,
            "Fréchet (dlib)": frechet_distance(measured["crop_descriptors"], real_crops),
            "wall s / image": "—" if seconds is None else seconds}


def grid(pictures, labels, path):
    """A PNG of rows of 64-px frames (shown at 2×) with a label column."""
    cell, label_width = 128, 150
    rows = len(pictures)
    canvas = Image.new("RGB", (label_width + cell * len(pictures[0]), cell * rows), "white")
    draw = ImageDraw.Draw(canvas)
    for r, (frames, label) in enumerate(zip(pictures, labels)):
        draw.text((6, r * cell + cell // 2 - 6), label, fill="black")
        for c, frame in enumerate(frames):
            tile = Image.fromarray(quantise(frame)).resize((cell, cell), Image.NEAREST)
            canvas.paste(tile, (label_width + c * cell, r * cell))
    write_image(path, np.asarray(canvas))


def architecture(model):
    """The saved model's class and size, for the notes (whichever ``--arch`` the run trained)."""
    config = model.get_config()
    if "widths" in config:
        return f"IDUNet (level widths {tuple(config['widths'])})"
    return f"IDDiffusion (width {config['width']}, depth {config['depth']})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="runs/generation/idd", help="train_id_diffusion.py's output folder")
    parser.add_argument("--identities", type=int, default=32)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--guidance", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    model = keras.saving.load_model(os.path.join(args.run, "model.keras"), compile=False)
    with np.load(os.path.join(args.run, "identities.npz")) as saved:
        faces, descriptors, labels = saved["faces"], saved["descriptors"], saved["labels"]
    references = other_member_references(descriptors, labels)
    targets = np.array([np.flatnonzero(labels == i)[0] for i in range(labels.max() + 1)])[:args.identities]
    count = len(targets)
    metrics = FaceMetrics()
    rows, pictures = [], {}
    for scale_name, scale in SCALES.items():
        layouts, backgrounds = scenes(scale, count, args.seed)
        rng = np.random.default_rng(args.seed)
        real = np.stack([compose(faces[t], layout, kind, 64, rng)
                         for t, layout, kind in zip(targets, layouts, backgrounds)])
        measured = metrics.measure(real, layouts, references[targets])
        real_crops = measured["crop_descriptors"]
        rows.append(row("real target face (ceiling)", scale_name, measured, real_crops))
        other = references[np.roll(targets, 1)]
        rows.append(row("real, another identity's refs (chance)", scale_name,
                        metrics.measure(real, layouts, other), real_crops))
        pictures.setdefault("reference (a member)", []).extend(faces[targets[:GRID_COLUMNS] + 1])
        pictures.setdefault("real target scene", []).extend(real[:GRID_COLUMNS])
        for label, classes in PLUGIN_SETS.items():
            # one untimed step first: tracing and compiling this plug-in set's graphs is not per-image cost
            sample(model, references[targets[:1]], layouts[:1], backgrounds[:1], steps=1, guidance=args.guidance,
                   plugins=[cls() for cls in classes], seed=args.seed)
            start = time.perf_counter()
            images = sample(model, references[targets], layouts, backgrounds, steps=args.steps,
                            guidance=args.guidance, plugins=[cls() for cls in classes], seed=args.seed)
            seconds = (time.perf_counter() - start) / count
            rows.append(row(label, scale_name, metrics.measure(images, layouts, references[targets]), real_crops,
                            seconds))
            pictures.setdefault(label, []).extend(images[:GRID_COLUMNS])
            print(rows[-1], flush=True)
    os.makedirs(os.path.join(RESULTS, "generation"), exist_ok=True)
    grid(list(pictures.values()), list(pictures), os.path.join(RESULTS, "generation", "identity_grid.png"))
    write("generation", "identity_table", rows, ["plug-ins", *COLUMNS],
          notes=f"{architecture(model)} trained by train_id_diffusion.py ("
                f"{model.count_params() / 1e6:.2f} M parameters; recipe and loss in training.json) on "
                f"{labels.max() + 1} "
                f"DCGAN identities; evaluated on {count} of those training identities (no held-out identities: "
                f"the CPU budget trains too little to generalise to new descriptors), target = first member, "
                f"references = the other {references.shape[1]} members. {args.steps} DDIM steps, guidance "
                f"{args.guidance}, seed {args.seed}, batch {count}; close-up = scale 1.0 centred, small = scale "
                f"{SCALES['small']} (a 19-px face box in a 64-px frame) at random centres; 4 backgrounds in turn. "
                "Distances are dlib 128-d descriptor distances averaged over the references (same person < 0.6); "
                "'detected' columns use dlib's HOG detector (upsampled 3×) on the whole frame, 'crop' columns the "
                "face box the layout asked for, upsampled; size/position errors are over detected faces only "
                "(position as a fraction of the frame). Fréchet (dlib) = Fréchet distance of the crop descriptors "
                f"to the real scenes' at the same scale ({count} samples in 128 dimensions: biased upwards, "
                "compare within this table only). Wall time: sample() of the whole batch on this CPU / images, after an "
                "untimed one-step call that traces the plug-in set's graphs. "
                "Picture grid: identity_grid.png (first 4 identities per scale, close-up then small).")


if __name__ == "__main__":
    main()
