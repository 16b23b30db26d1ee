"""DM vs DM+IID dataset distillation on real CIFAR-10 (JPEG copy), at a budget that fits 2 CPU cores.

For IPC 1 and 10: a random real subset, DM, and DM + IID (covariance
matching 0.01 + class centralisation 0.05, the official weights), every
distilled row with the same iterations, matching network, real batch and
seed; each set is evaluated by training fresh ConvNets on it (the official
schedule, fewer epochs) and testing on all 10,000 real CIFAR-10 test images.
At IPC 10 the script also evaluates the set every ``--curve-every``
iterations (accuracy vs iterations, one run each), measures the loop's
speed (real images per second through the matching network) and runs the
cross-architecture check (ResNet-18 and VGG-11, reduced width, trained on
the IPC-10 sets).

    flock /work/heavy.lock python benchmarks/distill/cifar10_iid.py

The CIFAR-10 images are the JPEG copy in ``../shared/data/cifar10`` (pixels
differ slightly from the official binary release); the archive is unpacked
to a temporary folder. Results: ``benchmarks/results/distill/cifar10_iid.{json,md}``.
"""

import argparse
import os
import sys
import tarfile
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from _report import write

from hgzoo.distill import (
    CIFAR10_MEAN,
    CIFAR10_STD,
    distill,
    evaluate_synthetic,
    standardise,
    train_embedding_pool,
)
from hgzoo.distill.data import load_image_folder

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARCHIVE = os.path.join(ROOT, "..", "shared", "data", "cifar10", "cifar10-jpeg.tar.gz")
COLUMNS = ["method", "IPC", "architecture", "test acc % (CIFAR-10 JPEG)", "± (runs)", "runs", "iterations",
           "wall s / iteration"]


def cifar10(folder, train_per_class, seed):
    """((x, y, names), (test x, test y, names)), decoded once and cached as an npz beside the unpacked JPEGs."""
    cache = os.path.join(folder, f"arrays_{train_per_class}_{seed}.npz")
    if os.path.exists(cache):
        with np.load(cache) as a:
            names = a["names"].tolist()
            return (a["x"], a["y"], names), (a["tx"], a["ty"], names)
    if not os.path.isdir(os.path.join(folder, "train")):
        with tarfile.open(ARCHIVE) as tar:
            tar.extractall(folder, filter="data")
    x, y, names = load_image_folder(os.path.join(folder, "train"), per_class=train_per_class, seed=seed)
    tx, ty, _ = load_image_folder(os.path.join(folder, "test"))
    np.savez(cache, x=x, y=y, tx=tx, ty=ty, names=np.array(names))
    return (x, y, names), (tx, ty, names)


def seconds_per_iteration(x, y, pool, args, policy, repeats=4):
    """The IPC-10 DM+IID loop's seconds per iteration under a Keras dtype policy, after tracing every DSA choice."""
    import keras

    from hgzoo.distill import SiameseAugmentation
    from hgzoo.distill.distillation import _Loop

    keras.mixed_precision.set_global_policy(policy)
    try:
        loop = _Loop(standardise(x, CIFAR10_MEAN, CIFAR10_STD), y, 10, 10, "iid", "dm", args.real_batch, args.width, 3,
                     pool, 1.0, 0.5, SiameseAugmentation(), args.seed, None, None)
        variable = keras.Variable(loop.init_real())
        loop.optimizer.build([variable])
        traced, i = set(), 0
        while len(traced) < 6 and i < 100:  # the step is traced once per DSA transformation
            choice = loop.dsa.chosen(np.random.default_rng([args.seed, i]).integers(0, 2 ** 31, 11)[-1])
            if choice not in traced:
                loop.iterate(variable, i)
                traced.add(choice)
            i += 1
        start = time.time()
        for i in range(repeats):
            loop.iterate(variable, 10_000 + i)
        return (time.time() - start) / repeats
    finally:
        keras.mixed_precision.set_global_policy("float32")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "hgzoo_cifar10_jpeg"),
                        help="where the archive is unpacked (reused when present)")
    parser.add_argument("--train-per-class", type=int, default=500, help="real training images per class")
    parser.add_argument("--iterations", type=int,
                        help="iterations per distilled row (default: what fits --loop-budget, in steps of 20)")
    parser.add_argument("--loop-budget", type=float, default=360,
                        help="seconds for the four distillation runs together, used to choose --iterations")
    parser.add_argument("--real-batch", type=int, default=128)
    parser.add_argument("--width", type=int, default=32, help="matching, embedding and evaluation ConvNet width")
    parser.add_argument("--pool-size", type=int, default=3)
    parser.add_argument("--pool-epochs", type=int, default=2)
    parser.add_argument("--eval-epochs", type=int, default=300)
    parser.add_argument("--eval-runs", type=int, default=3)
    parser.add_argument("--curve-every", type=int, help="evaluate every N iterations at IPC 10 (default: a quarter)")
    parser.add_argument("--cross-width", type=int, default=16)
    parser.add_argument("--cross-epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    t = time.time()
    (x, y, names), (tx, ty, _) = cifar10(args.data, args.train_per_class, args.seed)
    test = standardise(tx, CIFAR10_MEAN, CIFAR10_STD)
    print(f"loaded {len(x)} train / {len(tx)} test images in {time.time() - t:.0f} s", flush=True)
    t = time.time()
    pool = train_embedding_pool(standardise(x, CIFAR10_MEAN, CIFAR10_STD), y, 10, args.pool_size, args.pool_epochs,
                                args.width, seed=args.seed)
    pool_s = time.time() - t
    pool_acc = [evaluate_net(net, test, ty) for net in pool]
    print(f"embedding pool: {args.pool_size} ConvNet-{args.width} x {args.pool_epochs} epochs in {pool_s:.0f} s, "
          f"test acc {np.round(pool_acc, 3).tolist()}", flush=True)
    speed = {policy: seconds_per_iteration(x, y, pool, args, policy) for policy in ("float32", "mixed_bfloat16")}
    print(f"seconds per iteration (IPC 10, DM + IID): {speed}", flush=True)
    if args.iterations is None:
        args.iterations = max(20, int(args.loop_budget / (4 * speed["float32"]) // 20 * 20))
    args.curve_every = args.curve_every or max(args.iterations // 4, 1)
    print(f"iterations per row: {args.iterations}, curve every {args.curve_every}", flush=True)

    def evaluate(images, labels, architecture="convnet", runs=args.eval_runs, epochs=args.eval_epochs,
                 width=args.width):
        return evaluate_synthetic(images, labels, test, ty, architecture, epochs, runs, num_classes=10, width=width,
                                  seed=args.seed)

    rows, sets = [], {}
    speed_row = {"float32_s_per_iteration": speed["float32"], "mixed_bfloat16_s_per_iteration": speed["mixed_bfloat16"],
                 "real_images_per_s_float32": 10 * args.real_batch / speed["float32"]}
    for ipc in (1, 10):
        rng = np.random.default_rng([args.seed, ipc])
        picks = np.concatenate([rng.choice(np.flatnonzero(y == c), ipc, replace=False) for c in range(10)])
        result = evaluate(standardise(x[picks], CIFAR10_MEAN, CIFAR10_STD), y[picks])
        rows.append(row("random real", ipc, "convnet", result, 0))
        print(rows[-1], flush=True)
        for method in ("dm", "iid"):
            curve = []

            def on_checkpoint(s, ipc=ipc, curve=curve, method=method):
                if ipc == 10 and 0 < s.iteration < args.iterations:
                    r = evaluate(s.images, s.labels, runs=1)
                    curve.append({"iteration": s.iteration, "accuracy": r["mean"]})
                    print(f"  {method} IPC {ipc} iteration {s.iteration}: {100 * r['mean']:.2f}%", flush=True)

            start = time.time()
            timer = _Timer()
            synthetic = distill(x, y, images_per_class=ipc, method=method, iterations=args.iterations,
                                real_batch=args.real_batch, width=args.width, pool=pool, class_names=names,
                                checkpoint_every=args.curve_every, on_checkpoint=timer.wrap(on_checkpoint),
                                seed=args.seed, progress=False)
            loop_s = time.time() - start - timer.spent
            result = evaluate(synthetic.images, synthetic.labels)
            curve.append({"iteration": args.iterations, "accuracy": result["mean"]})
            seconds = loop_s / max(args.iterations, 1)
            r = row({"dm": "DM", "iid": "DM + IID"}[method], ipc, "convnet", result, args.iterations, seconds)
            r["curve"] = curve
            rows.append(r)
            sets[(method, ipc)] = synthetic
            print(r, flush=True)
            if ipc == 10 and method == "iid":
                out = os.path.join(ROOT, "docs", "images")
                os.makedirs(out, exist_ok=True)
                from hgzoo.data.images import write_image
                from hgzoo.distill.synthetic_set import grid

                write_image(os.path.join(out, "distill_iid_cifar10_ipc10.png"), grid(synthetic.pixels(), columns=10))
    for method in ("dm", "iid"):
        synthetic = sets[(method, 10)]
        for architecture in ("resnet18", "vgg11"):
            result = evaluate(synthetic.images, synthetic.labels, architecture, runs=1, epochs=args.cross_epochs,
                              width=args.cross_width)
            rows.append(row({"dm": "DM", "iid": "DM + IID"}[method], 10, f"{architecture} (width {args.cross_width})",
                            result, args.iterations))
            print(rows[-1], flush=True)

    acc = {(r["method"], r["IPC"]): r["test acc % (CIFAR-10 JPEG)"] for r in rows if r["architecture"] == "convnet"}
    gap = acc[("DM + IID", 10)] - acc[("DM", 10)]
    notes = (
        f"Real CIFAR-10 (the JPEG copy, quality about 75: pixels differ slightly from the binary release, so compare "
        f"with papers only approximately); all 10,000 test images. Budget, the same for every distilled row: "
        f"{args.iterations} iterations (official: 20,000), real batch {args.real_batch} per class (official: 256), "
        f"matching ConvNet-3 of width {args.width} (official: 128) drawn afresh every iteration, DSA "
        f"color_crop_cutout_flip_scale_rotate, SGD(lr 1.0, momentum 0.5) on the images, real initialisation, seed "
        f"{args.seed}; the real images come from {args.train_per_class} per class. IID's centralisation uses a pool "
        f"of {args.pool_size} ConvNet-{args.width} trained {args.pool_epochs} epochs each on those images "
        f"({pool_s:.0f} s; test accuracy {', '.join(f'{100 * a:.1f}%' for a in pool_acc)}), not the official 1,000 "
        f"ResNet-18s. Evaluation: fresh ConvNet-3 of width {args.width}, {args.eval_epochs} epochs (official: 1,000), "
        f"SGD 0.01 momentum 0.9 wd 5e-4, lr x0.1 at half, DSA; mean ± std over {args.eval_runs} runs. "
        f"Cross-architecture: ResNet-18 and VGG-11 (instance norm) of width {args.cross_width}, {args.cross_epochs} "
        f"epochs, 1 run. Rows with a curve (IPC 10) hold accuracy vs iteration in the JSON (1 run per point). "
        f"wall s / iteration: the distillation run's wall time (tracing, checkpoints; not the curve evaluations) over "
        f"its iterations, float32. Steady-state speed of the IPC-10 DM + IID loop, measured before the runs after "
        f"tracing ({10 * args.real_batch} real + 100 synthetic images through the matching ConvNet, plus the "
        f"synthetic ones through the embedding net, per iteration): {speed['float32']:.3f} s / iteration = "
        f"{10 * args.real_batch / speed['float32']:.0f} real images/s in float32, {speed['mixed_bfloat16']:.3f} s = "
        f"{10 * args.real_batch / speed['mixed_bfloat16']:.0f} real images/s in mixed_bfloat16 "
        f"({speed['float32'] / speed['mixed_bfloat16']:.2f}x); the rows use float32. "
        f"IID - DM at IPC 10: {gap:+.2f} points (target of the issue: +2; the paper reports up to +6.6 at 20k "
        f"iterations with the full pool)."
    )
    rows[0]["loop_speed"] = speed_row
    print(write("distill", "cifar10_iid", rows, COLUMNS, notes))


class _Timer:
    """Time spent inside checkpoint callbacks (curve evaluations), to leave out of the loop's speed."""

    def __init__(self):
        self.spent = 0.0

    def wrap(self, fn):
        def timed(*args):
            t = time.time()
            fn(*args)
            self.spent += time.time() - t

        return timed


def evaluate_net(net, images, labels):
    return float(np.mean(np.argmax(net.predict(images, batch_size=500, verbose=0), -1) == labels))


def row(method, ipc, architecture, result, iterations, seconds=None):
    return {"method": method, "IPC": ipc, "architecture": architecture,
            "test acc % (CIFAR-10 JPEG)": round(100 * result["mean"], 2), "± (runs)": round(100 * result["std"], 2),
            "runs": result["runs"], "iterations": iterations,
            "wall s / iteration": round(seconds, 3) if seconds else "",
            "accuracies": result["accuracies"], "epochs": result["epochs"]}


if __name__ == "__main__":
    main()
