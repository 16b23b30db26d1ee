"""Fill the README's generated sections: the model table and the benchmark tables.

    python tools/update_readme.py
"""

import pathlib
import re

from hgzoo.cli.main import markdown_table

ROOT = pathlib.Path(__file__).resolve().parents[1]
BENCHMARKS = ("deblur_speed", "power_norm_speed")
FEWSHOT = ("fewshot_omniglot_power_norms", "fewshot_cifar")
EVENTS = ("event_deblur",)
TEXT = ("text_classification",)
SCRIPTS = {"fewshot_omniglot_power_norms": "fewshot_omniglot.py table"}  # result name -> script, where they differ


def fill(text, name, body):
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text)


def benchmark_section(names=BENCHMARKS):
    parts = []
    for name in names:
        path = ROOT / "benchmarks" / "results" / f"{name}.md"
        if path.exists():
            parts.append(f"`benchmarks/{SCRIPTS.get(name, name + '.py')}`:\n\n{path.read_text().strip()}\n")
    return "\n".join(parts)


def main():
    readme = ROOT / "README.md"
    text = fill(readme.read_text(), "models", markdown_table())
    text = fill(text, "benchmarks", benchmark_section())
    text = fill(text, "fewshot", benchmark_section(FEWSHOT))
    text = fill(text, "events", benchmark_section(EVENTS))
    text = fill(text, "text", benchmark_section(TEXT))
    readme.write_text(text)


if __name__ == "__main__":
    main()
