"""Training that survives a kill: ``fit`` with backup, checkpoints and logs.

Example:

>>> import hgzoo
>>> from hgzoo.training import fit_resumable
>>> model = hgzoo.deblur.DMPHN(levels=(1,))
>>> history = fit_resumable(model, dataset, "runs/dmphn", epochs=10,
...                         steps_per_epoch=100)  # doctest: +SKIP

Run the same command again after a crash or ``kill``: training continues
from the last finished epoch (``keras.callbacks.BackupAndRestore``).
"""

import json
import os

import keras


def fit_resumable(model, dataset, out_dir, epochs, steps_per_epoch=None, validation_data=None,
                  validation_steps=None, callbacks=(), verbose="auto"):
    """``model.fit`` that resumes after a kill and keeps the best and last weights.

    Writes under ``out_dir``: ``backup/`` (resume state, removed when
    training finishes), ``last.weights.h5`` after every epoch,
    ``best.weights.h5`` by validation loss (when validation data is given),
    ``log.csv``, and ``history.json`` at the end. Under multi-worker
    training, workers other than the chief write into ``out_dir/worker-<i>``.
    """
    if keras.backend.backend() == "tensorflow":
        from hgzoo.distribute import is_chief, multi_worker_fit

        if not is_chief():
            out_dir = os.path.join(out_dir, f"worker-{json.loads(os.environ['TF_CONFIG'])['task']['index']}")
        fit = multi_worker_fit
    else:
        fit = type(model).fit
    os.makedirs(out_dir, exist_ok=True)
    monitor = "val_loss" if validation_data is not None else "loss"
    cbs = [
        keras.callbacks.BackupAndRestore(os.path.join(out_dir, "backup")),
        keras.callbacks.ModelCheckpoint(os.path.join(out_dir, "last.weights.h5"), save_weights_only=True),
        keras.callbacks.CSVLogger(os.path.join(out_dir, "log.csv"), append=True),
        *callbacks,
    ]
    if validation_data is not None:
        cbs.append(keras.callbacks.ModelCheckpoint(
            os.path.join(out_dir, "best.weights.h5"), monitor=monitor, save_best_only=True,
            save_weights_only=True))
    history = fit(model, dataset, epochs=epochs, steps_per_epoch=steps_per_epoch,
                        validation_data=validation_data, validation_steps=validation_steps,
                        callbacks=cbs, verbose=verbose)
    with open(os.path.join(out_dir, "history.json"), "w") as f:
        json.dump({k: [float(v) for v in vals] for k, vals in history.history.items()}, f, indent=1)
    return history
