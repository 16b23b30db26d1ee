"""Write each preset's golden values into its manifest entry (checked by hgzoo.testing.run_preset_test).

    python tools/write_golden_values.py                      # every preset whose weights are available
    HGZOO_WEIGHTS_DIR=../shared/data/dmphn python tools/write_golden_values.py dmphn_1_2_4_gopro

Run it when a preset is published, or when a change of its outputs is intended (say why in the
commit). A preset whose weights are not available is reported and left unchanged.
"""

import argparse
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("presets", nargs="*", help="preset ids (default: all)")
    args = parser.parse_args()

    import hgzoo
    from hgzoo.testing import golden_values
    from hgzoo.weights import manifest, store

    for preset_id in args.presets or sorted(manifest.all_presets()):
        preset = manifest.get(preset_id)
        if not store.available_locally(preset_id):
            print(f"{preset_id}: weights not available here, left unchanged (set HGZOO_WEIGHTS_DIR)")
            continue
        values = golden_values(hgzoo.create_model(preset_id, pretrained=True), preset)
        path = ROOT / "weights" / "manifests" / f"{preset.task}.json"
        entries = json.loads(path.read_text())
        entries[preset_id]["golden"] = values
        path.write_text(json.dumps(entries, indent=1) + "\n")
        print(f"{preset_id}: mean {values['mean']}, std {values['std']} -> {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
