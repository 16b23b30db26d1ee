"""``hgzoo zeroshot train|evaluate``: ZSKL, or GZSL model selection, on a GBU dataset folder
(``att_splits.mat`` + ``res101.mat``).

Examples::

    hgzoo zeroshot train --data xlsa17/data/AWA2 --out runs/zskl_awa2                 # validation selection
    hgzoo zeroshot train --data xlsa17/data/AWA2 --out runs/repro --selection test_set_reproduction
    hgzoo zeroshot evaluate --model runs/zskl_awa2/model.keras --data xlsa17/data/AWA2 --output awa2.json
    hgzoo zeroshot train --method gzsl --data xlsa17/data/AWA2 --out runs/gzsl_awa2  # GZSL model selection
    hgzoo zeroshot evaluate --model runs/gzsl_awa2/model.keras --data xlsa17/data/AWA2

``--data`` is a folder holding ``att_splits.mat`` and the image features
(``res101.mat``, or ``--features NAME``): the GBU archive's layout. Training
uses the released recipe by default (Gaussian kernel, σ 0.8, β 1, VLFeat
RMSProp lr 8e-4, batch 1, 12,000 iterations) and the official
pre-processing; ``--selection test_set_reproduction`` is the released
script's choice of the checkpoint by test-unseen accuracy (model selection on
the test set: only to reproduce the published numbers). Evaluation prints
the ZSL per-class accuracy and the GZSL u / s / H; ``--output`` writes them
as JSON.

``--method gzsl`` trains ZSKL as above (the unseen-class expert), then the
conditional WGAN-GP feature generator on the trainval features
(``--generator-steps`` generator steps, API defaults) and the
:class:`~hgzoo.zeroshot.GZSLModelSelection` gate and seen-class expert
(:func:`~hgzoo.zeroshot.train_model_selection`); ``model.keras`` is the
combined predictor (raw features in, all classes out) and ``generator.keras``
the generator. Evaluating it gives GZSL u / s / H of the routed predictions,
and as ZSL the unseen expert's accuracy among the unseen classes.

Example:

>>> from hgzoo.cli.main import build_parser
>>> args = build_parser().parse_args(["zeroshot", "train", "--data", "AWA2", "--out", "run"])
>>> args.iterations, args.sigma, args.selection, args.kernel, args.method
(12000, 0.8, 'validation', 'gaussian', 'zskl')
"""

import json
import os
import pathlib

from hgzoo.files import replace_atomically

# Literal copies (hgzoo --help must not import Keras); tests/zeroshot/test_zeroshot_cli.py checks them.
KERNELS = ("gaussian", "polynomial", "cauchy")
SELECTIONS = ("validation", "test_set_reproduction", "last")
METHODS = ("zskl", "gzsl")
# train_feature_generator's and train_model_selection's / GZSLModelSelection's defaults (the same test checks them)
GENERATOR_DEFAULTS = {"iterations": 2000, "batch_size": 64, "critic_steps": 5, "gp_weight": 10.0,
                      "learning_rate": 1e-4, "hidden": 4096, "noise_dim": None, "output_activation": "relu"}
SELECTOR_DEFAULTS = {"per_class": 200, "epochs": 20, "batch_size": 128, "hidden": 256, "threshold": 0.5}


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
    if args.method == "gzsl":  # fail before training on data model selection cannot take
        classes = sorted(data.seen_classes.tolist() + data.unseen_classes.tolist())
        if classes != list(range(len(data.attributes))):
            raise ValueError(f"{args.data}: --method gzsl needs every class in trainval (seen) or test_unseen "
                             f"(unseen); classes {sorted(set(range(len(data.attributes))) - set(classes))} are in "
                             "neither")
    model, history = train_zskl(data, iterations=args.iterations, batch_size=args.batch_size,
                                eval_every=args.eval_every, selection=args.selection, seed=args.seed,
                                kernel=args.kernel, sigma=args.sigma, beta=args.beta,
                                orthogonality=args.orthogonality)
    settings = {"data": args.data, "method": args.method, "selection": history["selection"],
                "selected_iterations": history["selected_iterations"], "kernel": args.kernel, "sigma": args.sigma,
                "beta": args.beta, "orthogonality": args.orthogonality, "seed": args.seed}
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "model.keras")
    if args.method == "gzsl":
        model, result, more = _train_gzsl(args, data, model)
        settings.update(more)
    else:
        result = evaluate_zskl(model, data.preprocessed())
    replace_atomically(path, model.save, suffix=".keras")
    print(f"Saved {os.path.abspath(path)}  (ZSKL {history['selection']} selection: "
          f"{history['selected_iterations']} iterations)")
    _report(result, os.path.join(args.out, "result.json"), settings)
    return 0


def _train_gzsl(args, data, zskl):
    """The feature generator and the model-selection predictor on top of a trained ZSKL (``zskl``)."""
    from hgzoo.zeroshot import (
        GZSLModelSelection,
        evaluate_model_selection,
        train_feature_generator,
        train_model_selection,
    )

    attributes = data.preprocessed().attributes  # what ZSKL was trained with
    x, y = data.split("trainval")  # raw: the generator and the combined model work in the raw feature space
    generator = train_feature_generator(x, y, attributes, iterations=args.generator_steps,
                                        batch_size=args.generator_batch_size, critic_steps=args.critic_steps,
                                        gp_weight=args.gp_weight, learning_rate=args.generator_lr,
                                        hidden=args.generator_hidden, noise_dim=args.noise_dim,
                                        output_activation=args.generator_output, seed=args.seed)
    path = os.path.join(args.out, "generator.keras")
    replace_atomically(path, generator.save, suffix=".keras")
    print(f"Saved {os.path.abspath(path)}  ({args.generator_steps} generator steps)")
    model = GZSLModelSelection(x.shape[1], attributes.shape[1], data.seen_classes, data.unseen_classes,
                               hidden=args.selector_hidden, threshold=args.threshold, kernel=args.kernel,
                               sigma=args.sigma)
    train_model_selection(model, x, y, attributes, generator, zskl, per_class=args.per_class,
                          epochs=args.selector_epochs, batch_size=args.selector_batch_size, seed=args.seed)
    more = {"generator_steps": args.generator_steps, "generator_hidden": args.generator_hidden,
            "per_class": args.per_class, "selector_hidden": args.selector_hidden,
            "selector_epochs": args.selector_epochs, "threshold": args.threshold}
    return model, evaluate_model_selection(model, data), more


def evaluate(args):
    from hgzoo.cli.general import load_model
    from hgzoo.zeroshot import ZSKL, GZSLModelSelection, evaluate_model_selection, evaluate_zskl, load_gbu

    model = load_model(args.model)
    if not isinstance(model, (ZSKL, GZSLModelSelection)):
        raise ValueError(f"{args.model} holds a {type(model).__name__}; hgzoo zeroshot evaluate takes a ZSKL or "
                         "GZSLModelSelection saved by hgzoo zeroshot train")
    raw = load_gbu(args.data, features=args.features)
    data = raw.preprocessed()
    config = model.get_config()
    if data.features.shape[1] != config["feature_dim"] or data.attributes.shape[1] != config["attribute_dim"]:
        raise ValueError(f"{args.model} takes {config['feature_dim']}-d features and "
                         f"{config['attribute_dim']} attributes; {args.data} has "
                         f"{data.features.shape[1]} and {data.attributes.shape[1]}")
    if isinstance(model, GZSLModelSelection):
        if (config["seen_classes"], config["unseen_classes"]) != (data.seen_classes.tolist(),
                                                                  data.unseen_classes.tolist()):
            raise ValueError(f"{args.model} was trained with seen classes {config['seen_classes']} and unseen "
                             f"classes {config['unseen_classes']}; {args.data}'s splits give "
                             f"{data.seen_classes.tolist()} and {data.unseen_classes.tolist()}")
        result, method = evaluate_model_selection(model, raw), "gzsl"
    else:
        result, method = evaluate_zskl(model, data), "zskl"
    _report(result, args.output, {"model": args.model, "data": args.data, "method": method})
    return 0


def add_actions(actions):
    """Add train and evaluate to ``hgzoo zeroshot`` (``actions``: its argparse sub-parsers)."""
    p = actions.add_parser("train", help="train ZSKL (or GZSL model selection) on a GBU folder")
    p.add_argument("--method", choices=METHODS, default="zskl",
                   help="zskl (default) | gzsl: ZSKL as the unseen expert + feature generator + seen/unseen gate")
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
    g, s = GENERATOR_DEFAULTS, SELECTOR_DEFAULTS
    gzsl = p.add_argument_group("--method gzsl", "the feature generator (conditional WGAN-GP) and the model selection")
    gzsl.add_argument("--generator-steps", type=int, default=g["iterations"], help="generator steps")
    gzsl.add_argument("--generator-batch-size", type=int, default=g["batch_size"])
    gzsl.add_argument("--critic-steps", type=int, default=g["critic_steps"], help="critic steps per generator step")
    gzsl.add_argument("--gp-weight", type=float, default=g["gp_weight"], help="gradient-penalty weight λ")
    gzsl.add_argument("--generator-lr", type=float, default=g["learning_rate"], help="Adam learning rate")
    gzsl.add_argument("--generator-hidden", type=int, default=g["hidden"], help="generator and critic hidden width")
    gzsl.add_argument("--noise-dim", type=int, default=g["noise_dim"], help="default: the attribute dimension")
    gzsl.add_argument("--generator-output", choices=("relu", "linear"), default=g["output_activation"],
                      help="relu for non-negative (ResNet) features")
    gzsl.add_argument("--per-class", type=int, default=s["per_class"],
                      help="generated features per unseen class for the gate")
    gzsl.add_argument("--selector-hidden", type=int, default=s["hidden"], help="gate and seen-expert hidden width")
    gzsl.add_argument("--selector-epochs", type=int, default=s["epochs"], help="gate and seen-expert epochs")
    gzsl.add_argument("--selector-batch-size", type=int, default=s["batch_size"])
    gzsl.add_argument("--threshold", type=float, default=s["threshold"],
                      help="route to the unseen expert when p(unseen | x) > threshold")
    p.set_defaults(func=train)

    p = actions.add_parser("evaluate", help="ZSL accuracy and GZSL u / s / H of a trained ZSKL or GZSL model")
    p.add_argument("--model", required=True, help="a model.keras saved by hgzoo zeroshot train (either method)")
    p.add_argument("--data", required=True, help="folder with att_splits.mat and res101.mat (GBU layout)")
    p.add_argument("--features", default="res101.mat", help="features file inside --data (default res101.mat)")
    p.add_argument("--output", help="also write the result as JSON here")
    p.set_defaults(func=evaluate)
