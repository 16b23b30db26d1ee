"""Reload ``.keras`` files in a fresh Python that imports only hgzoo, one at a time or batched.

Starting Python with TensorFlow takes about ten seconds, more than the check
itself, so a test session may :func:`defer` these reloads and run them all in
one fresh process at its end (:func:`run_deferred`): each file still loads in
a process that has imported nothing but hgzoo and Keras, and a failure still
names the file's test. hgzoo's own ``tests/conftest.py`` does this; outside a
deferred session every reload runs at once.

Example:

>>> import numpy as np, keras, tempfile, os
>>> from hgzoo.testing import fresh_process
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
>>> model.save(path)
>>> x = np.ones((1, 3), "float32")
>>> fresh_process.reload_and_compare(path, [x], model.predict_on_batch(x), atol=1e-5)  # doctest: +SKIP
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

# argv[1]: a JSON list of {"model", "inputs", "output"}; each model's output is saved to its
# "output" path, or its error to "output" + ".error" so one bad file does not hide the others.
_RELOAD_SCRIPT = """
import json, sys, traceback, numpy as np, keras
import hgzoo
for job in json.load(open(sys.argv[1])):
    try:
        model = keras.saving.load_model(job["model"])
        inputs = [np.load(p) for p in job["inputs"]]
        out = model.predict_on_batch(inputs if len(inputs) > 1 else inputs[0])
        np.save(job["output"], keras.ops.convert_to_numpy(out))
    except Exception:
        open(job["output"] + ".error", "w").write(traceback.format_exc())
    keras.backend.clear_session()
"""

_deferred = {"folder": None, "jobs": []}


def defer(folder):
    """Queue every later reload (files copied under ``folder``) until :func:`run_deferred`."""
    _deferred["folder"] = str(folder)
    _deferred["jobs"] = []


def run_deferred():
    """Run the queued reloads in one fresh process; a list of failure messages (empty: all passed)."""
    jobs, _deferred["folder"], _deferred["jobs"] = _deferred["jobs"], None, []
    if not jobs:
        return []
    failures = _run(jobs)
    return [f"{job['label']}: {message}" for job, message in failures]


def reload_and_compare(path, arrays, expected, atol, label=""):
    """Reload the ``.keras`` file at ``path`` in a fresh process, feed ``arrays``, compare with
    ``expected`` within ``atol``; AssertionError if it differs or fails (now, or when deferred at
    :func:`run_deferred`, copying the file first)."""
    if _deferred["folder"] is None:
        with tempfile.TemporaryDirectory() as tmp:
            failures = _run([_job(tmp, path, arrays, expected, atol, label)])
        if failures:
            raise AssertionError(failures[0][1])
        return
    job_dir = os.path.join(_deferred["folder"], str(len(_deferred["jobs"])))
    os.makedirs(job_dir)
    copy = os.path.join(job_dir, os.path.basename(path))
    shutil.copyfile(path, copy)
    _deferred["jobs"].append(_job(job_dir, copy, arrays, expected, atol,
                                  label or os.environ.get("PYTEST_CURRENT_TEST", path)))


def _job(folder, path, arrays, expected, atol, label):
    inputs = []
    for i, a in enumerate(arrays):
        inputs.append(os.path.join(folder, f"in{i}.npy"))
        np.save(inputs[-1], a)
    expected_path = os.path.join(folder, "expected.npy")
    np.save(expected_path, np.asarray(expected))
    return {"model": path, "inputs": inputs, "output": os.path.join(folder, "out.npy"),
            "expected": expected_path, "atol": atol, "label": label}


def _run(jobs):
    """(job, message) for each job whose fresh-process output is missing or differs."""
    with tempfile.TemporaryDirectory() as tmp:
        listing = os.path.join(tmp, "jobs.json")
        with open(listing, "w") as f:
            json.dump(jobs, f)
        result = subprocess.run([sys.executable, "-c", _RELOAD_SCRIPT, listing],
                                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, capture_output=True,
                                check=False, text=True, cwd=tempfile.gettempdir())
    if result.returncode:
        return [(job, f"fresh process failed:\n{result.stderr[-3000:]}") for job in jobs]
    failures = []
    for job in jobs:
        if os.path.exists(job["output"] + ".error"):
            with open(job["output"] + ".error") as f:
                failures.append((job, f".keras reload in a fresh process failed:\n{f.read()[-3000:]}"))
            continue
        got, want = np.load(job["output"]).astype(np.float64), np.load(job["expected"]).astype(np.float64)
        # The tolerance of checks.assert_close (atol and rtol alike), which the in-process reload uses.
        if got.shape != want.shape or not np.allclose(got, want, atol=job["atol"], rtol=job["atol"]):
            diff = np.abs(got - want).max() if got.shape == want.shape else f"shapes {got.shape} vs {want.shape}"
            failures.append((job, f".keras reload in a fresh process: outputs differ (max |diff| {diff}, "
                                  f"atol {job['atol']})"))
    return failures
