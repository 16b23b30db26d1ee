"""Train, save, load and score the three detectors (IGT, autoencoder, isolation forest) alike.

A run folder holds ``run.json`` (the detector, τ, κ, seed, the feature
configuration), ``scale.json`` (the :class:`BehaviourImageEncoder` fit on the
training days) and ``model.keras`` (IGT, autoencoder) or ``train_images.npy``
(the isolation forest is refit from them with the recorded seed: no pickle).

Example:

>>> import numpy as np, tempfile
>>> features = np.random.default_rng(0).poisson(3, (40, 120))
>>> run = train(features, "isolation_forest", trees=10)
>>> folder = save_run(run, tempfile.mkdtemp())
>>> load_run(folder).anomaly_score(features[:3]).shape
(3,)
"""

import dataclasses
import json
import os
import pathlib

import keras
import numpy as np

from hgzoo.anomaly.autoencoder import BehaviourAutoencoder
from hgzoo.anomaly.decisions import calibrate_tau
from hgzoo.anomaly.igt import IGT
from hgzoo.anomaly.images import BehaviourImageEncoder
from hgzoo.anomaly.isolation_forest import IsolationForestDetector
from hgzoo.files import replace_atomically
from hgzoo.training import fit_resumable

DETECTORS = ("igt", "autoencoder", "isolation_forest")


@dataclasses.dataclass
class Run:
    """A trained detector with its image encoder and thresholds; scores Table-1 features directly."""

    kind: str
    detector: object
    encoder: BehaviourImageEncoder
    tau: float
    kappa: int
    settings: dict
    train_images: object = None  # kept for the isolation forest, which is refit instead of pickled

    def anomaly_score(self, features):
        return np.asarray(self.detector.anomaly_score(self.encoder.transform(features)), np.float32)


class _ShuffledBatches(keras.utils.PyDataset):
    """``(x, y)`` in shuffled batches, reshuffled each epoch from ``seed``: what ``fit_resumable``
    takes (it needs one dataset object; tf.data would tie this module to TensorFlow)."""

    def __init__(self, x, y, batch_size, seed):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, int(batch_size)
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(x))

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        picks = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        return self.x[picks], self.y[picks]

    def on_epoch_end(self):
        self.order = self.rng.permutation(len(self.x))


def _fit_keras(model, x, y, epochs, batch_size, verbose, checkpoint_dir, seed):
    if checkpoint_dir is None:
        model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=verbose)
    else:
        fit_resumable(model, _ShuffledBatches(x, y, batch_size, seed), checkpoint_dir, epochs, verbose=verbose)
    return model


def train(features, kind="igt", epochs=10, batch_size=256, seed=0, false_alarm_rate=0.01, kappa=2, trees=200,
          verbose=0, checkpoint_dir=None, **model_kwargs):
    """Fit ``kind`` on the Table-1 ``features`` of normal user-days; returns a :class:`Run`.

    τ is calibrated on the same training days (:func:`~hgzoo.anomaly.decisions.calibrate_tau`).
    ``model_kwargs`` go to the Keras model (e.g. ``filters=``, ``hidden=``). With a
    ``checkpoint_dir``, the Keras detectors train through :func:`hgzoo.training.fit_resumable`:
    a killed run called again with the same arguments continues from its last finished epoch.
    """
    if kind not in DETECTORS:
        raise ValueError(f"detector must be one of {DETECTORS}, got {kind!r}")
    encoder = BehaviourImageEncoder().fit(features)
    images = encoder.transform(features)
    if len(images) < 2:
        raise ValueError("training needs at least two normal user-days")
    keras.utils.set_random_seed(seed)
    if kind == "igt":
        detector = IGT(**model_kwargs)
        _fit_keras(detector, *detector.transformation_data(images), epochs, batch_size, verbose, checkpoint_dir,
                   seed)
    elif kind == "autoencoder":
        detector = _fit_keras(BehaviourAutoencoder(**model_kwargs), images, images, epochs, batch_size, verbose,
                             checkpoint_dir, seed)
    else:
        detector = IsolationForestDetector(trees, seed).fit(images)
    settings = {"epochs": epochs, "batch_size": batch_size, "seed": seed, "false_alarm_rate": false_alarm_rate,
                "trees": trees, "model": model_kwargs, "training_days": len(images)}
    tau = calibrate_tau(detector.anomaly_score(images), false_alarm_rate)
    return Run(kind, detector, encoder, tau, int(kappa), settings, images if kind == "isolation_forest" else None)


def save_run(run, folder):
    """Write ``run`` into ``folder`` (created); returns the folder."""
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    if run.kind == "isolation_forest":
        replace_atomically(os.path.join(folder, "train_images.npy"), lambda tmp: np.save(tmp, run.train_images),
                           suffix=".npy")
    else:
        replace_atomically(os.path.join(folder, "model.keras"), run.detector.save, suffix=".keras")
    run.encoder.save(os.path.join(folder, "scale.json"))
    record = {"detector": run.kind, "tau": run.tau, "kappa": run.kappa, **run.settings}
    replace_atomically(os.path.join(folder, "run.json"),
                       lambda tmp: pathlib.Path(tmp).write_text(json.dumps(record, indent=1)), suffix=".json")
    return folder


def load_run(folder):
    """The :class:`Run` that :func:`save_run` wrote into ``folder``."""
    folder = os.fspath(folder)
    path = os.path.join(folder, "run.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{folder} holds no run.json: give a run folder of `hgzoo anomaly train`")
    with open(path) as f:
        record = json.load(f)
    kind = record.get("detector")
    if kind not in DETECTORS:
        raise ValueError(f"{path}: unknown detector {kind!r}; expected one of {DETECTORS}")
    encoder = BehaviourImageEncoder.load(os.path.join(folder, "scale.json"))
    if kind == "isolation_forest":
        detector = IsolationForestDetector(record["trees"], record["seed"]).fit(
            np.load(os.path.join(folder, "train_images.npy"), allow_pickle=False))
    else:
        detector = keras.saving.load_model(os.path.join(folder, "model.keras"))
    settings = {k: v for k, v in record.items() if k not in ("detector", "tau", "kappa")}
    return Run(kind, detector, encoder, float(record["tau"]), int(record["kappa"]), settings)
