"""The shared test harness: run it on your own layers and models too.

``run_layer_test`` and ``run_model_test`` check what every hgzoo class
promises: config round trip; Keras serialization without ``custom_objects``;
exact symbolic and eager output shapes, also with dynamic spatial sizes;
weight counts; one ``fit`` step with a finite loss and finite gradients;
``mixed_float16`` and ``mixed_bfloat16`` (variables float32, outputs in the
compute dtype, a ``fit`` step); ``.keras`` save/load with equal outputs, also
in a fresh process that only imports hgzoo. Switching a check off needs a
``reason=``. ``run_export_test`` serves a model exported with hgzoo's
serving code in a process that imports TensorFlow only (once per family);
``run_hypermodel_test`` builds a trial of a class's search space;
``run_preset_test`` compares a preset's outputs with the golden values in
its manifest.

Example:

>>> import numpy as np
>>> from hgzoo.layers import PowerNorm
>>> from hgzoo.testing import run_layer_test
>>> run_layer_test(PowerNorm, {"function": "sigme", "strength": 10},
...                [np.random.rand(2, 5, 5).astype("float32")], expected_output_shape=(2, 5, 5),
...                subprocess_checks=False, reason="a quick example")  # doctest: +SKIP
"""

from hgzoo.testing.export import run_export_test
from hgzoo.testing.harness import run_layer_test, run_model_test
from hgzoo.testing.hypermodel import run_hypermodel_test
from hgzoo.testing.presets import golden_values, run_preset_test

__all__ = ["golden_values", "run_export_test", "run_hypermodel_test", "run_layer_test", "run_model_test",
           "run_preset_test"]
