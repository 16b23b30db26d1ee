"""Spectral MaxExp: fast (repeated squaring) vs eigh path; and f32 vs bf16 pooling heads.

    python benchmarks/layers/power_norm_speed.py [--batch 64 --dim 256 --eta 16]

Writes ``benchmarks/results/layers/power_norm_speed.{json,md}``. Run on an otherwise idle machine.
"""

import argparse
import os
import sys

import keras
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # benchmarks/_report.py
from _report import median_seconds, write  # noqa: E402

from hgzoo.layers import PowerNorm, SecondOrderPool  # noqa: E402


def gradient_fn(layer):
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function
        def step(m):
            with tf.GradientTape() as tape:
                tape.watch(m)
                loss = tf.reduce_sum(layer(m))
            return tape.gradient(loss, m)

        return step
    import jax

    return jax.jit(jax.grad(lambda m: layer(m).sum()))


def forward_fn(layer):
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(layer)
    import jax

    return jax.jit(layer)


def psd_batch(batch, dim, seed=0):
    x = np.random.default_rng(seed).standard_normal((batch, dim, dim + 8)).astype(np.float32)
    m = x @ x.transpose(0, 2, 1)
    return m / np.trace(m, axis1=1, axis2=2)[:, None, None]


def spectral_rows(batch, dim, eta, repeats):
    m = keras.ops.convert_to_tensor(psd_batch(batch, dim))
    rows = []
    for label, layer in [("eigh", PowerNorm("maxexp", eta, spectral=True)),
                         ("fast", PowerNorm("maxexp", eta, spectral=True, fast=True))]:
        fwd, grad = forward_fn(layer), gradient_fn(layer)
        rows.append({"case": f"spectral MaxExp η={eta}, {batch}×{dim}²", "path": label,
                     "forward_s": median_seconds(lambda: np.asarray(fwd(m)), repeats),
                     "forward_backward_s": median_seconds(lambda: np.asarray(grad(m)), repeats)})
    for key in ("forward_s", "forward_backward_s"):
        rows[1][key.replace("_s", "_speedup")] = rows[0][key] / rows[1][key]
    return rows


def head_rows(repeats):
    rows = []
    for channels, side, batch in [(64, 19, 75), (1024, 14, 8)]:
        x = np.random.default_rng(1).random((batch, side, side, channels)).astype(np.float32)
        for policy in ("float32", "mixed_bfloat16"):
            inp = keras.Input((side, side, channels))
            pooled = SecondOrderPool(trace_normalize=True, dtype=policy)(inp)
            out = PowerNorm("sigme", 100.0, dtype=policy)(pooled)
            model = keras.Model(inp, out)
            rows.append({"case": f"SecondOrderPool+SigmE head, {batch}×{side}²×{channels}", "path": policy,
                         "forward_s": median_seconds(lambda: model.predict_on_batch(x), repeats)})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--eta", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rows = spectral_rows(args.batch, args.dim, args.eta, args.repeats) + head_rows(args.repeats)
    print(write("layers", "power_norm_speed", rows, ["case", "path", "forward_s", "forward_backward_s",
                                                     "forward_speedup", "forward_backward_speedup"]))


if __name__ == "__main__":
    main()
