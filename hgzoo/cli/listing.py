"""``hgzoo list`` without Keras: model names read from the families' source, presets from the manifests.

``hgzoo.list_models`` needs every family imported, and importing a family
imports Keras and so TensorFlow: seconds of start-up for a list of names.
Here the ``@register_model(task=..., name=...)`` decorators of every family in
``hgzoo._families`` are read with :mod:`ast` instead, and the presets come from
the manifests, which are JSON. ``tests/test_cli.py`` checks the answer equals
``hgzoo.list_models`` for every filter.

Example:

>>> from hgzoo.cli.listing import list_models
>>> list_models("sosn*")
['sosn', 'sosn_omniglot']
"""

import ast
import fnmatch
from pathlib import Path

from hgzoo._families import FAMILY_NAMES
from hgzoo.weights import manifest

PACKAGE = Path(__file__).resolve().parents[1]


def _literal_keywords(call, path):
    values = {k.arg: k.value.value for k in call.keywords if isinstance(k.value, ast.Constant)}
    if not {"task", "name"} <= set(values):
        raise ValueError(f"{path}:{call.lineno}: register_model needs literal task= and name= "
                         "(hgzoo list reads them without importing the module)")
    return values


def _is_register_model(decorator):
    func = getattr(decorator, "func", None)
    return getattr(func, "id", None) == "register_model" or getattr(func, "attr", None) == "register_model"


def register_calls(family):
    """``(file:line, {"task": ..., "name": ...})`` of every ``@register_model`` class in ``hgzoo/<family>/``."""
    for path in sorted((PACKAGE / family).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                for decorator in filter(_is_register_model, node.decorator_list):
                    yield f"{path.relative_to(PACKAGE.parent)}:{decorator.lineno}", _literal_keywords(decorator, path)


def registered_architectures():
    """``{name: task}`` of every ``@register_model`` class in the families, without importing them."""
    return {keywords["name"]: keywords["task"] for family in FAMILY_NAMES for _, keywords in register_calls(family)}


def list_models(pattern=None, task=None, pretrained=None):
    """What ``hgzoo.list_models(pattern, task, pretrained)`` returns, without importing Keras."""
    names = {}
    if pretrained is not True:
        names.update(registered_architectures())
    if pretrained is not False:
        names.update({pid: p.task for pid, p in manifest.all_presets().items()})
    return sorted(n for n, t in names.items()
                  if (task is None or t == task) and (pattern is None or fnmatch.fnmatch(n, pattern)))


def markdown_table():
    """The README's model table, generated from the registry and the manifest."""
    import hgzoo

    rows = ["| name | class | task | weights | size | measured |", "|---|---|---|---|---|---|"]
    for name in hgzoo.list_models():
        cls = hgzoo.get_model_class(name)
        preset = manifest.all_presets().get(name)
        if preset is None:
            rows.append(f"| `{name}` | `{cls.__name__}` | {cls.task} | random init | | |")
            continue
        source = "authors' checkpoint, converted locally" if preset.converter else "hgzoo-trained, packaged"
        measured = ", ".join(f"{k} {v}" for k, v in preset.metrics.items())
        rows.append(f"| `{name}` | `{cls.__name__}` | {cls.task} | {source} | "
                    f"{preset.total_size / 1e6:.1f} MB | {measured} |")
    return "\n".join(rows) + "\n"
