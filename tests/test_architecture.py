"""Which part of hgzoo may import which: the rules of docs/architecture.md, enforced.

Every ``import`` in ``hgzoo/**/*.py`` is parsed (function-level imports too) and
mapped from the importing part to the imported part. An arrow the table below
does not allow fails the test with the file, line and a fix. The table is
rendered into docs/architecture.md, and a test keeps the two equal.
"""

import ast
import re
from pathlib import Path

import pytest

from hgzoo._families import FAMILIES, FAMILY_NAMES, PLANNED_ARROWS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "hgzoo"

KERNEL = ("hgzoo._families", "hgzoo._moved", "hgzoo.api_export", "hgzoo.config", "hgzoo.errors", "hgzoo.files", "hgzoo.samples", "hgzoo.version")
CORE = ("hgzoo.distribute", "hgzoo.metrics", "hgzoo.models", "hgzoo.registry", "hgzoo.training")

# part -> (what it is, the parts it may import). "family" stands for every
# family: its own modules plus the public API (the package) of the families it
# declares in hgzoo/_families.py `builds_on`.
RULES = {
    "kernel": ("errors, config, files, api_export, version, _families, _moved, samples: import nothing of hgzoo but each other",
               ("kernel",)),
    "layers": ("hgzoo/layers: Keras layers, know no model", ("kernel", "layers")),
    "weights": ("hgzoo/weights: manifests, the file store, the safe checkpoint reader; know no architecture",
                ("kernel", "weights")),
    "core": ("registry, models/, metrics, training, distribute: what every family builds on",
             ("kernel", "weights", "layers", "core")),
    "data": ("hgzoo/data: pipelines any family uses (image reading, class pools, tfds helpers)",
             ("kernel", "core", "data")),
    "family": ("hgzoo/<family>/ for each family in hgzoo/_families.py",
               ("kernel", "weights", "layers", "core", "data", "family")),
    "export": ("hgzoo/export: SavedModel for TF Serving; takes any model", ("kernel", "core", "export")),
    "tuning": ("hgzoo/tuning: Keras Tuner; takes any model class", ("kernel", "core", "tuning")),
    "top": ("hgzoo/__init__.py: the public API", ("kernel", "weights", "layers", "core", "data", "family",
                                                  "export", "tuning")),
    "testing": ("hgzoo/testing: the harness users run on their own classes",
                ("kernel", "weights", "layers", "core", "data", "family", "export", "tuning", "top", "testing")),
    "cli": ("hgzoo/cli: the command line; nothing imports it",
            ("kernel", "weights", "layers", "core", "data", "family", "export", "tuning", "top", "cli")),
}


def part_of(module):
    """(part, family name or None) of a dotted module name inside hgzoo."""
    if module == "hgzoo":
        return "top", None
    if module.startswith(KERNEL):
        return "kernel", None
    if module.startswith(CORE):
        return "core", None
    second = module.split(".")[1]
    if second in FAMILY_NAMES:
        return "family", second
    if second in ("layers", "weights", "data", "export", "tuning", "testing", "cli"):
        return second, None
    raise AssertionError(f"{module} belongs to no part of docs/architecture.md: add it to a part")


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def hgzoo_imports(tree):
    """(line, imported module) for every hgzoo import; ``from hgzoo import x`` names hgzoo.x."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "hgzoo":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                yield node.lineno, "<relative import>"
            elif node.module == "hgzoo":
                for alias in node.names:
                    yield node.lineno, "hgzoo" if alias.name in ("__version__",) else f"hgzoo.{alias.name}"
            elif node.module and node.module.split(".")[0] == "hgzoo":
                yield node.lineno, node.module


def builds_on(name):
    return next(f.builds_on for f in FAMILIES if f.name == name)


def package_sources():
    """(file, module name, source text) of every module in hgzoo/."""
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(ROOT), module_name(path), path.read_text()


def violations(sources):
    found = []
    for path, source, text in sources:
        tree = ast.parse(text)
        source_part, source_family = part_of(source)
        for line, target in hgzoo_imports(tree):
            where = f"{path}:{line} imports {target}"
            if target == "<relative import>":
                found.append(f"{where}: use absolute imports")
                continue
            if target == "hgzoo" and source_part not in ("cli", "testing"):
                found.append(f"{where}: only the CLI and the test harness import the top-level package; "
                             f"import the module you need (e.g. hgzoo.registry)")
                continue
            target_part, target_family = part_of(target)
            if target_part not in RULES[source_part][1]:
                found.append(f"{where}: {source_part} may not import {target_part} "
                             f"(allowed: {', '.join(RULES[source_part][1])})")
            elif source_part == "family" and target_part == "family" and target_family != source_family:
                if target_family not in builds_on(source_family):
                    found.append(f"{where}: family {source_family} does not build on {target_family} "
                                 f"(declare it in hgzoo/_families.py builds_on, never in a cycle)")
                elif target != f"hgzoo.{target_family}":
                    found.append(f"{where}: import another family's public API (hgzoo.{target_family}), "
                                 f"not its internals")
    return found


def test_every_import_follows_the_architecture():
    found = violations(package_sources())
    assert not found, "imports against docs/architecture.md:\n" + "\n".join(found)


def test_family_arrows_have_no_cycle():
    graph = {f.name: set(f.builds_on) for f in FAMILIES}
    for f in FAMILIES:
        unknown = set(f.builds_on) - set(FAMILY_NAMES)
        assert not unknown, f"{f.name} builds on unknown families {unknown}"

    def reaches(start, goal, seen=()):
        return any(n == goal or (n not in seen and reaches(n, goal, (*seen, n))) for n in graph[start])

    cyclic = [name for name in graph if reaches(name, name)]
    assert not cyclic, f"families in a cycle: {cyclic}"


@pytest.mark.parametrize("module,text,complaint", [
    ("hgzoo.layers.new_layer", "def f():\n    from hgzoo.deblur import DMPHN\n", "layers may not import family"),
    ("hgzoo.deblur.new_model", "from hgzoo.cli import main\n", "family may not import cli"),
    ("hgzoo.fewshot.new_model", "from hgzoo.tuning import HyperModel\n", "family may not import tuning"),
    ("hgzoo.data.new_pipeline", "import hgzoo.text\n", "data may not import family"),
    ("hgzoo.text.new_model", "import hgzoo\n", "only the CLI and the test harness"),
    ("hgzoo.fewshot.new_model", "from hgzoo.deblur.base import DeblurModel\n", "does not build on deblur"),
    ("hgzoo.deblur.new_model", "from . import dmphn\n", "use absolute imports"),
])
def test_the_checker_catches_a_forbidden_arrow(module, text, complaint):
    found = violations([(f"{module.replace('.', '/')}.py", module, text)])
    assert len(found) == 1 and complaint in found[0], found
    assert not violations([("hgzoo/deblur/ok.py", "hgzoo.deblur.ok", "from hgzoo.layers import PowerNorm\n")])


def rules_table():
    rows = ["| part | what it is | may import |", "|---|---|---|"]
    for part, (what, allowed) in RULES.items():
        rows.append(f"| {part} | {what} | {', '.join(allowed)} |")
    arrows = [f"{f.name} → {', '.join(f.builds_on)}" for f in FAMILIES if f.builds_on]
    planned = [f"{name} → {', '.join(targets)}" for name, targets in PLANNED_ARROWS.items()]
    rows += ["", "Family arrows in use: " + ("; ".join(arrows) or "none yet") + ".",
             "Family arrows the template allows for families to come: " + ("; ".join(planned) or "none") + "."]
    return "\n".join(rows) + "\n"


def test_docs_state_the_same_rules():
    text = (ROOT / "docs" / "architecture.md").read_text()
    match = re.search(r"<!-- rules:start -->\n(.*?)<!-- rules:end -->", text, re.S)
    assert match, "docs/architecture.md lost its generated rules block"
    assert match.group(1) == rules_table(), (
        "docs/architecture.md's rules differ from tests/test_architecture.py; paste:\n" + rules_table())


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_family_is_a_package(name):
    assert (PACKAGE / name / "__init__.py").is_file()
