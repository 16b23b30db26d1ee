"""``hgzoo distill run|evaluate``: distil a labelled image folder, and evaluate a distilled set.

Examples::

    hgzoo distill run --data cifar10/train --ipc 10 --method iid --iterations 20000 --out runs/iid10
    hgzoo distill evaluate --synthetic runs/iid10/distilled.npz --test cifar10/test --arch convnet --runs 3
    hgzoo distill evaluate --synthetic runs/iid10/distilled.npz --test cifar10/test --arch resnet18

``--data`` and ``--test`` are folders with one sub-folder of images per class
(``<root>/<class>/*.jpg``, all of one size). ``run`` writes
``<out>/checkpoint.npz`` every ``--checkpoint-every`` iterations (killing it
and running the same command again resumes), then ``<out>/distilled.npz``
and one PNG grid per class. ``evaluate`` prints the test accuracy as mean ±
std over ``--runs`` fresh networks; ``--output`` also writes it as JSON.

Example:

>>> from hgzoo.cli.main import build_parser
>>> args = build_parser().parse_args(["distill", "run", "--data", "train/", "--out", "runs/x"])
>>> args.ipc, args.method, args.iterations, args.real_batch
(10, 'iid', 1000, 256)
"""

import json
import os

from hgzoo.files import replace_atomically


def run(args):
    from hgzoo.distill import distill
    from hgzoo.distill.data import load_image_folder

    images, labels, names = load_image_folder(args.data, per_class=args.per_class, seed=args.seed)
    os.makedirs(args.out, exist_ok=True)
    result = distill(images, labels, images_per_class=args.ipc, method=args.method, iterations=args.iterations,
                     real_batch=args.real_batch, width=args.width, variant=args.variant, pool_size=args.pool_size,
                     pool_epochs=args.pool_epochs, class_names=names, seed=args.seed,
                     checkpoint=os.path.join(args.out, "checkpoint.npz"), checkpoint_every=args.checkpoint_every)
    path = result.save(args.out)
    print(f"{len(result.images)} synthetic images ({args.ipc} per class, {result.iteration} iterations) -> {path}")
    return 0


def evaluate(args):
    import numpy as np

    from hgzoo.distill import DistilledSet, evaluate_synthetic, standardise
    from hgzoo.distill.data import load_image_folder

    synthetic = DistilledSet.load(args.synthetic)
    test_images, test_labels, _ = load_image_folder(args.test, per_class=args.test_per_class)
    if test_images.shape[1:] != synthetic.images.shape[1:]:
        raise ValueError(f"{args.test}: test images are {test_images.shape[1:]}, the synthetic set "
                         f"{synthetic.images.shape[1:]}; give test images of the distilled size")
    result = evaluate_synthetic(synthetic.images, synthetic.labels, standardise(test_images, synthetic.mean,
                                                                                synthetic.std),
                                test_labels, architecture=args.arch, epochs=args.epochs, runs=args.runs,
                                num_classes=int(np.max(synthetic.labels)) + 1, width=args.width, seed=args.seed)
    print(f"{args.arch}: {100 * result['mean']:.2f} ± {100 * result['std']:.2f} % over {args.runs} runs "
          f"({len(test_labels)} test images, {args.epochs} epochs)")
    if args.output:
        def write(tmp):
            with open(tmp, "w") as f:
                json.dump(result, f, indent=1)

        replace_atomically(args.output, write)
    return 0


def add_actions(actions):
    """Add run and evaluate to ``hgzoo distill`` (``actions``: its argparse sub-parsers)."""
    p = actions.add_parser("run", help="distil a labelled image folder into a few images per class, resumably")
    p.add_argument("--data", required=True, help="folder of class sub-folders of images (the training set)")
    p.add_argument("--out", required=True, help="output folder: checkpoint.npz, distilled.npz, class PNG grids")
    p.add_argument("--ipc", type=int, default=10, help="synthetic images per class (default 10)")
    p.add_argument("--method", choices=("dm", "iid"), default="iid", help="DM alone or with IID's terms (iid)")
    p.add_argument("--variant", choices=("dm", "idm"), default="dm", help="which official IID weights (dm)")
    p.add_argument("--iterations", type=int, default=1000, help="distillation iterations (default 1000)")
    p.add_argument("--real-batch", type=int, default=256, help="real images per class per iteration (256)")
    p.add_argument("--width", type=int, default=128, help="ConvNet width (128)")
    p.add_argument("--pool-size", type=int, default=3, help="embedding networks for the centralisation (3)")
    p.add_argument("--pool-epochs", type=int, default=2, help="epochs each embedding network trains (2)")
    p.add_argument("--per-class", type=int, help="read only this many images of each class")
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)

    p = actions.add_parser("evaluate", help="train fresh networks on a distilled set, test on real images")
    p.add_argument("--synthetic", required=True, help="a distilled.npz written by `hgzoo distill run`")
    p.add_argument("--test", required=True, help="folder of class sub-folders of real test images")
    p.add_argument("--arch", choices=("convnet", "resnet18", "vgg11"), default="convnet")
    p.add_argument("--epochs", type=int, default=300, help="training epochs per network (official: 1000)")
    p.add_argument("--runs", type=int, default=3, help="networks to average (default 3)")
    p.add_argument("--width", type=int, help="network width (default: the architecture's)")
    p.add_argument("--test-per-class", type=int, help="test on only this many images of each class")
    p.add_argument("--output", help="also write the result as JSON here")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=evaluate)
