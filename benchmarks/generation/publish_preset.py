"""Package a train_id_diffusion.py IDUNet run as a preset: float32 weights file, manifest entry, recipe.

    python benchmarks/generation/publish_preset.py --run runs/generation/unet --preset id_unet_dcgan_faces
    pip install --no-deps .   # the manifest and weights are package data: the installed copy must see them
    pytest tests/generation/test_presets.py

Reads ``<run>/model.keras`` (saved by train_id_diffusion.py, possibly with the mixed_bfloat16 policy and its
optimizer), ``<run>/log.csv`` and ``<run>/identities.npz``, and the run's results in
``benchmarks/results/generation/``: ``training.json`` (command, notes, rows: required) and
``identity_table.json`` (plug-in measurements: used when present). Both must describe this run's model (an
IDUNet with its parameter count), or nothing is written: a recipe must not record another model's training.

Rebuilds the model from its saved config as float32 (policy float32, no optimizer state), copies the weights,
writes ``weights/files/<preset>.v<version>.weights.h5`` (float32; at most 25 MB), the entry of
``weights/manifests/generation.json`` with golden values (checked by ``tests/generation/test_presets.py``) and
``weights/recipes/<preset>.v<version>.md``.
"""

import argparse
import csv
import json
import math
import os
import pathlib
import platform
import re
import shlex
import sys
import warnings

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from publish_weights import commit_line, file_entry, write_manifest_entry  # noqa: E402

MAX_BYTES = 25 * 10**6
# constructor arguments that are not the preset's: they change neither the weights' shapes nor the outputs
NOT_CONFIG = ("name", "trainable", "dtype", "seed")
# identity_table.json: the rows and columns the manifest's metrics keep
TABLE_SCALES = {"close-up": "closeup", "small": "small"}
TABLE_COLUMNS = {"detection rate": "detection_rate", "crop distance": "crop_distance",
                 "crop same-person rate": "crop_same_person_rate"}
REFERENCE_ROWS = {"real target face (ceiling)": "real_ceiling",
                  "real, another identity's refs (chance)": "chance"}


def load_run_model(run):
    """(the saved model, its float32 twin with the same weights and no optimizer, the preset config)."""
    import keras

    from hgzoo.generation import IDUNet

    with warnings.catch_warnings():  # the training optimizer's state is not loaded, by design
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        saved = keras.saving.load_model(run / "model.keras", compile=False)
    if not isinstance(saved, IDUNet):
        raise SystemExit(f"{run / 'model.keras'} holds a {type(saved).__name__}, not an IDUNet")
    config = {k: v for k, v in saved.get_config().items() if k not in NOT_CONFIG}
    fresh = IDUNet(**config, dtype="float32")
    paths = [v.path for v in saved.weights]
    if paths != [v.path for v in fresh.weights]:
        raise SystemExit("the rebuilt IDUNet's weights differ from the saved model's in names or order")
    fresh.set_weights([np.asarray(keras.ops.convert_to_numpy(v), np.float32) for v in saved.weights])
    return saved, fresh, config


def read_results(results, parameters, skip_table):
    """training.json and identity_table.json (or None), refusing records of another model."""
    path = results / "training.json"
    if not path.exists():
        raise SystemExit(f"{path} is missing: publish a run whose training recorded its recipe there")
    training = json.loads(path.read_text())
    recorded = [row.get("parameters") for row in training.get("rows", [])]
    if not training.get("notes", "").startswith("IDUNet(") or parameters not in recorded:
        raise SystemExit(f"{path} describes another model ({training.get('notes', '')[:60]}..., "
                         f"parameters {recorded}), not this run's IDUNet of {parameters:,} parameters: train "
                         "this run with train_id_diffusion.py --arch unet, or pass --results <folder with "
                         "its training.json>")
    table = None
    path = results / "identity_table.json"
    if path.exists() and not skip_table:
        table = json.loads(path.read_text())
        notes = table.get("notes", "")
        if not notes.startswith("IDUNet") or f"({parameters / 1e6:.2f} M parameters" not in notes:
            raise SystemExit(f"{path} measured another model ({notes[:60]}...): run benchmarks/generation/"
                             "identity_table.py --run <this run> first, or pass --skip-identity-table")
    return training, table


def number(value, digits=4):
    value = float(value)
    return None if math.isnan(value) else round(value, digits)


def slug(label):
    """'baseline (CFG)' -> 'baseline', '+DLI +IdAF +IdAP' -> 'dli_idaf_idap'."""
    label = REFERENCE_ROWS.get(label, label.split(" (")[0])
    return "_".join(re.findall(r"[a-z0-9]+", label.lower()))


def table_metrics(table):
    """Flat manifest metrics of identity_table.json's close-up and small rows: baseline, every plug-in set and
    the real-face ceiling and chance rows that frame them."""
    metrics = {}
    for row in table["rows"]:
        if row.get("scale") not in TABLE_SCALES:
            continue
        for column, key in TABLE_COLUMNS.items():
            if column in row:
                metrics[f"{TABLE_SCALES[row['scale']]}_{slug(row['plug-ins'])}_{key}"] = number(row[column])
    return metrics


def table_markdown(table):
    columns = ["plug-ins", "scale", *TABLE_COLUMNS]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in table["rows"]:
        if row.get("scale") in TABLE_SCALES:
            values = [number(row.get(c, float("nan"))) for c in TABLE_COLUMNS]
            cells = [row["plug-ins"], row["scale"]] + ["—" if v is None else f"{v:.3f}" for v in values]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def shown(path):
    """``path`` relative to the repository when inside it."""
    path = pathlib.Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def provenance(record):
    commit = str(record.get("commit", "?"))[:7]
    if record.get("uncommitted_changes"):
        commit += " + uncommitted changes"
    machine, versions = record.get("machine", {}), record.get("versions", {})
    return (f"commit {commit}, {machine.get('cpu', '?')} ({machine.get('cores', '?')} cores), "
            f"{versions.get('backend', '?')} backend, Keras {versions.get('keras', '?')}, "
            f"{record.get('date', '?')}")


def input_contract(config):
    h, w = config["image_size"]
    return {
        "inputs": ["noisy", "timestep", "identity", "layout", "background"],
        "dtypes": {"noisy": "float32", "timestep": "float32", "identity": "float32", "layout": "float32",
                   "background": "int32"},
        "noisy": f"(B, {h}, {w}, {config['channels']}) x_t of images scaled to [-1, 1]",
        "timestep": f"(B,) DDPM step in [0, {config['timesteps']})",
        "identity": f"(B, {config['identity_dim']}) mean of unit dlib face descriptors "
                    "(hgzoo.generation.DlibIdentity); all zeros: no identity",
        "layout": "(B, 3) face scale, centre x, centre y as fractions of the frame; scale 0: no layout",
        "background": f"(B,) class in [0, {config['num_backgrounds']}) (sky, grass, wall, room); "
                      "outside: none",
        "output": f"predicted noise ε (B, {h}, {w}, {config['channels']}) float32",
        "sampling": "hgzoo.generation.sample(model, references, layout, background, plugins=...) -> "
                    "images in [0, 1]",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="the output folder of train_id_diffusion.py --arch unet")
    parser.add_argument("--preset", default="id_unet_dcgan_faces")
    parser.add_argument("--version", type=int, default=1)
    parser.add_argument("--results", default=str(ROOT / "benchmarks" / "results" / "generation"),
                        help="folder of the run's training.json and identity_table.json")
    parser.add_argument("--skip-identity-table", action="store_true",
                        help="publish without identity_table.json's measurements")
    parser.add_argument("--default", action=argparse.BooleanOptionalAction, default=True,
                        help="the preset IDUNet(pretrained=True) picks")
    args = parser.parse_args()

    import hgzoo
    from hgzoo.testing import golden_values
    from hgzoo.testing.presets import golden_input

    commit = commit_line()  # before anything is written: the code that publishes, not the files it writes
    run, results = pathlib.Path(args.run), pathlib.Path(args.results)
    for name in ("model.keras", "log.csv", "identities.npz"):
        if not (run / name).exists():
            raise SystemExit(f"{run / name} is missing: --run takes train_id_diffusion.py's output folder")
    saved, model, config = load_run_model(run)
    parameters = model.count_params()
    training, table = read_results(results, parameters, args.skip_identity_table)
    with open(run / "log.csv") as f:
        log = list(csv.DictReader(f))
    with np.load(run / "identities.npz") as saved_ids:
        labels = saved_ids["labels"]
    rows = training["rows"]
    minutes = sum(float(r.get("train minutes", 0)) for r in rows)
    entry_partial = {"task": "generation", "config": config}

    # the weights file, and the same model rebuilt from it as users will (pretrained=<file>)
    name = f"{args.preset}.v{args.version}.weights.h5"
    target = ROOT / "weights" / "files" / name
    model.save_weights(target)
    size = target.stat().st_size
    if size > MAX_BYTES:
        target.unlink()
        raise SystemExit(f"{name} would take {size / 1e6:.1f} MB, more than the {MAX_BYTES / 1e6:.0f} MB a "
                         "packaged preset may: publish it with downloadable files instead")
    reloaded = hgzoo.generation.IDUNet(**config, pretrained=str(target))
    golden = golden_values(reloaded, entry_partial)
    if golden != golden_values(model, entry_partial):
        target.unlink()
        raise SystemExit("the written weights file does not reproduce the model's outputs")
    _, arrays = golden_input("generation", config)
    policy = saved.get_layer("stem").dtype_policy.name
    drift = float(np.abs(np.asarray(saved.predict_on_batch(arrays), np.float64)
                         - np.asarray(model.predict_on_batch(arrays), np.float64)).max())

    metrics = {"train_epochs": len(log), "train_last_epoch_loss": number(log[-1]["loss"]) if log else None,
               "train_minutes": round(minutes, 1)}
    if table is not None:
        metrics.update(table_metrics(table))
    h, w = config["image_size"]
    identities = int(labels.max()) + 1
    entry = {
        "arch": "hgzoo>IDUNet", "task": "generation", "version": args.version, "default": args.default,
        "description": f"IDUNet ({parameters / 1e6:.1f} M parameters, {h}×{w}) trained by hgzoo for "
                       f"~{minutes:.0f} CPU minutes on faces from a DCGAN (gan-face-generate, "
                       f"DigiFace-1M-trained) composed into synthetic scenes ({identities} identities); for "
                       "demonstrating the "
                       "BeyondFacial plug-ins with hgzoo.generation.sample, not a general face generator",
        "config": config,
        "files": [file_entry(target)],
        "license": "Apache-2.0 (weights trained by hgzoo); training faces drawn from gan-face-generate's "
                   "DCGAN (MIT code; its DigiFace-1M training data under the DigiFace-1M terms)",
        "input_contract": input_contract(config),
        "recipe": f"recipes/{args.preset}.v{args.version}.md",
        "metrics": metrics,
        "golden": golden,  # checked by tests/generation/test_presets.py
    }
    write_manifest_entry("generation", args.preset, entry)

    epochs_recorded = sum(int(r.get("epochs", 0)) for r in rows)
    resumed = (f"\n- The run was resumed: log.csv has {len(log)} epochs, training.json's rows "
               f"{epochs_recorded} (the minutes above count only the recorded processes)."
               if len(log) > epochs_recorded else "")
    publish_command = " ".join(["python benchmarks/generation/publish_preset.py",
                                *(shlex.quote(a) for a in sys.argv[1:])])
    training_rows = "\n".join(f"  - {json.dumps(r, ensure_ascii=False)}" for r in rows)
    if table is not None:
        measured = f"""Plug-ins against the baseline, measured by
`{table.get('command', 'identity_table.py')}` ({provenance(table)}) on the run's `model.keras`, whose
weights these are:

{table_markdown(table)}

{table.get('notes', '')}"""
    else:
        measured = "No identity_table.py measurement of this model is recorded."
    recipe = ROOT / "weights" / "recipes" / f"{args.preset}.v{args.version}.md"
    recipe.write_text(f"""# {args.preset} v{args.version}

hgzoo's own identity-conditioned diffusion denoiser, packaged in the wheel so the BeyondFacial plug-ins can
be demonstrated offline. A {parameters / 1e6:.1f} M-parameter {h}×{w} U-Net trained for ~{minutes:.0f} CPU
minutes on synthetic scenes of DCGAN faces: it shows what the plug-ins do, it is not a general face generator.

```python
import numpy as np, hgzoo
model = hgzoo.create_model("{args.preset}", pretrained=True)
references = np.random.default_rng(0).normal(size=(1, 3, 128)).astype("float32")  # dlib descriptors
images = hgzoo.generation.sample(model, references, [[0.5, 0.5, 0.5]], [0], steps=25,
                                 plugins=[hgzoo.generation.IdentityAdaptiveFusion()])
```

## Data (nothing committed here)
- Faces: gan-face-generate's 64×64 DCGAN (MIT code; trained on DigiFace-1M, whose terms cover its data),
  installed by `hgzoo generation install-parts`. {identities} identities, each a latent neighbourhood
  (`hgzoo.generation.data.faces.identity_neighbourhoods`); every face is conditioned on the mean unit dlib
  descriptor of its identity's other members. Kept in the run's `identities.npz`.
- Scenes: `hgzoo.generation.data.scene_set` composes each face onto one of 4 procedural backgrounds (sky,
  grass, wall, room) at face scales 1.0, 0.5 and 0.3 of the frame, random centres.

## Recipe
    {training.get('command', 'python benchmarks/generation/train_id_diffusion.py --arch unet')}
    {publish_command}
- {training.get('notes', '')}
- Training record (`{shown(results / 'training.json')}`; {provenance(training)}):
{training_rows}
- log.csv: {len(log)} epochs, last epoch loss {metrics['train_last_epoch_loss']}.{resumed}
- Published as float32 (policy float32, no training optimizer state). Largest ε change on the golden
  input against the run's `model.keras` as Keras loads it (policy {policy}): {drift:.1e}.
  Weights {size / 1e6:.1f} MB.
- Hardware at publication: {os.cpu_count()}-core CPU ({platform.machine()}).
- hgzoo commit at publication: {commit}.

## Measured
{measured}

```json
{json.dumps(metrics, indent=1)}
```
""")
    print(json.dumps(metrics, indent=1))
    print(f"wrote {target} ({size / 1e6:.1f} MB), the {args.preset} entry of "
          f"weights/manifests/generation.json and {recipe}\n"
          "next: pip install --no-deps . && pytest tests/generation/test_presets.py")


if __name__ == "__main__":
    main()
