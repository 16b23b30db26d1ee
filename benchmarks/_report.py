"""Shared by the benchmark scripts: timing, peak memory, provenance, JSON + markdown output.

A script in ``benchmarks/<family>/`` imports it with::

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from _report import write

and calls ``write("<family>", "<name>", rows, columns, notes)``, which writes
``results/<family>/<name>.json`` (the provenance of this run: script, command,
commit, machine, date, versions; then columns, rows and notes) and the markdown table
``results/<family>/<name>.md`` that ``tools/update_readme.py`` copies into the
README.

>>> print(table({"command": "python x.py", "commit": "0123456789abcdef", "date": "2026-01-01",
...              "machine": {"cpu": "CPU not recorded", "cores": 2},
...              "columns": ["a", "b"], "rows": [{"a": 1, "b": 0.5}], "notes": "n."}))
| a | b |
|---|---|
| 1 | 0.500 |
<BLANKLINE>
n.
<BLANKLINE>
Run: `python x.py` · commit 0123456 · CPU not recorded, 2 cores · 2026-01-01
<BLANKLINE>
"""

import datetime
import importlib.metadata
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
# environment variables that change what a benchmark measures, so they belong to its command
_ENV = ("HGZOO_WEIGHTS_DIR", "HGZOO_TEST_DATA", "HGZOO_HOME", "KERAS_BACKEND")
# version key -> the distributions that provide it; tensorflow and keras are always recorded
_PACKAGES = {"tensorflow": ("tensorflow", "tensorflow-cpu"), "keras": ("keras",), "jax": ("jax",),
             "torch": ("torch",), "transformers": ("transformers",)}
# the keys of a result that say what produced it (``provenance()``; older results add ``backfilled``)
PROVENANCE_KEYS = ("script", "command", "commit", "uncommitted_changes", "machine", "date", "versions", "backfilled")


def data_dir(*parts):
    """``$HGZOO_TEST_DATA`` (default ``../shared/data`` next to the repository), joined with ``parts``."""
    return os.path.join(os.environ.get("HGZOO_TEST_DATA", os.path.join(ROOT, "..", "shared", "data")), *parts)


def median_seconds(fn, repeats=3, warmup=1):
    """Median wall time of ``fn()`` over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_mb():
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def result_path(family, name, ext="json"):
    return os.path.join(RESULTS, family, f"{name}.{ext}")


def script():
    """The running script's path relative to the repository."""
    return os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)


def command():
    """This process's command line as run (script path relative to the repository), with the relevant env."""
    env = [f"{k}={shlex.quote(os.environ[k])}" for k in _ENV if k in os.environ]
    return " ".join(env + ["python", shlex.join([script(), *sys.argv[1:]])])


def _git(*args):
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions():
    versions = {"python": platform.python_version(), "tensorflow": "not installed", "keras": "not installed"}
    for key, distributions in _PACKAGES.items():
        for distribution in distributions:
            try:
                versions[key] = importlib.metadata.version(distribution)
                break
            except importlib.metadata.PackageNotFoundError:
                pass
    try:
        import keras

        versions["backend"] = keras.backend.backend()
    except ImportError:
        pass
    return versions


def provenance():
    """What produced a result: script, command, commit (and whether the tree had changes), machine, date, versions."""
    # results written by a resumable script earlier in the same run are outputs, not code changes
    status = _git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)benchmarks/results")
    return {"script": script(), "command": command(), "commit": _git("rev-parse", "HEAD") or "unknown",
            "uncommitted_changes": bool(status) if status is not None else "unknown",
            "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "arch": platform.machine()},
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "versions": _versions()}


def provenance_line(p):
    """One markdown line from a result's (or a row's) provenance: command, short commit, CPU, cores, date."""
    machine = p.get("machine", {})
    commit = (p.get("commit") or "unknown")[:7] + (" + uncommitted changes" if p.get("uncommitted_changes") is True
                                                   else "")
    command = p.get("command", "command not recorded")
    # A backfilled command names the script's path at that commit; say where it is now.
    moved = f" (script now `{p['script']}`)" if p.get("script") and p["script"] not in command else ""
    return (f"`{command}`{moved} · commit {commit} · {machine.get('cpu', 'CPU not recorded')}, "
            f"{machine.get('cores', '?')} cores · {p.get('date', '?')}")


def table(result):
    """The markdown of a result (the parsed JSON): table, notes, then the provenance of every run in it."""
    columns, rows = result["columns"], result["rows"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(row.get(c, "")) for c in columns) + " |" for row in rows]
    text = "\n".join(lines) + "\n"
    if result.get("notes"):
        text += f"\n{result['notes']}\n"
    text += f"\nRun: {provenance_line(result)}\n"
    earlier = {}  # rows a script kept from an earlier run carry that run's provenance
    for i, row in enumerate(rows, 1):
        if "provenance" in row:
            earlier.setdefault(provenance_line(row["provenance"]), []).append(str(i))
    for line, numbers in earlier.items():
        text += f"\nRows {', '.join(numbers)} kept from an earlier run: {line}\n"
    return text


def write(family, name, rows, columns, notes=""):
    """Write ``results/<family>/<name>.{json,md}`` with this run's provenance; return the markdown."""
    result = {**provenance(), "columns": list(columns), "rows": rows, "notes": notes}
    os.makedirs(os.path.join(RESULTS, family), exist_ok=True)
    with open(result_path(family, name), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    markdown = table(result)
    with open(result_path(family, name, "md"), "w") as f:
        f.write(markdown)
    return markdown


def _fmt(v):
    return f"{v:.3f}" if isinstance(v, float) else str(v)
