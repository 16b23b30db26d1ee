"""Event-guided deblurring on event-blur triples rendered from real photographs.

Every triple (blurry image, event voxels, sharp image) comes from one real
sharp photo: a virtual camera follows a random hand-shake path during the
exposure, the blurry image is the mean of the frames along it, the sharp
image its middle frame, and the events are simulated (ESIM-style, per-pixel
threshold noise) from the same frames (``hgzoo.deblur.data.events``). Training
photos: scikit-image ``astronaut``, ``coffee``, ``rocket``, scikit-learn's
``china.jpg`` and the real GoPro frame ``Istanbul_sharp1.png``; held-out
test photos: scikit-image ``chelsea`` and scikit-learn's ``flower.jpg``.

Compared under the same budget (same steps, batch, crops, optimiser; all
start from the authors' GoPro DMPHN(1-2-4) weights, EventMPN's event
encoders from zero, so at step 0 both are the same network):

- DMPHN(1-2-4) fine-tuned on the blurry images;
- EventMPN(1-2-4) fine-tuned on blurry images + event voxels;
- EventMPN(1-2-4) with hgzoo's self-supervision (rotation/rescaling
  equivariance, noise invariance), same number of steps.

Then robustness: PSNR on the held-out triples rotated by 90°, rescaled by
0.5, and with Gaussian noise σ = 0.03 on the blurry image.

    HGZOO_WEIGHTS_DIR=../shared/data/dmphn python benchmarks/deblur/event_deblur.py --steps 500 --crop 64

is the run in ``benchmarks/results/deblur/event_deblur.{json,md}`` (500 steps and 64×64 crops are
also the defaults). Needs ``hgzoo[dev]``.
"""

import argparse
import json
import os
import sys
import time

import keras
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # benchmarks/_report.py
from _report import data_dir, peak_rss_mb, write  # noqa: E402

import hgzoo  # noqa: E402
from hgzoo.deblur.data.events import render_event_blur  # noqa: E402

DATA = data_dir()
BINS = 6


def photos(which):
    import skimage.data
    import sklearn.datasets

    from hgzoo.data.images import read_image

    samples = {os.path.basename(f): im for f, im in zip(sklearn.datasets.load_sample_images().filenames,
                                                          sklearn.datasets.load_sample_images().images)}
    if which == "train":
        out = [getattr(skimage.data, n)() for n in ("astronaut", "coffee", "rocket")] + [samples["china.jpg"]]
        out.append(read_image(os.path.join(DATA, "gopro", "Istanbul_sharp1.png")))
    else:
        out = [skimage.data.chelsea(), samples["flower.jpg"]]
    return [np.asarray(p, np.float32) / 255.0 for p in out]


def render(pool, count, crop, seed):
    rng = np.random.default_rng(seed)
    triples = [render_event_blur(rng, pool[i % len(pool)], crop=crop, bins=BINS) for i in range(count)]
    return tuple(np.stack(t) for t in zip(*triples))


def psnr(a, b):
    """Mean per-image PSNR of predictions ``a`` (clipped to [0, 1]) against ``b``."""
    return float(np.mean(hgzoo.metrics.psnr(b, np.clip(a, 0, 1))))


def build(kind):
    if kind == "dmphn":
        return hgzoo.deblur.DMPHN(levels=(1, 2, 4), pretrained="dmphn_1_2_4_gopro")
    return hgzoo.deblur.EventMPN(levels=(1, 2, 4), event_bins=BINS, init_from="dmphn_1_2_4_gopro")


def inputs_for(model, blurry, voxels):
    return {"image": blurry, "events": voxels} if isinstance(model, hgzoo.deblur.EventMPN) else blurry


def predict(model, blurry, voxels):
    return model.predict(inputs_for(model, blurry, voxels), batch_size=4, verbose=0)


def rescale(x, factor=0.5):
    return keras.ops.convert_to_numpy(keras.ops.image.resize(x, (int(x.shape[1] * factor), int(x.shape[2] * factor)),
                                                             interpolation="bilinear", antialias=True))


def evaluate(model, test):
    blurry, voxels, sharp = test
    noisy = np.clip(blurry + np.random.default_rng(5).normal(0, 0.03, blurry.shape), 0, 1).astype(np.float32)
    rot = lambda x: np.rot90(x, 1, axes=(1, 2)).copy()  # noqa: E731
    out = {"psnr": psnr(predict(model, blurry, voxels), sharp),
           "psnr_rotated": psnr(predict(model, rot(blurry), rot(voxels)), rot(sharp)),
           "psnr_rescaled": psnr(predict(model, rescale(blurry), rescale(voxels)), rescale(sharp)),
           "psnr_noisy": psnr(predict(model, noisy, voxels), sharp)}
    if isinstance(model, hgzoo.deblur.EventMPN):
        out["psnr_without_events"] = psnr(predict(model, blurry, np.zeros_like(voxels)), sharp)
    return out


def train(kind, data, steps, batch, lr, self_supervision, seed=0):
    keras.utils.set_random_seed(seed)
    model = build(kind)
    model.compile(optimizer=keras.optimizers.Adam(lr),
                  self_supervision={"scales": [0.5], "noise_std": 0.03} if self_supervision else None)
    import tensorflow as tf

    blurry, voxels, sharp = data
    ds = tf.data.Dataset.from_tensor_slices((inputs_for(model, blurry, voxels), sharp))
    ds = ds.shuffle(len(sharp), seed=seed).repeat().batch(batch)
    start = time.perf_counter()
    model.fit(ds, epochs=steps // 50, steps_per_epoch=50, verbose=2)
    return model, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=500, help="training steps, a multiple of 50")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--crop", type=int, default=64)
    parser.add_argument("--train-triples", type=int, default=800)
    parser.add_argument("--test-triples", type=int, default=48)
    parser.add_argument("--lr", type=float, default=1e-4)
    args = parser.parse_args()
    train_data = render(photos("train"), args.train_triples, args.crop, seed=0)
    test = render(photos("test"), args.test_triples, 128, seed=1)
    rows = [{"model": "blurry input", "psnr": psnr(test[0], test[2]),
             "psnr_rotated": psnr(test[0], test[2]), "psnr_rescaled": psnr(rescale(test[0]), rescale(test[2])),
             "psnr_noisy": psnr(np.clip(test[0] + np.random.default_rng(5).normal(0, 0.03, test[0].shape), 0, 1),
                                test[2])}]
    rows.append({"model": "DMPHN(1-2-4), authors' GoPro weights, no fine-tuning", **evaluate(build("dmphn"), test)})
    for kind, ss, label in (("dmphn", False, "DMPHN(1-2-4) fine-tuned"),
                            ("event_mpn", False, "EventMPN(1-2-4) fine-tuned"),
                            ("event_mpn", True, "EventMPN(1-2-4) fine-tuned + self-supervision")):
        model, seconds = train(kind, train_data, args.steps, args.batch_size, args.lr, ss)
        rows.append({"model": label, **evaluate(model, test), "train_s": seconds})
        print(json.dumps(rows[-1]), flush=True)
    columns = ["model", "psnr", "psnr_without_events", "psnr_rotated", "psnr_rescaled", "psnr_noisy", "train_s"]
    notes = (f"PSNR (dB) on {args.test_triples} held-out 128×128 triples (chelsea, flower); training: {args.steps} "
             f"steps × batch {args.batch_size} of {args.crop}×{args.crop} crops from {args.train_triples} "
             f"pre-rendered triples, Adam {args.lr}, TensorFlow on {os.cpu_count()} CPU cores; peak memory "
             f"{peak_rss_mb():.0f} MB. Rotated: 90°; rescaled: ×0.5 (antialiased bilinear); noisy: σ 0.03.")
    print(write("deblur", "event_deblur", rows, columns, notes))


if __name__ == "__main__":
    main()
