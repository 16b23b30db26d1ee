"""fit_resumable survives kills at the worst moments: mid-epoch, mid-write of its resume checkpoint.

Each test trains a tiny Dense model on numpy data for a few epochs, so it runs in seconds.
"""

import csv
import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from hgzoo.errors import ResumeError
from hgzoo.training import fit_resumable

pytestmark = pytest.mark.jax  # backend-agnostic: CI runs it under JAX too

X = np.random.default_rng(0).random((16, 3)).astype("float32")
Y = X @ np.ones((3, 1), "float32")


def _model(learning_rate=0.01):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(learning_rate), "mse")
    return model


class _Batches(keras.utils.PyDataset):
    """Four batches of four: plain numpy on every backend."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return X[4 * i:4 * i + 4], Y[4 * i:4 * i + 4]


class _Record(keras.callbacks.Callback):
    """Remembers which epochs ran; raises (a kill) at ``stop_at`` (epoch, batch)."""

    def __init__(self, stop_at=None):
        super().__init__()
        self.epochs, self.stop_at = [], stop_at

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)

    def on_train_batch_end(self, batch, logs=None):
        if self.stop_at == (self.epochs[-1], batch):
            raise KeyboardInterrupt("killed mid-epoch")


def _fit(out, epochs=5, stop_at=None, model=None, **kwargs):
    record = _Record(stop_at)
    history = fit_resumable(model or _model(), _Batches(), out, epochs=epochs, steps_per_epoch=4,
                            callbacks=[record], verbose=0, **kwargs)
    return history, record.epochs


def _log_epochs(out):
    with open(out / "log.csv") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def _history(out):
    return json.loads((out / "history.json").read_text())


def test_resume_after_mid_epoch_kill_keeps_every_epoch_once(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path, stop_at=(3, 1))
    history, ran = _fit(tmp_path)
    assert ran == [3, 4]
    assert _log_epochs(tmp_path) == [0, 1, 2, 3, 4]
    assert len(_history(tmp_path)["loss"]) == 5
    assert len(history.history["loss"]) == 5 and history.epoch == [0, 1, 2, 3, 4]
    assert not (tmp_path / "backup").exists()


def test_truncated_latest_falls_back_to_previous_copy(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path, stop_at=(3, 1))
    latest = tmp_path / "backup" / "latest.weights.h5"
    data = latest.read_bytes()
    latest.write_bytes(data[:len(data) // 2])  # what a kill during the write left before the fix
    with pytest.warns(UserWarning, match="previous"):
        _, ran = _fit(tmp_path)
    assert ran == [2, 3, 4]
    assert _log_epochs(tmp_path) == [0, 1, 2, 3, 4]
    assert len(_history(tmp_path)["loss"]) == 5


def test_every_copy_unreadable_is_one_clear_error(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path, stop_at=(3, 1))
    for path in (tmp_path / "backup").iterdir():
        path.write_bytes(b"garbage")
    with pytest.raises(ResumeError, match="delete .*backup"):
        _fit(tmp_path)


def test_restart_from_scratch_does_not_duplicate_log_rows(tmp_path):
    _fit(tmp_path, epochs=2)
    _, ran = _fit(tmp_path, epochs=2)  # the backup is gone after a finished run: a new run
    assert ran == [0, 1]
    assert _log_epochs(tmp_path) == [0, 1]
    assert len(_history(tmp_path)["loss"]) == 2


def test_best_weights_survive_a_resume(tmp_path):
    """After a resume the best loss so far is remembered: a worse epoch does not replace best.weights.h5."""
    val = (X, Y)
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path, stop_at=(2, 1), model=_model(0.0), validation_data=val)
    (tmp_path / "best.weights.h5").unlink()
    _fit(tmp_path, model=_model(0.0), validation_data=val)  # learning rate 0: no epoch is better
    assert not (tmp_path / "best.weights.h5").exists()
    assert len(_history(tmp_path)["val_loss"]) == 5


_KILL_IN_WRITE = textwrap.dedent("""
    import os, sys, numpy as np, keras
    sys.path.insert(0, sys.argv[2])
    from test_reliability_training import _fit, _Record
    from pathlib import Path
    out, kill = Path(sys.argv[1]), sys.argv[3] == "kill"
    original, calls = keras.Model.save_weights, []

    def save_weights(self, filepath, *args, **kwargs):
        original(self, filepath, *args, **kwargs)
        if kill and "backup" in str(filepath):
            calls.append(filepath)
            if len(calls) == 2:  # the resume checkpoint after epoch 1: cut it short and die
                with open(filepath, "r+b") as f:
                    f.truncate(os.path.getsize(filepath) // 2)
                os._exit(9)

    keras.Model.save_weights = save_weights
    _, ran = _fit(out, epochs=4)
    print(ran)
""")


def test_kill_while_writing_the_resume_checkpoint(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    here = os.path.dirname(__file__)
    run = [sys.executable, "-c", _KILL_IN_WRITE, str(tmp_path / "run"), here]
    first = subprocess.run(run + ["kill"], check=False, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert first.returncode == 9, first.stderr[-2000:]
    second = subprocess.run(run + ["run"], check=False, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr[-2000:]
    assert second.stdout.strip().splitlines()[-1] == "[1, 2, 3]"  # epoch 0's checkpoint was intact
    assert _log_epochs(tmp_path / "run") == [0, 1, 2, 3]
    assert len(_history(tmp_path / "run")["loss"]) == 4
    assert not [p for p in (tmp_path / "run").rglob("*") if ".tmp-" in p.name]


def test_stale_temporary_weights_of_a_dead_writer_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True).stdout.strip()
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path, stop_at=(1, 1))
    stale = tmp_path / "backup" / f".latest.tmp-{dead}.weights.h5"
    stale.write_bytes(b"half")
    live = tmp_path / f".last.tmp-{os.getppid()}.weights.h5"  # a live process's write is never touched
    live.write_bytes(b"busy")
    _fit(tmp_path, epochs=2)
    assert not stale.exists() and live.exists()
