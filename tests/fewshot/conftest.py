"""Few-shot fixtures: the real Omniglot files, and the SalNet authors' checkpoints as a weights mirror."""

import pytest


@pytest.fixture(scope="session")
def omniglot_dir(shared_data):
    """../shared/data/omniglot with the background set and the 20 official runs; skips when absent."""
    path = shared_data / "omniglot"
    missing = [n for n in ("images_background_small1.zip", "all_runs.zip") if not (path / n).is_file()]
    if missing:
        pytest.skip(f"Omniglot files {missing} not found under {path}")
    return path


@pytest.fixture(scope="session")
def salnet_dir(shared_data):
    """../shared/data/salnet: the authors' checkpoints (miniImagenet/...) and salnet_reference.npz."""
    path = shared_data / "salnet"
    if not (path / "miniImagenet").is_dir() or not (path / "salnet_reference.npz").is_file():
        pytest.skip(f"the SalNet authors' checkpoints or salnet_reference.npz not found under {path}")
    return path


@pytest.fixture
def salnet_mirror(monkeypatch, salnet_dir):
    """HGZOO_WEIGHTS_DIR pointing at the authors' SalNet checkpoints (offline, as in every test)."""
    monkeypatch.setenv("HGZOO_WEIGHTS_DIR", str(salnet_dir))
    return salnet_dir
