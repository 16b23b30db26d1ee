"""Training, saving, loading and scoring the three detectors alike; the isolation forest; a learning check."""

import numpy as np
import pytest

from hgzoo.anomaly import IsolationForestDetector, auroc, load_run, save_run, train

SMALL = {"filters": 4, "hidden": 8}


@pytest.mark.parametrize("kind", ["igt", "autoencoder", "isolation_forest"])
def test_train_save_load_score(features_r42, tmp_path, kind):
    data = features_r42
    normal = data.features[data.labels == 0]
    kwargs = {"epochs": 1, **(SMALL if kind == "igt" else {"hidden": (8,), "code": 4} if kind == "autoencoder"
                              else {})}
    run = train(normal, kind, trees=20, **kwargs)
    scores = run.anomaly_score(data.features)
    assert scores.shape == (len(data),) and np.isfinite(scores).all()
    assert np.mean(run.anomaly_score(normal) > run.tau) <= 0.05  # τ keeps false alarms on training days rare
    loaded = load_run(save_run(run, tmp_path / kind))
    assert (loaded.kind, loaded.tau, loaded.kappa) == (kind, run.tau, run.kappa)
    np.testing.assert_allclose(loaded.anomaly_score(data.features), scores, rtol=1e-5, atol=1e-5)


def test_isolation_forest_finds_an_obvious_outlier():
    rng = np.random.default_rng(0)
    normal = rng.random((200, 12, 12, 1)) * 0.1
    odd = np.ones((1, 12, 12, 1))
    detector = IsolationForestDetector(trees=50).fit(normal)
    assert detector.anomaly_score(odd)[0] > detector.anomaly_score(normal).max()


@pytest.mark.slow
def test_igt_separates_generated_insider_days(tmp_path):
    from hgzoo.anomaly import extract_features
    from hgzoo.anomaly.data import generate_cert

    data = extract_features(generate_cert(tmp_path / "r4.2", users=20, days=45, seed=3), progress=False)
    run = train(data.features[data.labels == 0], "igt", epochs=5, filters=16, hidden=32)
    assert auroc(data.labels, run.anomaly_score(data.features)) > 0.7


class _Killed(Exception):
    pass


def test_killed_training_resumes_from_its_last_finished_epoch(features_r42, tmp_path, monkeypatch):
    import keras

    from hgzoo.anomaly import detectors

    normal = features_r42.features[features_r42.labels == 0]
    real_fit, started = detectors.fit_resumable, []

    class KillAfterSecondEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise _Killed  # after fit_resumable's own callback has committed epoch 1

    class RecordEpochs(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            started.append(epoch)

    def fit_with(callback):
        return lambda *args, **kwargs: real_fit(*args, callbacks=[callback], **kwargs)

    settings = {"epochs": 4, "checkpoint_dir": tmp_path / "training", "hidden": (8,), "code": 4}
    monkeypatch.setattr(detectors, "fit_resumable", fit_with(KillAfterSecondEpoch()))
    with pytest.raises(_Killed):
        train(normal, "autoencoder", **settings)
    monkeypatch.setattr(detectors, "fit_resumable", fit_with(RecordEpochs()))
    run = train(normal, "autoencoder", **settings)
    assert started == [2, 3]  # the two finished epochs were not trained again
    assert len((tmp_path / "training" / "log.csv").read_text().strip().splitlines()) == 1 + 4
    assert np.isfinite(run.anomaly_score(normal)).all()
