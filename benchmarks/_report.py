"""Shared by the benchmark scripts: timing, peak memory, JSON + markdown output."""

import json
import os
import platform
import resource
import statistics
import time

RESULTS = os.path.join(os.path.dirname(__file__), "results")


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


def machine():
    import keras

    return {"cpu_count": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(),
            "keras": keras.__version__, "backend": keras.backend.backend()}


def write(name, rows, columns, notes=""):
    """Write ``results/<name>.json`` and ``results/<name>.md``; return the markdown table."""
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"{name}.json"), "w") as f:
        json.dump({"machine": machine(), "rows": rows, "notes": notes}, f, indent=1)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(c, "")) for c in columns) + " |")
    table = "\n".join(lines) + "\n"
    with open(os.path.join(RESULTS, f"{name}.md"), "w") as f:
        f.write(table + (f"\n{notes}\n" if notes else ""))
    return table


def _fmt(v):
    return f"{v:.3f}" if isinstance(v, float) else str(v)
