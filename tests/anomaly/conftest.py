"""Anomaly fixtures: small synthetic CERT folders (the real CERT data may not be redistributed)."""

import pytest

from hgzoo.anomaly.data import generate_cert


@pytest.fixture(scope="session")
def cert_r42(tmp_path_factory):
    """A generated r4.2-layout folder named like a release (r4.2), 6 users over 28 days, 3 insiders."""
    return generate_cert(tmp_path_factory.mktemp("cert") / "r4.2", users=6, days=28, seed=0)


@pytest.fixture(scope="session")
def cert_r52(tmp_path_factory):
    return generate_cert(tmp_path_factory.mktemp("cert") / "r5.2", users=6, days=28, seed=1, release="r5.2")


@pytest.fixture(scope="session")
def features_r42(cert_r42):
    from hgzoo.anomaly import extract_features

    return extract_features(cert_r42, progress=False)
