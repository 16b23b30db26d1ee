"""What each BeyondFacial plug-in costs at sampling time: denoiser calls and wall time per image.

The default IDDiffusion (64×64, width 128, depth 4, random weights: this
measures cost, not quality), DDIM with the same seeds and steps for the
baseline (classifier-free guidance on the joint condition) and each plug-in
set; wall time per image is the median of ``--repeats`` batches, and the
ratio to the baseline is taken in the same run.

    flock /work/heavy.lock python benchmarks/generation/plugin_cost.py

Results: ``benchmarks/results/generation/plugin_cost.{json,md}``.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from _report import median_seconds, write

from hgzoo.generation import PLUGIN_SETS, GuidancePlan, IDDiffusion, sample
from hgzoo.generation.hooks import apply_plugins

COLUMNS = ["plug-ins", "denoiser calls / step", "wall s / image", "× baseline"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--references", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    model = IDDiffusion(seed=0)
    rng = np.random.default_rng(0)
    refs = rng.normal(size=(args.batch, args.references, 128)).astype("float32")
    layout = np.tile([[0.3, 0.3, 0.7]], (args.batch, 1))
    background = np.arange(args.batch) % model.num_backgrounds
    rows, baseline = [], None
    for label, classes in PLUGIN_SETS.items():
        plugins = [cls() for cls in classes]
        calls = len(apply_plugins(plugins, GuidancePlan(), None)[0].lines())
        seconds = median_seconds(lambda p=plugins: sample(model, refs, layout, background, steps=args.steps,
                                                          plugins=p, seed=0), repeats=args.repeats) / args.batch
        baseline = baseline or seconds
        rows.append({"plug-ins": label, "denoiser calls / step": calls, "wall s / image": seconds,
                     "× baseline": seconds / baseline})
        print(rows[-1], flush=True)
    write("generation", "plugin_cost", rows, COLUMNS,
          notes=f"IDDiffusion defaults (64×64, width 128, depth 4, {model.count_params() / 1e6:.2f} M parameters, "
                f"random weights), {args.steps} DDIM steps, batch {args.batch}, {args.references} reference "
                "embeddings per image; eager denoiser calls, one per line per step. Cost only: identity and layout "
                "quality need the trained model and the dlib metrics (not measured yet).")


if __name__ == "__main__":
    main()
