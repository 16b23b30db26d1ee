"""Zero-shot fixtures: the shipped att_splits.mat files and the official ZSKL reference run."""

import pytest

DATASETS = ("APY", "AWA1", "AWA2", "CUB", "SUN", "FLO")


@pytest.fixture(scope="session")
def zsl_dir(shared_data):
    path = shared_data / "zsl"
    if not path.is_dir():
        pytest.skip(f"zero-shot data not found under {path}")
    return path


@pytest.fixture(scope="session")
def zskl_reference(zsl_dir):
    """The official MATLAB ZSKL run on a small fixed problem (see ../shared/data/README.md)."""
    from scipy import io

    path = zsl_dir / "zskl_reference.mat"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return {k: v for k, v in io.loadmat(path).items() if not k.startswith("__")}
