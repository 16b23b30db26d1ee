"""``hgzoo dialogue simulate``, ``train`` and ``evaluate``: MADS corpora and the models that learn from them.

Examples::

    hgzoo dialogue simulate --personas all --n 25 -o corpus.jsonl            # packaged SmolLM2-135M
    hgzoo dialogue simulate --personas none --refine --scenario my.json --n 25 -o c.jsonl \\
        --backend http://127.0.0.1:8000/v1 --model my-model                   # your own server
    hgzoo dialogue train --corpus corpus.jsonl --task strategy --out runs/strategy
    hgzoo dialogue evaluate --model runs/strategy --p4g 300_dialog.xlsx       # on real annotated data

``simulate`` appends to its output and continues a killed run where it
stopped; the diversity summary is printed and written next to the corpus.
"""

import json
import os
import pathlib

import numpy as np

from hgzoo.files import replace_atomically


def add_actions(actions):
    """Add simulate, train and evaluate to ``hgzoo dialogue`` (``actions``: its argparse sub-parsers)."""
    p = actions.add_parser("simulate", help="generate a resumable JSONL corpus of persuasion dialogues")
    p.add_argument("--personas", default="all",
                   help="'all' (the 192 zodiac x MBTI personas, default), 'none' (no persona), comma-separated "
                        "ids such as leo-INTJ,pisces-ENFP, or a JSON persona file")
    p.add_argument("--scenario", help="scenario JSON (name, goal, persuader_role, persuadee_context, max_turns); "
                                      "default: PersuasionForGood's donation task")
    p.add_argument("--n", type=int, required=True, help="dialogues the corpus should hold")
    p.add_argument("-o", "--output", required=True, help="the JSONL corpus (appended to; resumed when it exists)")
    p.add_argument("--backend", default="smollm2-135m",
                   help="smollm2-135m (default, packaged), a local causal-LM folder, an OpenAI-compatible URL "
                        "(http://host:port/v1), or scripted:FILE.json (a list of replies, for dry runs)")
    p.add_argument("--model", help="model name for an HTTP backend")
    p.add_argument("--api-key-env", help="environment variable holding the HTTP backend's API key")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per LLM call (default 120)")
    p.add_argument("--retries", type=int, default=2, help="further attempts after a failed HTTP call (default 2)")
    p.add_argument("--threads", type=int, default=1, help="torch threads for a local model (default 1)")
    p.add_argument("--refine", action="store_true", help="run the Optimization Agent's evaluate -> refine loop")
    p.add_argument("--max-turns", type=int, help="persuader-user exchanges per dialogue (overrides the scenario)")
    p.add_argument("--max-new-tokens", type=int, default=48, help="per persuader or user turn (default 48)")
    p.add_argument("--temperature", type=float, default=0.8, help="persuader and user sampling temperature")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--on-corrupt", choices=["refuse", "skip"], default="refuse",
                   help="a corrupt corpus line on resume: refuse (default) or skip it and generate it again")
    p.set_defaults(func=simulate)

    p = actions.add_parser("train", help="train a strategy classifier or attitude tracker on corpus turns")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--corpus", nargs="+", help="JSONL corpora from 'hgzoo dialogue simulate'")
    source.add_argument("--p4g", help="PersuasionForGood annotations (CSV or XLSX; strategy task only)")
    p.add_argument("--task", choices=["strategy", "attitude"], default="strategy")
    p.add_argument("--out", required=True, help="run folder: model.keras, metrics.json, resume state")
    p.add_argument("--backbone", default="all-MiniLM-L6-v2", help="text feature backbone (see 'hgzoo text train')")
    p.add_argument("--val-fraction", type=float, default=0.2, help="dialogues held out for validation (default 0.2)")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--cache-dir", help="feature cache (default: $HGZOO_HOME/text_features)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=train)

    p = actions.add_parser("evaluate", help="score a trained model on a corpus or on PersuasionForGood")
    p.add_argument("--model", required=True, help="a run folder from 'hgzoo dialogue train' or its model.keras")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--corpus", nargs="+", help="JSONL corpora")
    source.add_argument("--p4g", help="PersuasionForGood annotations (CSV or XLSX)")
    p.add_argument("--output", help="write the scores as JSON here")
    p.add_argument("--cache-dir", help="feature cache (default: $HGZOO_HOME/text_features)")
    p.set_defaults(func=evaluate)


def _backend(args):
    from hgzoo.dialogue import OpenAICompatibleBackend, ScriptedBackend, TransformersBackend

    if args.backend.startswith(("http://", "https://")):
        if not args.model:
            raise ValueError("an HTTP backend needs --model (the name the server expects)")
        key = os.environ.get(args.api_key_env) if args.api_key_env else None
        return OpenAICompatibleBackend(args.backend, args.model, api_key=key, timeout=args.timeout,
                                       retries=args.retries)
    if args.backend.startswith("scripted:"):
        with open(args.backend[len("scripted:"):], encoding="utf-8") as f:
            return ScriptedBackend(json.load(f))
    return TransformersBackend(args.backend, threads=args.threads, timeout=args.timeout)


def simulate(args):
    import dataclasses

    from hgzoo.dialogue import GenerationParams, Scenario, Simulator, resolve_personas

    scenario = Scenario.from_file(args.scenario) if args.scenario else Scenario.default()
    if args.max_turns is not None:  # 0 is refused by Scenario, not ignored
        scenario = dataclasses.replace(scenario, max_turns=args.max_turns)
    turn = GenerationParams(max_new_tokens=args.max_new_tokens, temperature=args.temperature)
    sim = Simulator(_backend(args), resolve_personas(args.personas), scenario, refine=args.refine, seed=args.seed,
                    params={"dialog": turn, "user": turn})
    summary = sim.simulate(args.output, args.n, on_corrupt=args.on_corrupt)
    print(json.dumps({k: v for k, v in summary.items() if k != "corpus"}, indent=1))
    print(f"Corpus: {os.path.abspath(args.output)} (summary: {args.output}.summary.json)")
    return 0


def _examples(args, task):
    from hgzoo.dialogue import read_corpus, read_persuasion_for_good, turn_examples

    if args.p4g:
        if task != "strategy":
            raise ValueError("PersuasionForGood's annotations label strategies: use --task strategy with --p4g")
        return read_persuasion_for_good(args.p4g)
    records = []
    for n, path in enumerate(args.corpus):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"corpus {path} does not exist")
        # Dialogue indices restart in each file; keep them apart for the split.
        records += [{**r, "index": f"{n}:{r['index']}"} for r in read_corpus(path).records]
    return turn_examples(records, task)


def _inputs(x, examples):
    return x if examples.previous is None else [x, examples.previous]


def _split(examples, fraction, seed):
    dialogues = sorted(set(map(str, examples.dialogues)))
    rng = np.random.default_rng(seed)
    # At least one dialogue stays for training (turn_examples refuses a corpus without any).
    held = set(rng.permutation(dialogues)[:min(int(round(fraction * len(dialogues))), len(dialogues) - 1)])
    val = np.array([str(d) in held for d in examples.dialogues])
    return ~val, val


def _subset(examples, mask):
    from hgzoo.dialogue import TurnExamples

    return TurnExamples([t for t, m in zip(examples.texts, mask) if m], examples.labels[mask], examples.class_names,
                        [d for d, m in zip(examples.dialogues, mask) if m],
                        None if examples.previous is None else examples.previous[mask])


def train(args):
    import keras

    from hgzoo.dialogue import AttitudeTracker, StrategyClassifier
    from hgzoo.text import FeatureExtractor
    from hgzoo.training import fit_resumable, restore_best_weights, save_run

    examples = _examples(args, args.task)
    if not 0 <= args.val_fraction < 1:
        raise ValueError(f"--val-fraction must lie in [0, 1), got {args.val_fraction}")
    train_mask, val_mask = _split(examples, args.val_fraction, args.seed)
    train_set, val_set = _subset(examples, train_mask), _subset(examples, val_mask)
    extractor = FeatureExtractor(args.backbone, cache_dir=args.cache_dir)
    print(f"Embedding {len(examples)} turns with {args.backbone} (cached after the first run)")
    x = extractor.extract(examples.texts)
    keras.utils.set_random_seed(args.seed)
    cls = StrategyClassifier if args.task == "strategy" else AttitudeTracker
    model = cls(num_layers=len(extractor.layers), feature_dim=extractor.dim, encoder=extractor.config())
    model.adapt(_inputs(x[train_mask], train_set))
    model.compile(optimizer=keras.optimizers.Adam(args.lr))
    import tensorflow as tf

    def dataset(subset, mask, shuffle):
        inputs = _inputs(x[mask], subset)
        ds = tf.data.Dataset.from_tensor_slices((tuple(inputs) if isinstance(inputs, list) else inputs, subset.labels))
        return (ds.shuffle(len(subset), seed=args.seed) if shuffle else ds).batch(args.batch_size)

    validation = dataset(val_set, val_mask, False) if len(val_set) else None
    fit_resumable(model, dataset(train_set, train_mask, True), args.out, args.epochs, validation_data=validation,
                  verbose=2)
    metrics = {"task": args.task, "train_turns": len(train_set), "val_turns": len(val_set)}
    if len(val_set):
        restore_best_weights(model, args.out)
        metrics.update(_score(model, _inputs(x[val_mask], val_set), val_set.labels, "val"))
        print(f"validation accuracy {metrics['val_accuracy']:.2f}% on {len(val_set)} held-out turns")
    print(f"Saved {os.path.abspath(save_run(model, args.out, metrics))}")
    return 0


def _score(model, inputs, labels, prefix):
    from hgzoo.metrics import classification_scores

    predicted = model.predict(inputs, batch_size=256, verbose=0).argmax(-1)
    return classification_scores(labels, predicted, len(model.class_names), prefix)


def evaluate(args):
    import keras

    from hgzoo.text import FeatureExtractor

    path = os.path.join(args.model, "model.keras") if os.path.isdir(args.model) else args.model
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no trained model at {path}: give a run folder of 'hgzoo dialogue train'")
    model = keras.saving.load_model(path)
    if not getattr(model, "encoder", None):
        raise ValueError(f"{path} does not record the text backbone its features came from; train it with "
                         "'hgzoo dialogue train' or build it with encoder=FeatureExtractor(...).config()")
    task = "attitude" if type(model).__name__ == "AttitudeTracker" else "strategy"
    examples = _examples(args, task)
    if list(examples.class_names) != list(model.class_names):
        raise ValueError(f"{path} predicts {model.class_names}, the data has {examples.class_names}")
    encoder = dict(model.encoder)
    extractor = FeatureExtractor(encoder.pop("backbone"), cache_dir=args.cache_dir, **encoder)
    scores = {"task": task, "turns": len(examples),
              **_score(model, _inputs(extractor.extract(examples.texts), examples), examples.labels, "test")}
    print(f"accuracy {scores['test_accuracy']:.2f}%, macro-F1 {scores['test_macro_f1']:.2f}% on {len(examples)} turns")
    if args.output:
        replace_atomically(args.output, lambda tmp: pathlib.Path(tmp).write_text(json.dumps(scores, indent=1)))
    return 0
