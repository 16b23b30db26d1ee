"""Publish a weights file hgzoo trained itself: float16 copy, manifest entry, recipe.

    python tools/publish_weights.py --run runs/dmphn_1_2_synthetic --preset dmphn_1_2_synthetic \
        --levels 1,2 [--data ../shared/data]

Measures before writing anything: PSNR/SSIM on held-out synthetic camera shake (scikit-image's
'chelsea', never used in training) and, when the GoPro pair is available, PSNR on the real
GoPro frame. Asserts the float16 file reproduces the float32 weights' outputs.
"""

import argparse
import csv
import hashlib
import json
import os
import pathlib
import platform
import subprocess

import h5py
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


def file_entry(path):
    """A manifest's record of a packaged weights file in ``weights/files``."""
    return {"path": f"files/{path.name}", "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "size": path.stat().st_size, "urls": []}


def write_manifest_entry(task, preset, entry):
    """Set ``preset``'s entry in ``weights/manifests/<task>.json`` (created when absent)."""
    path = ROOT / "weights" / "manifests" / f"{task}.json"
    manifest = json.loads(path.read_text()) if path.exists() else {}
    manifest[preset] = entry
    path.write_text(json.dumps(manifest, indent=1) + "\n")


def commit_line():
    """The short commit a recipe records, saying so when tracked code had uncommitted changes (measured
    results and published weights are outputs, not code)."""
    def git(*args):
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + (" + uncommitted changes" if git(
        "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)benchmarks/results",
        ":(exclude)weights") else "")


def to_float16(src, dst):
    """Copy the model's weights (not the optimizer state) with float32 stored as float16, except the
    statistics of Normalization layers."""
    with h5py.File(src) as fin, h5py.File(dst, "w") as fout:
        def copy(name, obj):
            if name.split("/")[0] == "optimizer":
                return
            if isinstance(obj, h5py.Group):
                group = fout.require_group(name)
                group.attrs.update(obj.attrs)
            else:
                data = obj[...]
                # Input statistics stay float32: an LLM's massive activations have means in the thousands with
                # small spreads (float16's step there is 2-4) and variances past float16's range.
                statistics = "normalization" in name.split("/")[-3]
                fout.create_dataset(name, data=data.astype(np.float16) if data.dtype == np.float32 and not statistics
                                    else data)
        fout.attrs.update(fin.attrs)
        fin.visititems(copy)


def heldout_pairs(n=32, crop=256):
    import skimage.data

    from hgzoo.deblur.data.camera_shake import make_pair

    rng = np.random.default_rng(7)
    photo = skimage.data.chelsea().astype(np.float32) / 255
    return [make_pair(rng, photo, crop=crop) for _ in range(n)]


def evaluate(model, data_dir):
    from hgzoo.data.images import read_image
    from hgzoo.deblur import deblur
    from hgzoo.metrics import psnr, ssim

    pairs = heldout_pairs()
    blurry = np.stack([b for b, _ in pairs])
    sharp = np.stack([s for _, s in pairs])
    out = np.clip(np.asarray(model.predict(blurry, batch_size=4, verbose=0)), 0, 1)
    metrics = {
        "heldout_synthetic_psnr_blurry": round(float(np.mean(psnr(sharp, blurry))), 2),
        "heldout_synthetic_psnr": round(float(np.mean(psnr(sharp, out))), 2),
        "heldout_synthetic_ssim_blurry": round(float(np.mean(np.asarray(ssim(sharp, blurry)))), 4),
        "heldout_synthetic_ssim": round(float(np.mean(np.asarray(ssim(sharp, out)))), 4),
    }
    blur_path = pathlib.Path(data_dir) / "gopro" / "Istanbul_blur1.png"
    if blur_path.exists():
        b, s = read_image(blur_path), read_image(blur_path.with_name("Istanbul_sharp1.png"))
        metrics["gopro_istanbul1_psnr_blurry"] = round(float(psnr(s, b, max_value=255)), 2)
        metrics["gopro_istanbul1_psnr"] = round(float(psnr(s, deblur(model, b), max_value=255)), 2)
    return metrics


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True)
    parser.add_argument("--preset", required=True)
    parser.add_argument("--levels", default="1,2")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    args = parser.parse_args()

    import hgzoo
    from hgzoo.testing import golden_values

    levels = [int(v) for v in args.levels.split(",")]
    run = pathlib.Path(args.run)
    source = run / "best.weights.h5"
    name = f"{args.preset}.v1.weights.h5"
    target = ROOT / "weights" / "files" / name
    to_float16(source, target)

    full = hgzoo.deblur.DMPHN(levels=levels)
    full.load_weights(source)
    model = hgzoo.deblur.DMPHN(levels=levels)
    model.load_weights(target)
    x = heldout_pairs(n=2)[0][0][None]
    drift = float(np.abs(np.asarray(model(x)) - np.asarray(full(x))).max())
    assert drift < 2e-3, f"float16 storage changes outputs by {drift}"
    metrics = evaluate(model, args.data)

    # before anything is written: the code that publishes, not the files it writes
    commit = commit_line()
    with open(run / "log.csv") as f:
        log = list(csv.DictReader(f))
    entry = {
        "arch": "hgzoo>DMPHN", "task": "deblur", "version": 1, "default": False,
        "description": f"DMPHN({'-'.join(map(str, levels))}) trained by hgzoo on public-domain photos "
                       "with synthetic camera shake; small, packaged, works offline",
        "config": {"levels": levels},
        "files": [file_entry(target)],
        "license": "Apache-2.0 (trained by hgzoo on CC0/public-domain and CC BY 2.0 photos)",
        "input_contract": {"range": [0, 1], "dtype": "float32", "channels": 3,
                           "multiple_of": list(hgzoo.deblur.DMPHN(levels=levels).multiple_of)},
        "recipe": f"recipes/{args.preset}.v1.md",
        "metrics": metrics,
    }
    entry["golden"] = golden_values(model, entry)  # checked by tests/*/test_presets.py
    write_manifest_entry("deblur", args.preset, entry)
    recipe = ROOT / "weights" / "recipes" / f"{args.preset}.v1.md"
    recipe.write_text(f"""# {args.preset} v1

hgzoo's own deblurring preset, packaged in the wheel so `hgzoo demo` works offline.

## Data (nothing downloaded beyond PyPI packages; no image committed)
- Training photos: scikit-image 'astronaut', 'coffee', 'rocket', 'hubble_deep_field'
  (public domain / CC0) and scikit-learn's 'china.jpg', 'flower.jpg' (CC BY 2.0, danielbuechele).
- Held out: scikit-image 'chelsea' (CC0), for validation and the numbers below.
- Blur: `hgzoo.deblur.data.camera_shake` random camera-shake kernels 9-31 px, Gaussian noise σ ∈ [0, 0.01],
  8-bit quantisation; random 90° rotations and flips (`synthetic_pairs`, seed 0).

## Recipe
    python tools/train_synthetic_preset.py --out {args.run} --minutes 50
    python tools/publish_weights.py --run {args.run} --preset {args.preset} --levels {args.levels}
- DMPHN levels {levels}, random init (authors' initialisation), 128×128 crops, batch 4,
  Adam with cosine decay from 3e-4 (planned 40 epochs × 100 steps), MSE loss; stopped by a
  50-minute wall-clock budget after {len(log)} epochs ({len(log) * 100} steps,
  {len(log) * 400} crops); weights with the best held-out validation loss kept.
- Hardware: {os.cpu_count()}-core CPU ({platform.machine()}), TensorFlow backend, float32.
- Stored as float16 ({target.stat().st_size / 1e6:.1f} MB); max output change vs float32 {drift:.1e}.
- hgzoo commit at publication: {commit}.

## Measured
```json
{json.dumps(metrics, indent=1)}
```
`heldout_synthetic_*`: 32 random 256×256 crops of 'chelsea' with fresh camera shake (seed 7),
mean per crop. `gopro_istanbul1_*`: the real GoPro frame `Istanbul_blur1.png` against
`Istanbul_sharp1.png` (whole 1280×720 frame). A small model trained for under an hour on six photos:
it helps on camera shake like its training data, it is far from the authors' GoPro models on
real blur; use those when you can.
""")
    print(json.dumps(metrics, indent=1))
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB), manifest entry and {recipe}")


if __name__ == "__main__":
    main()
