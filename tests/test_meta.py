"""Every public class is registered, documented with an example, and harness-tested."""

import configparser
import doctest
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import keras
import pytest

import hgzoo

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_MODULES = [hgzoo.layers, hgzoo.deblur, hgzoo.fewshot, hgzoo.metrics, hgzoo.text]


def public_classes():
    for module in PUBLIC_MODULES:
        for name in getattr(module, "__all__", dir(module)):
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, (keras.layers.Layer, keras.metrics.Metric)) \
                    and obj.__module__.startswith("hgzoo"):
                yield obj


@pytest.mark.parametrize("cls", sorted(set(public_classes()), key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_registered_documented_tested(cls):
    assert keras.saving.get_registered_object(f"hgzoo>{cls.__name__}") is cls
    assert ">>>" in (cls.__doc__ or ""), f"{cls.__name__} has no docstring example"
    if issubclass(cls, keras.metrics.Metric):
        return
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    assert re.search(rf"run_(layer|model)_test\(\s*{cls.__name__}\b", tests), f"{cls.__name__} has no harness test"


def all_modules():
    for info in pkgutil.walk_packages(hgzoo.__path__, "hgzoo."):
        if not info.name.startswith("hgzoo._data"):
            yield info.name


@pytest.mark.parametrize("name", sorted(all_modules()))
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0


def test_setup_cfg_lists_every_package():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    listed = set(cfg["options"]["packages"].split())
    found = {"hgzoo", "hgzoo._data"} | {i.name for i in pkgutil.walk_packages(hgzoo.__path__, "hgzoo.") if i.ispkg}
    assert listed == found


def test_public_api_is_pinned():
    assert sorted(hgzoo.__all__) == ["__version__", "create_model", "deblur", "export", "fewshot", "get_model_class",
                                     "layers", "list_models", "metrics", "model_classes", "text", "tuning", "weights"]
    assert sorted(hgzoo.layers.__all__) == ["CrossAttention", "PatchMerge", "PatchSplit", "PowerNorm",
                                            "SecondOrderPool"]


def test_no_tensorflow_in_layers_and_models():
    for folder in ("layers", "deblur", "fewshot", "models", "text"):
        for path in (ROOT / "hgzoo" / folder).glob("*.py"):
            # tf.data / tensorflow-datasets at the edges: training CLIs, episode pipelines, dataset builders.
            if path.name in ("train_cli.py", "cli.py", "episodes.py", "image_classes.py", "tfds_builders.py"):
                continue
            assert not re.search(r"^\s*(import tensorflow|from tensorflow)", path.read_text(), re.M), path
