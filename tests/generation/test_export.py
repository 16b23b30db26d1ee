"""IDDiffusion's denoiser step exported for TF Serving (the family's export round trip)."""

import keras
import numpy as np
import pytest

from hgzoo.generation import IDDiffusion
from hgzoo.testing import run_export_test

from .conftest import TINY, inputs


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="SavedModel export needs TensorFlow")
def test_export_for_serving():
    model = IDDiffusion(**TINY)
    names = ("noisy", "timestep", "identity", "layout", "background")
    arrays = dict(zip(names, inputs(3)))
    served = run_export_test(model, arrays, {"inputs": {**dict.fromkeys(names[:4], "float32"), "background": "int32"},
                                             "outputs": {"noise": "float32"}})
    np.testing.assert_allclose(served["noise"], model.predict_on_batch(list(arrays.values())), atol=1e-4)
    with pytest.raises(ValueError, match="float32 noisy images"):
        model.serving_signature("uint8")
