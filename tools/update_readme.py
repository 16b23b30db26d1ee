"""Fill the README's generated blocks: the model table and every family's benchmark tables.

    python tools/update_readme.py          # rewrite README.md and benchmarks/results/*/*.md
    python tools/update_readme.py --check  # exit 1, naming what is stale, without writing

Blocks:

- ``<!-- models:start -->`` ... ``<!-- models:end -->``: the registered models
  (``hgzoo.cli.listing.markdown_table``, what ``hgzoo list --markdown`` prints);
- ``<!-- <group>:benchmarks:start -->`` ... ``<!-- <group>:benchmarks:end -->`` for
  every family of ``hgzoo._families.FAMILIES`` and for ``layers``: each
  ``benchmarks/results/<group>/*.json`` as a table with its notes and the
  provenance of its run (command, commit, CPU, date), rendered by
  ``benchmarks/_report.py``. The ``.md`` file next to each JSON is rewritten
  from it too, so an edited JSON never leaves a stale table behind.

A group with results but no block in the README is an error (a new family
adds its block to the README's Benchmarks section, see ``docs/adding_a_family.md``).
"""

import argparse
import importlib.util
import json
import pathlib
import re
import sys

from hgzoo._families import FAMILY_NAMES

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RESULTS = ROOT / "benchmarks" / "results"
GROUPS = FAMILY_NAMES + ("layers",)  # layer benchmarks belong to no family


def _report():
    spec = importlib.util.spec_from_file_location("_report", ROOT / "benchmarks" / "_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fill(text, name, body):
    """``text`` with the block between ``<!-- name:start -->`` and ``<!-- name:end -->`` replaced by ``body``."""
    pattern = re.compile(rf"(<!-- {re.escape(name)}:start -->\n).*?(<!-- {re.escape(name)}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no '<!-- {name}:start -->' ... '<!-- {name}:end -->' block: add one")
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text)


def result_files(group):
    return sorted((RESULTS / group).glob("*.json"))


def result_markdown():
    """{path of each results .md: its text rendered from the JSON next to it}."""
    table = _report().table
    return {path.with_suffix(".md"): table(json.loads(path.read_text())) for g in GROUPS for path in result_files(g)}


def benchmark_block(group, rendered):
    """Every result of ``group``: the script that writes it, its table, notes and provenance."""
    parts = []
    for path in result_files(group):
        script = json.loads(path.read_text())["script"]
        parts.append(f"`{script}` → `{path.relative_to(ROOT)}`:\n\n{rendered[path.with_suffix('.md')]}")
    return "\n".join(parts)


def with_benchmarks(text, rendered=None):
    """``text`` (the README) with every group's benchmark block regenerated; groups without results are skipped."""
    rendered = rendered if rendered is not None else result_markdown()
    for group in GROUPS:
        if result_files(group):
            text = fill(text, f"{group}:benchmarks", benchmark_block(group, rendered))
    return text


def models_table():
    from hgzoo.cli.listing import markdown_table

    return markdown_table()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report what is stale (exit status 1)")
    args = parser.parse_args(argv)
    rendered = result_markdown()
    readme = README.read_text()
    wanted = {README: with_benchmarks(fill(readme, "models", models_table()), rendered), **rendered}
    stale = [path for path, text in wanted.items() if not path.exists() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)}")
        return 1 if stale else 0
    for path in stale:
        path.write_text(wanted[path])
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
