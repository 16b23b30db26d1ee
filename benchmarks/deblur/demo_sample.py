"""What each deblurring preset gives on ``hgzoo demo``'s sample photo, stored for the demo to quote.

    HGZOO_WEIGHTS_DIR=../shared/data/dmphn python benchmarks/deblur/demo_sample.py

PSNR against the sharp photo (``hgzoo/samples/chelsea_sharp.png``) of the
blurry photo and of every preset's output, in float32 and bfloat16, exactly
as the demo runs them (``hgzoo.deblur.deblur``, uint8 in and out). Writes
``benchmarks/results/deblur/demo_sample.{json,md}`` and the numbers the demo
prints, ``hgzoo/deblur/demo_results.json`` (package data, with this run's
provenance): the demo reads them there, it never has them in its code.
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from _report import ROOT, data_dir, provenance, write  # noqa: E402

PACKAGE_FILE = os.path.join(ROOT, "hgzoo", "deblur", "demo_results.json")


def main():
    os.environ.setdefault("HGZOO_WEIGHTS_DIR", data_dir("dmphn"))
    import hgzoo
    from hgzoo.data.images import read_image
    from hgzoo.deblur.demo import PREFERENCE, sample_paths
    from hgzoo.files import replace_atomically
    from hgzoo.metrics import psnr

    blurry, sharp = (read_image(p) for p in sample_paths())

    def db(image):
        return round(float(psnr(sharp, image, max_value=255)), 2)

    rows, table = [], {}
    for preset in PREFERENCE:
        model = hgzoo.create_model(preset, pretrained=True)
        table[preset] = {p: db(hgzoo.deblur.deblur(model, blurry, precision=p)) for p in ("float32", "bfloat16")}
        rows.append({"preset": preset, **{f"psnr_{p}": v for p, v in table[preset].items()}})
        print(rows[-1], flush=True)
    rows.insert(0, {"preset": "(blurry input)", "psnr_float32": db(blurry), "psnr_bfloat16": db(blurry)})
    notes = ("PSNR (dB) against the sharp photo of hgzoo demo's sample (a CC0 photo with synthetic camera shake, "
             "451x300), as the demo computes it. The authors' presets were trained on GoPro, not on this kind of "
             "shake. The demo prints these numbers from hgzoo/deblur/demo_results.json, written by this script.")
    print(write("deblur", "demo_sample", rows, ["preset", "psnr_float32", "psnr_bfloat16"], notes))
    p = provenance()
    stored = {"blurry_db": db(blurry), "psnr_db": table,
              "measured": {k: p[k] for k in ("command", "commit", "date", "machine")},
              "source": "benchmarks/deblur/demo_sample.py"}

    def write_json(tmp):
        with open(tmp, "w") as f:
            json.dump(stored, f, indent=1)
            f.write("\n")

    replace_atomically(PACKAGE_FILE, write_json)


if __name__ == "__main__":
    main()
