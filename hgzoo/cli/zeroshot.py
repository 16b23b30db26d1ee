"""``hgzoo zeroshot train|evaluate``: ZSKL on a GBU dataset folder (``att_splits.mat`` + ``res101.mat``).

Examples::

    hgzoo zeroshot train --data xlsa17/data/AWA2 --out runs/zskl_awa2                 # validation selection
    hgzoo zeroshot train --data xlsa17/data/AWA2 --out runs/repro --selection test_set_reproduction
    hgzoo zeroshot evaluate --model runs/zskl_awa2/model.keras --data xlsa17/data/AWA2 --output awa2.json

``--data`` is a folder holding ``att_splits.mat`` and the image features
(``res101.mat``, or ``--features NAME``): the GBU archive's layout. Training
uses the released recipe by default (Gaussian kernel, σ 0.8, β 1, VLFeat
RMSProp lr 8e-4, batch 1, 12,000 iterations) and the official
pre-processing; ``--selection test_set_reproduction`` is the released
script's choice of the checkpoint by test-unseen accuracy (model selection on
the test set: only to reproduce the published numbers). Evaluation prints
the ZSL per-class accuracy and the GZSL u / s / H; ``--output`` writes them
as JSON.

Example:

>>> from hgzoo.cli.main import build_parser
>>> args = build_parser().parse_args(["zeroshot", "train", "--data", "AWA2", "--out", "run"])
>>> args.iterations, args.sigma, args.selection, args.kernel
(12000, 0.8, 'validation', 'gaussian')
"""

import json
import os
import pathlib

from hgzoo.files import replace_atomically

# Literal copies (hgzoo --help must not import Keras); tests/zeroshot/test_zeroshot_cli.py checks them.
KERNELS = ("gaussian", "polynomial", "cauchy")
SELECTIONS = ("validation", "test_set_reproduction", "last")


def _report(result, output, extra):
    print(f"ZSL per-class accuracy {100 * result['zsl']:.2f}%;  GZSL u {100 * result['u']:.2f}%  "
          f"s {100 * result['s']:.2f}%  H {100 * result['H']:.2f}%")
    if output:
        record = {**extra, **result}
        replace_atomically(output, lambda tmp: pathlib.Path(tmp).write_text(json.dumps(record, indent=1)))
        print(f"Results: {os.path.abspath(output)}")


def train(args):
    import keras

    from hgzoo.zeroshot import evaluate_zskl, load_gbu, train_zskl

    keras.utils.set_random_seed(args.seed)
    data = load_gbu(args.data, features=args.features)
    model, history = train_zskl(data, iterations=args.iterations, batch_size=args.batch_size,
                                eval_every=args.eval_every, selection=args.selection, seed=args.seed,
                                kernel=args.kernel, sigma=args.sigma, beta=args.beta,
                                orthogonality=args.orthogonality)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "model.keras")
    replace_atomically(path, model.save, suffix=".keras")
    print(f"Saved {os.path.abspath(path)}  ({history['selection']} selection: "
          f"{history['selected_iterations']} iterations)")
    settings = {"data": args.data, "selection": history["selection"],
                "selected_iterations": history["selected_iterations"], "kernel": args.kernel, "sigma": args.sigma,
                "beta": args.beta, "orthogonality": args.orthogonality, "seed": args.seed}
    _report(evaluate_zskl(model, data.preprocessed()), os.path.join(args.out, "result.json"), settings)
    return 0


def evaluate(args):
    from hgzoo.cli.general import load_model
    from hgzoo.zeroshot import ZSKL, evaluate_zskl, load_gbu

    model = load_model(args.model)
    if not isinstance(model, ZSKL):
        raise ValueError(f"{args.model} holds a {type(model).__name__}; hgzoo zeroshot evaluate takes a ZSKL "
                         "saved by hgzoo zeroshot train")
    data = load_gbu(args.data, features=args.features).preprocessed()
    if data.features.shape[1] != model.get_config()["feature_dim"] or \
            data.attributes.shape[1] != model.get_config()["attribute_dim"]:
        raise ValueError(f"{args.model} takes {model.get_config()['feature_dim']}-d features and "
                         f"{model.get_config()['attribute_dim']} attributes; {args.data} has "
                         f"{data.features.shape[1]} and {data.attributes.shape[1]}")
    _report(evaluate_zskl(model, data), args.output, {"model": args.model, "data": args.data})
    return 0


def add_actions(actions):
    """Add train and evaluate to ``hgzoo zeroshot`` (``actions``: its argparse sub-parsers)."""
    p = actions.add_parser("train", help="train ZSKL on a GBU folder with the released recipe")
    p.add_argument("--data", required=True, help="folder with att_splits.mat and res101.mat (GBU layout)")
    p.add_argument("--features", default="res101.mat", help="features file inside --data (default res101.mat)")
    p.add_argument("--out", required=True, help="run folder: model.keras and result.json")
    p.add_argument("--kernel", choices=KERNELS, default="gaussian")
    p.add_argument("--sigma", type=float, default=0.8)
    p.add_argument("--beta", type=float, default=1.0)
    p.add_argument("--orthogonality", choices=("none", "penalty", "retraction"), default="none")
    p.add_argument("--iterations", type=int, default=12000)
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--eval-every", type=int, default=400)
    p.add_argument("--selection", choices=SELECTIONS, default="validation",
                   help="validation (default) | test_set_reproduction (the released script's test-set choice) | last")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=train)

    p = actions.add_parser("evaluate", help="ZSL accuracy and GZSL u / s / H of a trained ZSKL")
    p.add_argument("--model", required=True, help="a model.keras saved by hgzoo zeroshot train")
    p.add_argument("--data", required=True, help="folder with att_splits.mat and res101.mat (GBU layout)")
    p.add_argument("--features", default="res101.mat", help="features file inside --data (default res101.mat)")
    p.add_argument("--output", help="also write the result as JSON here")
    p.set_defaults(func=evaluate)
