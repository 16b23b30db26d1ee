"""Few-shot fixtures: the real Omniglot files."""

import pytest


@pytest.fixture(scope="session")
def omniglot_dir(shared_data):
    """../shared/data/omniglot with the background set and the 20 official runs; skips when absent."""
    path = shared_data / "omniglot"
    missing = [n for n in ("images_background_small1.zip", "all_runs.zip") if not (path / n).is_file()]
    if missing:
        pytest.skip(f"Omniglot files {missing} not found under {path}")
    return path
