"""Training that survives a kill: ``fit`` with backup, checkpoints and logs.

Example:

>>> import hgzoo
>>> from hgzoo.training import fit_resumable
>>> model = hgzoo.deblur.DMPHN(levels=(1,))
>>> history = fit_resumable(model, dataset, "runs/dmphn", epochs=10,
...                         steps_per_epoch=100)  # doctest: +SKIP

Run the same command again after a crash or ``kill``: training continues
from the last finished epoch. Every weights file is written beside its final
name and renamed into place, so a kill at any moment leaves a loadable resume
checkpoint (and the one before it, in case the disk spoiled the latest).
"""

import csv
import io
import json
import math
import os
import pathlib
import shutil
import warnings

import keras

from hgzoo.errors import ResumeError
from hgzoo.files import remove_leftovers, replace_atomically

_STATE = "hgzoo_resume"  # JSON in each resume checkpoint: {"epoch": next epoch, "logs": [one dict per epoch]}


def fit_resumable(model, dataset, out_dir, epochs, steps_per_epoch=None, validation_data=None,
                  validation_steps=None, callbacks=(), verbose="auto"):
    """``model.fit`` that resumes after a kill and keeps the best and last weights.

    Writes under ``out_dir``: ``backup/`` (resume state: the latest and the
    previous checkpoint, removed when training finishes), ``last.weights.h5``
    after every epoch, ``best.weights.h5`` by validation loss (when validation
    data is given; best over all epochs, those before a resume included),
    ``log.csv`` (one row per epoch) and ``history.json`` at the end (every
    epoch, also those before a resume). A run that starts over from epoch 0
    (no ``backup/``) starts a new ``log.csv``. Under multi-worker training,
    workers other than the chief write into ``out_dir/worker-<i>``.

    Returns:
        The ``keras.callbacks.History`` of the whole run, epochs before a resume included.

    Raises:
        ResumeError: no copy of the resume checkpoint loads (unreadable files,
            or another model's); the message says which folder to delete.
    """
    if keras.backend.backend() == "tensorflow":
        from hgzoo.distribute import is_chief, multi_worker_fit

        if not is_chief():
            out_dir = os.path.join(out_dir, f"worker-{json.loads(os.environ['TF_CONFIG'])['task']['index']}")
        fit = multi_worker_fit
    else:
        fit = type(model).fit
    os.makedirs(out_dir, exist_ok=True)
    run = _RunFolder(out_dir, best_by="val_loss" if validation_data is not None else None)
    try:
        history = fit(model, dataset, epochs=epochs, steps_per_epoch=steps_per_epoch,
                      validation_data=validation_data, validation_steps=validation_steps,
                      callbacks=[run, *callbacks], verbose=verbose)
    finally:
        model._initial_epoch = None  # a later plain fit() must not inherit the resumed epoch
    history.history = {key: [logs[key] for logs in run.logs if key in logs] for key in _keys(run.logs)}
    history.epoch = list(range(len(run.logs)))
    _write_text(os.path.join(out_dir, "history.json"), json.dumps(history.history, indent=1))
    return history


class _RunFolder(keras.callbacks.Callback):
    """Keeps ``out_dir`` resumable: restores the backup, writes every file atomically.

    At each epoch end it writes ``best.weights.h5`` (on improvement) and
    ``last.weights.h5``, then the resume checkpoint, which commits the epoch
    (a kill before it reruns the epoch, a kill after it does not), then
    ``log.csv`` from the committed epochs' logs.
    """

    def __init__(self, out_dir, best_by=None):
        super().__init__()
        self.out_dir, self.best_by = out_dir, best_by
        self.backup = os.path.join(out_dir, "backup")
        self.latest = os.path.join(self.backup, "latest.weights.h5")
        self.previous = os.path.join(self.backup, "previous.weights.h5")
        self.log = os.path.join(out_dir, "log.csv")
        self.logs = []  # one dict of metrics per finished epoch

    def on_train_begin(self, logs=None):
        for folder in (self.out_dir, self.backup):
            remove_leftovers(folder)
        epoch, self.logs = self._restore()
        self.model._initial_epoch = epoch
        self._write_log()
        self.best = min((row[self.best_by] for row in self.logs
                         if self.best_by in row and not math.isnan(row[self.best_by])), default=math.inf)

    def _restore(self):
        """(next epoch, logs of the epochs before it) from the newest loadable copy; (0, []) without one."""
        failures = []
        for path in (self.latest, self.previous):
            if not os.path.exists(path):
                continue
            try:
                epoch, logs = self._read_state(path)
                if self.model.optimizer is not None and not self.model.optimizer.built:
                    self.model.optimizer.build(self.model.trainable_variables)
                self.model.load_weights(path)
            except (OSError, ValueError, KeyError) as e:  # truncated, garbage, or another model's file
                failures.append(f"{path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
                continue
            if failures:
                warnings.warn(f"resume checkpoint {failures[0]}; resumed from the previous copy {path} "
                              f"(epoch {epoch})", stacklevel=2)
            return epoch, logs
        if failures:
            raise ResumeError(f"cannot resume the run in {self.out_dir}: " + "; ".join(failures)
                              + f". If the model or its settings changed, delete {self.backup} to start "
                              "again from epoch 0")
        return 0, []

    def _read_state(self, path):
        import h5py

        with h5py.File(path, "r") as f:
            if _STATE in f:
                state = json.loads(f[_STATE][()])
                return state["epoch"], state["logs"]
        # A run begun before checkpoints held their state: Keras' BackupAndRestore files.
        with open(os.path.join(self.backup, "training_metadata.json")) as f:
            epoch = int(json.load(f)["epoch"])
        return epoch, _read_log(self.log)[:epoch]

    def on_epoch_end(self, epoch, logs=None):
        self.logs.append({key: float(value) for key, value in (logs or {}).items()})
        current = self.logs[-1].get(self.best_by, math.nan) if self.best_by else math.nan
        if current < self.best:
            self.best = current
            _save_weights(self.model, os.path.join(self.out_dir, "best.weights.h5"))
        _save_weights(self.model, os.path.join(self.out_dir, "last.weights.h5"))
        os.makedirs(self.backup, exist_ok=True)
        _save_weights(self.model, self.latest, {"epoch": epoch + 1, "logs": self.logs}, keep=self.previous)
        self._write_log()

    def on_train_end(self, logs=None):
        shutil.rmtree(self.backup, ignore_errors=True)

    def _write_log(self):
        """log.csv from the committed epochs (CSVLogger's columns: epoch, then the metrics sorted)."""
        if not self.logs:
            if os.path.exists(self.log):
                os.unlink(self.log)  # a run that starts over starts a new log
            return
        text = io.StringIO()
        writer = csv.DictWriter(text, ["epoch", *sorted(_keys(self.logs))], lineterminator="\n")
        writer.writeheader()
        writer.writerows({"epoch": i, **row} for i, row in enumerate(self.logs))
        _write_text(self.log, text.getvalue())


def restore_best_weights(model, out_dir):
    """Load ``out_dir``'s ``best.weights.h5`` (written by :func:`fit_resumable` when it had validation
    data) into ``model``; whether there was one."""
    best = os.path.join(out_dir, "best.weights.h5")
    if not os.path.exists(best):
        return False
    model.load_weights(best)
    return True


def save_run(model, out_dir, metrics):
    """Write ``model.keras`` and ``metrics.json`` (a JSON dict) into ``out_dir``, each atomically; the model's path.

    The end of a command-line training run: what ``evaluate`` and ``predict`` read back.

    >>> import keras, tempfile
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> os.path.basename(save_run(model, tempfile.mkdtemp(), {"val_accuracy": 50.0}))
    'model.keras'
    """
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "model.keras")
    replace_atomically(path, model.save, suffix=".keras")
    _write_text(os.path.join(out_dir, "metrics.json"), json.dumps(metrics, indent=1))
    return path


def _keys(logs):
    return list(dict.fromkeys(key for row in logs for key in row))


def _read_log(path):
    """The complete rows of a log.csv as dicts of floats, one per epoch (the last of duplicates), in order."""
    try:
        with open(path, newline="") as f:
            rows = {int(row["epoch"]): row for row in csv.DictReader(f) if None not in row.values()}
    except FileNotFoundError:
        return []
    return [{k: float(v) for k, v in rows[epoch].items() if k != "epoch" and v != ""}
            for epoch in sorted(rows)]


def _save_weights(model, path, state=None, keep=None):
    """``model.save_weights(path)`` atomically, with ``state`` stored inside (see replace_atomically's ``keep``)."""

    def write(tmp):
        model.save_weights(tmp)
        if state is not None:
            import h5py

            with h5py.File(tmp, "r+") as f:
                f[_STATE] = json.dumps(state)

    replace_atomically(path, write, suffix=".weights.h5", keep=keep)


def _write_text(path, text):
    replace_atomically(path, lambda tmp: pathlib.Path(tmp).write_text(text))
