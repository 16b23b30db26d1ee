"""Deblurring speed and memory: one 1280×720 frame, batch 1, per preset and precision.

    python benchmarks/deblur/deblur_speed.py          # all presets, float32 and mixed_bfloat16
    HGZOO_WEIGHTS_DIR=../shared/data/dmphn python benchmarks/deblur/deblur_speed.py --uhd   # + PSNR, 4K

Each configuration runs in its own process so its peak memory is its own. With
the authors' weights available it also reports PSNR against the sharp GoPro
frame (../shared/data/gopro), so the cost of bfloat16 in quality is visible.
Writes ``benchmarks/results/deblur/deblur_speed.{json,md}``.
"""

import argparse
import json
import os
import subprocess
import sys

BENCHMARKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")  # benchmarks/_report.py
sys.path.insert(0, BENCHMARKS)
from _report import data_dir, write  # noqa: E402

DATA = data_dir()

CHILD = r"""
import json, os, sys, numpy as np, keras
sys.path.insert(0, sys.argv[1])
from _report import median_seconds, peak_rss_mb
import hgzoo
from hgzoo.weights import store
preset, policy, repeats, width, height, data, tile = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7], int(sys.argv[8])
keras.mixed_precision.set_global_policy(policy)
pretrained = store.available_locally(preset)
model = hgzoo.create_model(preset, pretrained=pretrained)
blur_path = os.path.join(data, "gopro", "Istanbul_blur1.png")
if os.path.exists(blur_path) and (width, height) == (1280, 720):
    from PIL import Image
    frame = np.asarray(Image.open(blur_path).convert("RGB"))
else:
    frame = (np.random.default_rng(0).random((height, width, 3)) * 255).astype(np.uint8)
run = lambda: hgzoo.deblur.deblur(model, frame, tile=tile or None, precision="bfloat16" if "bfloat16" in policy else "float32")
seconds = median_seconds(run, repeats=repeats)
out = {"preset": preset, "precision": policy, "pretrained": pretrained, "frame": f"{width}x{height}",
       "tile": tile or "none", "seconds": seconds, "peak_rss_mb": peak_rss_mb()}
if pretrained and (width, height) == (1280, 720) and os.path.exists(blur_path):
    sharp = np.asarray(Image.open(os.path.join(data, "gopro", "Istanbul_sharp1.png")).convert("RGB"))
    out["psnr_db"] = float(hgzoo.metrics.psnr(sharp, run(), max_value=255))
print("RESULT " + json.dumps(out))
"""


def run_child(preset, policy, repeats, width=1280, height=720, tile=0):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    cmd = [sys.executable, "-c", CHILD, BENCHMARKS, preset, policy, str(repeats), str(width), str(height), DATA, str(tile)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"{preset} {policy} failed:\n{proc.stderr[-3000:]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", default="dmphn_1_2_4_gopro,dmphn_1_2_4_8_gopro,stack_mpn_4_gopro")
    parser.add_argument("--precisions", default="float32,mixed_bfloat16")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--uhd", action="store_true", help="also a tiled 3840×2160 frame (memory check)")
    args = parser.parse_args()
    rows = []
    for preset in args.presets.split(","):
        for policy in args.precisions.split(","):
            rows.append(run_child(preset, policy, args.repeats))
            print(rows[-1], flush=True)
    if args.uhd:
        rows.append(run_child("dmphn_1_2_4_gopro", "float32", 1, 3840, 2160, tile=768))
        print(rows[-1], flush=True)
    print(write("deblur", "deblur_speed", rows, ["preset", "precision", "frame", "tile", "seconds", "peak_rss_mb",
                                                 "psnr_db", "pretrained"]))


if __name__ == "__main__":
    main()
