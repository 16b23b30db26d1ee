"""One serving export round trip for the family (TensorFlow only)."""

import keras
import numpy as np
import pytest

from hgzoo.distill import ConvNet
from hgzoo.testing import run_export_test


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="SavedModel export needs TensorFlow")
def test_export_for_serving():
    model = ConvNet(width=4, num_classes=3)
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    served = run_export_test(model, {"images": x}, {"inputs": {"images": "float32"}, "outputs": {"logits": "float32"}})
    np.testing.assert_allclose(served["logits"], model.predict(x, verbose=0), atol=1e-4)
    with pytest.raises(ValueError, match="standardised float32"):
        model.serving_signature("uint8")
