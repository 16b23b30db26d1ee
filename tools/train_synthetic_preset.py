"""Train hgzoo's own offline deblurring preset on real photos with synthetic camera shake.

Photos (all installable from PyPI, none committed): scikit-image's astronaut, coffee,
rocket and hubble_deep_field (public domain / CC0) and scikit-learn's china and flower
(CC BY 2.0, danielbuechele) for training; scikit-image's chelsea (CC0) held out.

    python tools/train_synthetic_preset.py --out runs/dmphn_1_2_synthetic --minutes 45
    python tools/train_synthetic_preset.py --out runs/phase2 --init runs/dmphn_1_2_synthetic/best.weights.h5

Re-running the same command resumes after a kill. See weights/recipes/ for the record.
"""

import argparse
import time

import keras


def training_photos():
    import skimage.data
    import sklearn.datasets

    photos = [getattr(skimage.data, n)() for n in ("astronaut", "coffee", "rocket", "hubble_deep_field")]
    photos += list(sklearn.datasets.load_sample_images().images)
    return photos


def heldout_photos():
    import skimage.data

    return [skimage.data.chelsea()]


class TimeBudget(keras.callbacks.Callback):
    """Stop at the end of the epoch during which the wall-clock budget runs out."""

    def __init__(self, seconds):
        super().__init__()
        self.deadline = time.time() + seconds

    def on_epoch_end(self, epoch, logs=None):
        if time.time() > self.deadline:
            self.model.stop_training = True


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--minutes", type=float, default=45)
    parser.add_argument("--levels", default="1,2")
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--steps-per-epoch", type=int, default=100)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--init", help="start from these weights (a second phase of training)")
    args = parser.parse_args()

    import hgzoo
    from hgzoo.deblur.data.deblur_pairs import load_photos, synthetic_pairs
    from hgzoo.training import fit_resumable

    keras.utils.set_random_seed(0)
    train = synthetic_pairs(load_photos(training_photos()), crop=args.crop, batch_size=args.batch_size, seed=0)
    val = synthetic_pairs(load_photos(heldout_photos()), crop=args.crop, batch_size=args.batch_size, seed=1)
    val = val.take(8).cache()
    model = hgzoo.deblur.DMPHN(levels=tuple(int(v) for v in args.levels.split(",")),
                               pretrained=args.init or False)
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, args.epochs * args.steps_per_epoch, alpha=0.1)
    model.compile(optimizer=keras.optimizers.Adam(schedule))
    fit_resumable(model, train, args.out, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
                  validation_data=val, callbacks=[TimeBudget(args.minutes * 60)], verbose=2)


if __name__ == "__main__":
    main()
