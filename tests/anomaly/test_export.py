"""IGT's scorer exported for TF Serving: behaviour images in, normality and anomaly score out."""

import keras
import numpy as np
import pytest

from hgzoo.anomaly import IGT, NUM_TRANSFORMS
from hgzoo.testing import run_export_test


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="SavedModel export needs TensorFlow")
def test_export_for_serving():
    model = IGT(filters=4, hidden=8)
    x = np.random.default_rng(0).random((3, 12, 12, 1)).astype("float32")
    served = run_export_test(model, {"images": x}, {"inputs": {"images": "float32"},
                                                    "outputs": {"normality": "float32", "anomaly_score": "float32"}})
    np.testing.assert_allclose(served["normality"], model.normality(x), atol=1e-5)
    np.testing.assert_allclose(served["anomaly_score"], NUM_TRANSFORMS - served["normality"], atol=1e-5)
    with pytest.raises(ValueError, match="float32 behaviour images"):
        model.serving_signature("uint8")
