"""``import hgzoo`` works without the optional extras, and a feature that needs one names it."""

import os
import subprocess
import sys

import pytest

from hgzoo.config import require
from hgzoo.errors import MissingExtraError

# Runs where no extra's package can be imported (None in sys.modules), as after a core-only install.
WITHOUT_EXTRAS = r"""
import sys
for name in ("keras_tuner", "tensorflow_datasets", "scipy", "sklearn", "torch", "transformers", "dlib",
             "face_recognition_models", "keras_hub", "av", "skimage", "openpyxl", "mlxtend", "gguf"):
    sys.modules[name] = None
import numpy as np
import hgzoo
from hgzoo.errors import MissingExtraError

def fails(action, extra):
    try:
        action()
    except MissingExtraError as e:
        assert f'pip install "hgzoo[{extra}]"' in str(e), e
        return
    raise AssertionError(f"{action} did not raise MissingExtraError")

def import_module(name):
    return lambda: __import__(name)

fails(lambda: hgzoo.tuning.HyperModel, "tune")
fails(import_module("hgzoo.tuning.hypermodel"), "tune")
fails(import_module("hgzoo.deblur.data.tfds_gopro"), "data")
fails(import_module("hgzoo.deblur.data.tfds_gopro_events"), "data")
fails(import_module("hgzoo.fewshot.data.tfds_builders"), "data")
fails(import_module("hgzoo.data.tfds_openmic"), "data")
fails(lambda: hgzoo.fewshot.ImageClasses.from_tfds("omniglot"), "data")
pool = hgzoo.fewshot.ImageClasses.from_arrays(np.zeros((4, 8, 8, 1), np.uint8), [0, 0, 1, 1])
assert pool.num_classes == 2  # the rest of the package works
print("OK")
"""


def test_core_imports_without_tune_and_data_extras():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", WITHOUT_EXTRAS], capture_output=True, text=True, env=env,
                            timeout=300)
    assert result.returncode == 0 and result.stdout.strip().endswith("OK"), result.stderr[-3000:]


def test_require_names_the_extra():
    assert require("numpy", "core").__name__ == "numpy"
    with pytest.raises(MissingExtraError, match=r'pip install "hgzoo\[tune\]"') as info:
        require("hgzoo_no_such_module", "tune")
    assert isinstance(info.value, ImportError)  # code catching ImportError keeps working
