"""DMPHN(1-2-4) against the authors' PyTorch code on this machine: inference, training, and a float32 profile.

    HGZOO_WEIGHTS_DIR=../shared/data/dmphn python benchmarks/deblur/versus_official.py
    python benchmarks/deblur/versus_official.py --official ../ext/dmphn_official --train-steps 3

In one run, each configuration in its own process (so its peak memory is its own):

- inference, one 1280×720 GoPro frame (``gopro/Istanbul_blur1.png``), the authors'
  weights, median of ``--repeats`` after one warm-up: hgzoo float32, hgzoo
  bfloat16 (``precision="bfloat16"``), the authors' PyTorch ``Encoder``/``Decoder``
  (their ``models.py``, imported by path, never copied) wired as their
  ``DMPHN_1_2_4_test.py`` does;
- training, the authors' recipe (batch 6, 256×256 crops, MSE, Adam 1e-4):
  steps/s of hgzoo's ``fit`` in float32 and ``mixed_bfloat16``, and of their
  training step (forward, backward, Adam) on the same synthetic batch;
- a profile of one hgzoo float32 720p forward pass: the encoders/decoders alone
  on the shapes they see, a plain Keras conv stack of the same shapes (the
  machine's dense-conv throughput), the patch split/merge and padding alone,
  and how many cores the pass kept busy.

Ratios are against the authors' code measured in the same run. Writes
``benchmarks/results/deblur/versus_official.{json,md}`` and
``benchmarks/results/deblur/profile_fp32.{json,md}``.
"""

import argparse
import json
import os
import subprocess
import sys

BENCHMARKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, BENCHMARKS)
from _report import ROOT, data_dir, write  # noqa: E402

OFFICIAL = os.path.join(ROOT, "..", "ext", "dmphn_official")
FLAGS_OF_INTEREST = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "amx_int8", "fma")

COMMON = r"""
import json, os, resource, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from _report import median_seconds, peak_rss_mb
args = json.loads(sys.argv[2])

def frame():
    from PIL import Image
    return np.asarray(Image.open(os.path.join(args["data"], "gopro", "Istanbul_blur1.png")).convert("RGB"))

def batch():
    rng = np.random.default_rng(0)
    x = rng.random((6, 256, 256, 3), dtype=np.float32)
    return x, np.clip(x + 0.05 * rng.standard_normal(x.shape, dtype=np.float32), 0, 1)

def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

def done(**out):
    print("RESULT " + json.dumps({**out, "peak_rss_mb": peak_rss_mb()}), flush=True)
"""

HGZOO_INFER = COMMON + r"""
import hgzoo
model = hgzoo.deblur.DMPHN(pretrained=True)
x = frame()
run = lambda: hgzoo.deblur.deblur(model, x, tile=None, precision=args["precision"])
t = median_seconds(run, repeats=args["repeats"])
done(seconds=t, output=np.asarray(run(), np.uint8).tolist()[0][:4])
"""

TORCH_COMMON = r"""
import importlib.util, torch
spec = importlib.util.spec_from_file_location("dmphn_official_models", os.path.join(args["official"], "models.py"))
models = importlib.util.module_from_spec(spec); spec.loader.exec_module(models)
E = [models.Encoder() for _ in range(3)]
D = [models.Decoder() for _ in range(3)]

def load():
    for kind, blocks in (("encoder", E), ("decoder", D)):
        for i, block in enumerate(blocks):
            path = os.path.join(args["weights"], "checkpoints", "DMPHN_1_2_4", f"{kind}_lv{i + 1}.pkl")
            block.load_state_dict(torch.load(path, map_location="cpu"))

def forward(images_lv1):
    # DMPHN_1_2_4_test.py / DMPHN_1_2_4.py, lines as the authors wrote them (lv1 = E[0], D[0]).
    H, W = images_lv1.size(2), images_lv1.size(3)
    images_lv2_1 = images_lv1[:, :, 0:int(H / 2), :]
    images_lv2_2 = images_lv1[:, :, int(H / 2):H, :]
    images_lv3_1 = images_lv2_1[:, :, :, 0:int(W / 2)]
    images_lv3_2 = images_lv2_1[:, :, :, int(W / 2):W]
    images_lv3_3 = images_lv2_2[:, :, :, 0:int(W / 2)]
    images_lv3_4 = images_lv2_2[:, :, :, int(W / 2):W]
    feature_lv3_1, feature_lv3_2 = E[2](images_lv3_1), E[2](images_lv3_2)
    feature_lv3_3, feature_lv3_4 = E[2](images_lv3_3), E[2](images_lv3_4)
    feature_lv3_top = torch.cat((feature_lv3_1, feature_lv3_2), 3)
    feature_lv3_bot = torch.cat((feature_lv3_3, feature_lv3_4), 3)
    feature_lv3 = torch.cat((feature_lv3_top, feature_lv3_bot), 2)
    residual_lv3_top, residual_lv3_bot = D[2](feature_lv3_top), D[2](feature_lv3_bot)
    feature_lv2_1 = E[1](images_lv2_1 + residual_lv3_top)
    feature_lv2_2 = E[1](images_lv2_2 + residual_lv3_bot)
    feature_lv2 = torch.cat((feature_lv2_1, feature_lv2_2), 2) + feature_lv3
    residual_lv2 = D[1](feature_lv2)
    feature_lv1 = E[0](images_lv1 + residual_lv2) + feature_lv2
    return D[0](feature_lv1)
"""

TORCH_INFER = COMMON + TORCH_COMMON + r"""
load()
x = torch.from_numpy(frame().astype(np.float32) / 255).permute(2, 0, 1)[None] - 0.5
def run():
    with torch.no_grad():
        return forward(x)
t = median_seconds(run, repeats=args["repeats"])
y = ((run()[0].permute(1, 2, 0).numpy() + 0.5).clip(0, 1) * 255 + 0.5).astype(np.uint8)
done(seconds=t, threads=torch.get_num_threads(), torch=torch.__version__, output=y.tolist()[0][:4])
"""

TORCH_TRAIN = COMMON + TORCH_COMMON + r"""
params = [p for m in E + D for p in m.parameters()]
optim = torch.optim.Adam(params, lr=1e-4)  # the authors keep one Adam per block: the same arithmetic
mse = torch.nn.MSELoss()
xb, yb = batch()
x = torch.from_numpy(xb).permute(0, 3, 1, 2) - 0.5
gt = torch.from_numpy(yb).permute(0, 3, 1, 2) - 0.5
def step():
    loss = mse(forward(x), gt)
    for m in E + D:
        m.zero_grad()
    loss.backward()
    optim.step()
    return loss
t = median_seconds(step, repeats=args["steps"], warmup=2)
done(seconds_per_step=t, steps_per_s=1 / t, threads=torch.get_num_threads())
"""

HGZOO_TRAIN = COMMON + r"""
import keras, hgzoo
keras.mixed_precision.set_global_policy(args["precision"])
model = hgzoo.deblur.DMPHN(levels=(1, 2, 4))
xb, yb = batch()
times = []
class Clock(keras.callbacks.Callback):
    def on_train_batch_begin(self, batch, logs=None):
        self.start = time.perf_counter()
    def on_train_batch_end(self, batch, logs=None):
        times.append(time.perf_counter() - self.start)
reps = 2 + args["steps"]  # two warm-up steps (tracing), then the timed ones
model.fit(np.concatenate([xb] * reps), np.concatenate([yb] * reps), batch_size=6, epochs=1, shuffle=False,
          verbose=0, callbacks=[Clock()])
t = float(np.median(times[2:]))
done(seconds_per_step=t, steps_per_s=1 / t)
"""

PROFILE = COMMON + r"""
import keras, hgzoo
from keras import ops
from hgzoo.deblur.blocks import DECODER_SPEC, ENCODER_SPEC
model = hgzoo.deblur.DMPHN(pretrained=True)
x = frame()[None].astype(np.float32) / 255
reps = args["repeats"]
t0 = cpu_seconds(); w0 = time.perf_counter()
total = median_seconds(lambda: model.predict_on_batch(x), repeats=reps)
busy = (cpu_seconds() - t0) / (time.perf_counter() - w0)
H, W = x.shape[1:3]
enc_in = [(4, H // 2, W // 2, 3), (2, H // 2, W, 3), (1, H, W, 3)]          # levels 3, 2, 1
dec_in = [(2, H // 8, W // 4, 128), (1, H // 4, W // 4, 128), (1, H // 4, W // 4, 128)]

def timed(fn, shape):
    z = np.zeros(shape, np.float32)
    return median_seconds(lambda: fn.predict_on_batch(z), repeats=reps)

def wrap(layer, channels):
    inp = keras.Input((None, None, channels))
    return keras.Model(inp, layer(inp))

blocks = 0.0
for i in range(3):
    blocks += timed(wrap(model.get_layer(f"encoder_lv{3 - i}"), 3), enc_in[i])
    blocks += timed(wrap(model.get_layer(f"decoder_lv{3 - i}"), 128), dec_in[i])

def plain(spec, channels):
    # the same convolutions (kernels, strides, padding, ReLUs) without the residual adds and explicit pads
    inp = keras.Input((None, None, channels)); y = inp
    for kind, name, c in spec:
        if kind == "rb":
            y = keras.layers.Conv2D(c, 3, padding="same", activation="relu")(y)
            y = keras.layers.Conv2D(c, 3, padding="same")(y)
        elif kind == "up":
            y = keras.layers.Conv2DTranspose(c, 4, strides=2, padding="same")(y)
        else:
            y = keras.layers.Conv2D(c, 3, strides=2 if kind == "down" else 1, padding="same")(y)
    return keras.Model(inp, y)

def flops(spec, shape):
    b, h, w, cin = shape; total = 0
    for kind, name, c in spec:
        if kind == "rb":
            total += 2 * (2 * 9 * cin * c * b * h * w); cin = c
        elif kind == "up":
            total += 2 * 16 * cin * c * b * h * w; h, w, cin = 2 * h, 2 * w, c
        elif kind == "down":
            h, w = h // 2, w // 2; total += 2 * 9 * cin * c * b * h * w; cin = c
        else:
            total += 2 * 9 * cin * c * b * h * w; cin = c
    return total

pe, pd = plain(ENCODER_SPEC, 3), plain(DECODER_SPEC, 128)
dense = sum(timed(pe, s) for s in enc_in) + sum(timed(pd, s) for s in dec_in)
work = sum(flops(ENCODER_SPEC, s) for s in enc_in) + sum(flops(DECODER_SPEC, s) for s in dec_in)
split = model.get_layer("split_lv2"), model.get_layer("split_lv3")
merge = model.get_layer("merge_lv2"), model.get_layer("merge_lv3")
inp = keras.Input((None, None, 3)); h = split[0](inp); q = split[1](h)
f = keras.Input((None, None, 128)); m = merge[0](merge[1](f))
split_t = timed(keras.Model(inp, [h, q]), (1, H, W, 3))
merge_t = timed(keras.Model(f, m), (4, H // 8, W // 8, 128))
pinp = keras.Input((None, None, 32))
pad_model = keras.Model(pinp, ops.pad(pinp, ((0, 0), (1, 1), (1, 1), (0, 0))))
pads = timed(pad_model, (4, H // 2, W // 2, 32)) + timed(pad_model, (2, H // 2, W, 32)) + timed(pad_model, (1, H, W, 32))
done(forward_s=total, blocks_s=blocks, dense_conv_s=dense, tflop=work / 1e12, model_gflops=work / total / 1e9,
     dense_gflops=work / dense / 1e9, split_s=split_t, merge_s=merge_t, pad_32ch_s=pads, cores_busy=busy)
"""


def run_child(code, **kwargs):
    env = {"HGZOO_WEIGHTS_DIR": kwargs["weights"], **os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", code, BENCHMARKS, json.dumps(kwargs)], env=env,
                          capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"child failed:\n{proc.stderr[-3000:]}")


def machine():
    model, flags = "unknown", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    return {"cpu": model, "cores": os.cpu_count(), "flags": [f for f in FLAGS_OF_INTEREST if f in flags]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--official", default=OFFICIAL, help="the authors' repository (DMPHN-cvpr19-master)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-steps", type=int, default=3)
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: infer,train,profile")
    args = parser.parse_args()
    weights = os.environ.get("HGZOO_WEIGHTS_DIR", data_dir("dmphn"))
    common = dict(data=data_dir(), weights=weights, official=os.path.abspath(args.official), repeats=args.repeats,
                  steps=args.train_steps)
    cpu = machine()
    skip = set(filter(None, args.skip.split(",")))
    rows = []
    if "infer" not in skip:
        torch_row = run_child(TORCH_INFER, **common)
        print("authors", torch_row, flush=True)
        for precision in ("float32", "bfloat16"):
            r = run_child(HGZOO_INFER, precision=precision, **common)
            print(precision, r, flush=True)
            rows.append({"task": "inference 1280x720", "code": f"hgzoo {precision}", "seconds": r["seconds"],
                         "vs_authors": r["seconds"] / torch_row["seconds"], "peak_rss_mb": r["peak_rss_mb"]})
        rows.append({"task": "inference 1280x720", "code": f"authors' PyTorch {torch_row['torch']}",
                     "seconds": torch_row["seconds"], "vs_authors": 1.0, "peak_rss_mb": torch_row["peak_rss_mb"]})
    if "train" not in skip:
        torch_row = run_child(TORCH_TRAIN, **common)
        print("authors train", torch_row, flush=True)
        for precision in ("float32", "mixed_bfloat16"):
            r = run_child(HGZOO_TRAIN, precision=precision, **common)
            print(precision, r, flush=True)
            rows.append({"task": "training step, batch 6 x 256x256", "code": f"hgzoo fit {precision}",
                         "seconds": r["seconds_per_step"], "steps_per_s": r["steps_per_s"],
                         "vs_authors": r["seconds_per_step"] / torch_row["seconds_per_step"],
                         "peak_rss_mb": r["peak_rss_mb"]})
        rows.append({"task": "training step, batch 6 x 256x256", "code": "authors' PyTorch",
                     "seconds": torch_row["seconds_per_step"], "steps_per_s": torch_row["steps_per_s"],
                     "vs_authors": 1.0, "peak_rss_mb": torch_row["peak_rss_mb"]})
    where = f"{cpu['cpu']}, {cpu['cores']} cores, flags {' '.join(cpu['flags']) or 'none of interest'}"
    if rows:
        notes = (f"Machine: {where}; no GPU in this run (none was available: no GPU numbers are given or estimated). "
                 f"Median of {args.repeats} (inference, after one warm-up) and of {args.train_steps} steps (training, "
                 "after two warm-up steps), each configuration in its own process, all in this one run; vs_authors "
                 "is seconds / the authors' seconds (below 1: hgzoo is faster). peak_rss_mb is that process's peak "
                 "resident memory (model, data and the step). The authors' code: their models.py imported by path "
                 "from DMPHN-cvpr19-master, wired as DMPHN_1_2_4_test.py, their checkpoints; the training step is "
                 "theirs (forward, MSE, backward, Adam) on a synthetic batch. CPU time is shared with other jobs "
                 "only outside the benchmark lock, so small differences are noise.")
        print(write("deblur", "versus_official", rows, ["task", "code", "seconds", "steps_per_s", "vs_authors",
                                                          "peak_rss_mb"], notes))
    if "profile" not in skip:
        p = run_child(PROFILE, **common)
        print("profile", p, flush=True)
        total = p["forward_s"]
        prow = [
            {"part": "whole forward pass (predict_on_batch)", "seconds": total, "share": 1.0,
             "gflops": p["model_gflops"]},
            {"part": "the 6 encoder/decoder blocks alone, same shapes", "seconds": p["blocks_s"],
             "share": p["blocks_s"] / total},
            {"part": "plain Keras conv stack, same convolutions", "seconds": p["dense_conv_s"],
             "share": p["dense_conv_s"] / total, "gflops": p["dense_gflops"]},
            {"part": "patch split (lv2+lv3) alone", "seconds": p["split_s"], "share": p["split_s"] / total},
            {"part": "patch merge (lv3+lv2) alone", "seconds": p["merge_s"], "share": p["merge_s"] / total},
            {"part": "explicit pads before the 32-ch stride-2 convs", "seconds": p["pad_32ch_s"],
             "share": p["pad_32ch_s"] / total},
        ]
        notes = (f"One 1280x720 DMPHN(1-2-4) float32 forward pass with the authors' weights, {p['tflop']:.3f} TFLOP of "
                 f"convolution; median of {args.repeats}. Machine: {where}. The pass kept {p['cores_busy']:.2f} of "
                 f"{cpu['cores']} cores busy. hgzoo reaches {p['dense_conv_s'] / total:.2f} of the dense-conv "
                 "throughput of a plain Keras conv stack with the same convolutions (measured here, same run); "
                 "blocks minus plain stack is what the residual adds, ReLUs and explicit pads cost; whole pass "
                 "minus blocks is the hierarchy's splits, merges and additions.")
        print(write("deblur", "profile_fp32", prow, ["part", "seconds", "share", "gflops"], notes))


if __name__ == "__main__":
    main()
