"""Shared fixtures (real data location, an isolated offline hgzoo home, no network) and the marker report.

Markers (declared in pyproject.toml, the one set): ``slow`` (deselected by default; ``pytest -m slow``),
``requires_data`` (added here to every test that reads ../shared/data through the ``shared_data``
fixture; skipped with the reason when the data is absent) and ``jax`` (CI's JAX pass runs these).
The run ends with a count of the tests that did not run, and why. The suite runs on two pytest-xdist
workers by default (``-n 2`` in pyproject.toml; ``-n 0`` for one process): workers deselect, so they
send their deselection counts back to the controller for that report.
"""

import collections
import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DESELECTED = pytest.StashKey[collections.Counter]()


def data_dir():
    return Path(os.environ.get("HGZOO_TEST_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data():
    """The real data folder (``../shared/data`` or ``HGZOO_TEST_DATA``); skips when absent."""
    path = data_dir()
    if not path.is_dir():
        pytest.skip(f"real test data not found at {path} (set HGZOO_TEST_DATA)")
    return path


@pytest.fixture(scope="session")
def dmphn_mirror(shared_data):
    path = shared_data / "dmphn"
    if not (path / "checkpoints").is_dir():
        pytest.skip(f"official DMPHN checkpoints not found under {path}")
    return path


@pytest.fixture(autouse=True, scope="session")
def _isolated_offline_home(tmp_path_factory):
    """Tests never touch ~/.cache/hgzoo and never download."""
    saved = {k: os.environ.get(k) for k in ("HGZOO_HOME", "HGZOO_OFFLINE", "HGZOO_WEIGHTS_DIR")}
    os.environ["HGZOO_HOME"] = str(tmp_path_factory.mktemp("hgzoo_home"))
    os.environ["HGZOO_OFFLINE"] = "1"
    os.environ.pop("HGZOO_WEIGHTS_DIR", None)
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(autouse=True, scope="session")
def _fresh_process_reloads(tmp_path_factory, _isolated_offline_home):
    """The harness's reloads of .keras files in a fresh process, all in one process at the end of the
    session: one TensorFlow start instead of one per model; a failure names the test that saved the file."""
    from hgzoo.testing import fresh_process

    fresh_process.defer(tmp_path_factory.mktemp("fresh_process_reloads"))
    yield
    failures = fresh_process.run_deferred()
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


@pytest.fixture(autouse=True, scope="session")
def _no_network():
    """Refuse connections beyond the loopback: the suite must pass offline."""
    original = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1")) \
                and self.family in (socket.AF_INET, socket.AF_INET6):
            raise OSError(f"network access blocked in tests: {address}")
        return original(self, address)

    socket.socket.connect = guarded
    yield
    socket.socket.connect = original


@pytest.fixture
def weights_dir(monkeypatch, dmphn_mirror):
    """HGZOO_WEIGHTS_DIR pointing at the official checkpoints."""
    monkeypatch.setenv("HGZOO_WEIGHTS_DIR", str(dmphn_mirror))
    return dmphn_mirror


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "shared_data" in item.fixturenames:
            item.add_marker(pytest.mark.requires_data)


def pytest_deselected(items):
    if items:
        counts = items[0].config.stash.setdefault(DESELECTED, collections.Counter())
        counts.update("slow" if item.get_closest_marker("slow") else "other" for item in items)


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)  # set on pytest-xdist workers only
    if workeroutput is not None:
        workeroutput["deselected"] = dict(session.config.stash.get(DESELECTED, {}))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    # Every worker collects and deselects the whole suite: one worker's counts are the run's.
    counts = getattr(node, "workeroutput", {}).get("deselected")
    if counts is not None:
        node.config.stash[DESELECTED] = collections.Counter(counts)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    stats = terminalreporter.stats
    deselected = config.stash.get(DESELECTED, collections.Counter())
    slow, others = deselected["slow"], deselected["other"]
    skipped = [r for r in stats.get("skipped", []) if r.when in ("setup", "call")]
    no_data = sum(1 for r in skipped if "requires_data" in r.keywords)
    terminalreporter.write_sep("-", "tests that did not run")
    terminalreporter.write_line(f"{slow} slow, deselected (run them with: pytest -m slow)")
    if others:
        terminalreporter.write_line(f"{others} others deselected by -m / -k")
    terminalreporter.write_line(f"{no_data} requires_data, skipped: real data not found at {data_dir()}"
                                if no_data else f"0 requires_data skipped (real data at {data_dir()})")
    if len(skipped) > no_data:
        terminalreporter.write_line(f"{len(skipped) - no_data} skipped for other reasons (listed above)")
