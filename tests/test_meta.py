"""The project's own rules: every public class registered, documented and harness-tested, and every
family in hgzoo/_families.py wired in by each step of docs/adding_a_family.md."""

import configparser
import doctest
import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

import keras
import pytest

import hgzoo
from hgzoo._families import FAMILIES, FAMILY_NAMES
from hgzoo.cli.listing import register_calls
from hgzoo.weights import manifest

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_MODULES = [hgzoo.layers, hgzoo.metrics] + [getattr(hgzoo, name) for name in FAMILY_NAMES]
ALL_TESTS = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))


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
    def harness_tested(c):
        return re.search(rf"run_(layer|model)_test\(\s*{c.__name__}\b", ALL_TESTS)

    # A public base class (FewShotModel) is harness-tested through the public models built on it.
    subclasses = [c for c in public_classes() if c is not cls and issubclass(c, cls)]
    assert harness_tested(cls) or any(harness_tested(c) for c in subclasses), \
        f"{cls.__name__} has no harness test"


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
    core = ["__version__", "create_model", "export", "get_model_class", "layers", "list_models", "metrics",
            "model_classes", "tuning", "weights"]
    assert hgzoo.__all__ == sorted(core + list(FAMILY_NAMES))
    assert sorted(hgzoo.layers.__all__) == ["AuxiliaryCrossEntropy", "CrossAttention", "PatchMerge", "PatchSplit",
                                            "PowerNorm", "SecondOrderPool"]


def test_no_tensorflow_in_layers_and_models():
    # tf.data / tensorflow-datasets live at the edges: a family's data/ folder and its episode pipelines;
    # autodiff.py is dataset distillation's gradient in the images, which Keras 3 has no neutral API for.
    edges = {"episodes.py", "autodiff.py"}
    folders = ["layers", "models", *FAMILY_NAMES]
    for folder in folders:
        for path in (ROOT / "hgzoo" / folder).glob("*.py"):
            if path.name in edges:
                continue
            assert not re.search(r"^\s*(import tensorflow|from tensorflow)", path.read_text(), re.M), path


# --- every family follows docs/adding_a_family.md -------------------------------------------------


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_family_package_documents_its_api(name):
    module = getattr(hgzoo, name)
    assert ">>>" in (module.__doc__ or ""), f"hgzoo/{name}/__init__.py: add a docstring with a runnable example"
    assert getattr(module, "__all__", None), f"hgzoo/{name}/__init__.py: list the public API in __all__"


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_family_registers_models_by_explicit_names(name):
    calls = list(register_calls(name))  # the decorators as `hgzoo list` reads them
    assert calls, f"hgzoo/{name}/ registers no model: decorate its models with @register_model"
    for where, keywords in calls:
        assert keywords.get("task") == name, f"{where}: register_model(task={name!r}, ...)"
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", keywords.get("name") or ""), \
            f"{where}: give name= explicitly, lower-case words joined by _"
    registered = {cls.arch_name for cls in hgzoo.model_classes().values() if cls.task == name}
    assert registered == {k["name"] for _, k in calls}


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_family_has_a_command_line(name):
    path = ROOT / "hgzoo" / "cli" / f"{name}.py"
    assert path.is_file(), f"add {path.relative_to(ROOT)} with the family's `hgzoo {name} <action>` commands"
    from hgzoo.cli.main import build_parser

    choices = next(a for a in build_parser()._subparsers._group_actions).choices
    assert name in choices, f"`hgzoo {name}` is not a command"


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_family_presets_are_joined_and_golden_tested(name):
    presets = {pid: p for pid, p in manifest.all_presets().items() if p.task == name}
    classes = {f"hgzoo>{cls.__name__}" for cls in hgzoo.model_classes().values() if cls.task == name}
    for pid, preset in presets.items():
        assert preset.arch in classes, f"preset {pid}: arch {preset.arch} is no registered {name} model"
    path = ROOT / "weights" / "manifests" / f"{name}.json"
    if path.exists():
        raw = json.loads(path.read_text())
        missing = [pid for pid, entry in raw.items() if not entry.get("golden")]
        assert not missing, f"{path.relative_to(ROOT)}: presets without golden values: {missing}"
    if presets:
        test_file = ROOT / "tests" / name / "test_presets.py"
        assert test_file.is_file() and "run_preset_test(" in test_file.read_text(), \
            f"add {test_file.relative_to(ROOT)} calling hgzoo.testing.run_preset_test for every preset"


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_family_tests_run_on_jax_too(name):
    folder = ROOT / "tests" / name
    files = list(folder.glob("test_*.py"))
    assert files, f"add tests under {folder.relative_to(ROOT)}/"
    assert any(re.search(r"pytest\.mark\.jax\b", f.read_text()) for f in files), \
        f"mark the backend-agnostic tests of tests/{name}/ with pytest.mark.jax (CI's JAX pass runs them)"


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_family_has_benchmarks_with_provenance(name):
    scripts = list((ROOT / "benchmarks" / name).glob("*.py"))
    results = list((ROOT / "benchmarks" / "results" / name).glob("*.json"))
    assert scripts, f"add a benchmark script under benchmarks/{name}/"
    assert results, f"run it: its results go to benchmarks/results/{name}/"
    for path in results:
        record = json.loads(path.read_text())
        for key in ("command", "commit", "machine", "date"):
            assert key in record, f"{path.relative_to(ROOT)} does not record its {key}"


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_family_has_a_readme_section(name):
    readme = (ROOT / "README.md").read_text()
    assert f"<!-- {name}:benchmarks:start -->" in readme, \
        f"README.md: give {name} a section with its generated benchmark block (tools/update_readme.py)"


def test_adding_a_family_doc_names_every_checked_step():
    doc = (ROOT / "docs" / "adding_a_family.md").read_text()
    for step in ("hgzoo/_families.py", "register_model", "hgzoo/cli/", "weights/manifests/", "golden",
                 "run_preset_test", "pytest.mark.jax", "benchmarks/", ":benchmarks:start", "setup.cfg",
                 "tests/test_architecture.py", "tests/test_bad_inputs.py"):
        assert step in doc, f"docs/adding_a_family.md does not mention {step}"


def test_family_list_is_the_one_source():
    assert [f.name for f in FAMILIES] == list(FAMILY_NAMES)
    for name in FAMILY_NAMES:
        assert name in hgzoo.__all__ and getattr(hgzoo, name).__name__ == f"hgzoo.{name}"
