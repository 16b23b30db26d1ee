"""Insider-threat detection from CERT audit logs: readers, Table-1 features, behaviour images, IGT.

Logs (the CERT r4.2 / r5.2 files, or :func:`~hgzoo.anomaly.data.generate_cert`'s
synthetic stand-in) become Table-1 features per user-day
(:func:`extract_features`), those become 12×12 behaviour images
(:class:`BehaviourImageEncoder`), and a detector trained on normal days only
scores every day: :class:`IGT` (geometric-transformation classifier),
:class:`BehaviourAutoencoder` or :class:`IsolationForestDetector`.

Example:

>>> import tempfile
>>> from hgzoo.anomaly import extract_features, train
>>> from hgzoo.anomaly.data import generate_cert
>>> data = extract_features(generate_cert(tempfile.mkdtemp(), users=6, days=28, seed=0), progress=False)
>>> run = train(data.features[data.labels == 0], "igt", epochs=1, filters=4, hidden=8)
>>> run.anomaly_score(data.features).shape == (len(data),)
True
"""

from hgzoo.anomaly import data
from hgzoo.anomaly.autoencoder import BehaviourAutoencoder
from hgzoo.anomaly.cert import (
    CertLog,
    InvalidCertError,
    SkipReport,
    read_insiders,
    read_ldap,
    read_psychometric,
)
from hgzoo.anomaly.decisions import auroc, calibrate_tau, instance_decisions, user_decisions, user_scores
from hgzoo.anomaly.detectors import DETECTORS, Run, load_run, save_run, train
from hgzoo.anomaly.features import FeatureConfig, UserDayFeatures, extract_features, feature_name
from hgzoo.anomaly.igt import IGT
from hgzoo.anomaly.images import BehaviourImageEncoder
from hgzoo.anomaly.isolation_forest import IsolationForestDetector
from hgzoo.anomaly.transforms import NUM_TRANSFORMS

__all__ = ["DETECTORS", "IGT", "NUM_TRANSFORMS", "BehaviourAutoencoder", "BehaviourImageEncoder", "CertLog",
           "FeatureConfig", "InvalidCertError", "IsolationForestDetector", "Run", "SkipReport", "UserDayFeatures",
           "auroc", "calibrate_tau", "data", "extract_features", "feature_name", "instance_decisions", "load_run",
           "read_insiders", "read_ldap", "read_psychometric", "save_run", "train", "user_decisions", "user_scores"]
