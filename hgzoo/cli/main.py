"""The ``hgzoo`` command line: ``hgzoo <family> <action> ...`` plus the model-agnostic commands.

Every family of ``hgzoo._families.FAMILIES`` gets ``hgzoo <family>``, whose
actions ``hgzoo/cli/<family>.py`` adds with ``add_actions``. ``list``, ``info``,
``weights``, ``export`` and ``demo`` work on any model (``hgzoo/cli/general.py``).
A family whose module sets ``DEFAULT_ACTION`` takes it when the word after
the family is not one of its actions: ``hgzoo deblur photo.png`` is
``hgzoo deblur run photo.png`` (an image file named like an action is
``hgzoo deblur run train`` or ``hgzoo deblur ./train``).

Commands that use a model import hgzoo's families, and so TensorFlow, with
TensorFlow's C++ start-up lines hidden; ``--help`` and ``list`` import
neither (with the ``hgzoo`` console script, see ``hgzoo_launcher.py``).
Run ``hgzoo --help`` or ``hgzoo <family> --help``.

Example:

>>> from hgzoo.cli.main import main
>>> main(["list", "sosn*"])
sosn
sosn_omniglot
0
"""

import argparse
import importlib
import sys

from hgzoo._families import FAMILIES, FAMILY_NAMES
from hgzoo.cli import general
from hgzoo.cli.startup import import_models

# Verb-first forms of earlier releases, accepted for one more release with a notice.
DEPRECATED_VERBS = ("train", "tune")


def family_cli(name):
    """The command-line module of family ``name``: ``hgzoo.cli.<name>``."""
    return importlib.import_module(f"hgzoo.cli.{name}")


def build_parser():
    """The parser; ``parser.family_actions`` maps each family to its action names."""
    from hgzoo.version import __version__

    parser = argparse.ArgumentParser(prog="hgzoo", description="hgzoo: Keras 3 model zoo (Zhang, Koniusz et al.)")
    parser.add_argument("--version", action="version", version=f"hgzoo {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.family_actions = {}
    for family in FAMILIES:
        module = family_cli(family.name)
        default = getattr(module, "DEFAULT_ACTION", None)
        epilog = default and (f"A first word that is not an action means '{default}': 'hgzoo {family.name} ARGS' is "
                              f"'hgzoo {family.name} {default} ARGS'. For a file named like an action, write "
                              f"'hgzoo {family.name} {default} train' or 'hgzoo {family.name} ./train'.")
        p = commands.add_parser(family.name, help=family.summary, description=family.summary, epilog=epilog)
        actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
        module.add_actions(actions)
        parser.family_actions[family.name] = tuple(actions.choices)
    general.add_commands(commands)
    return parser


def rewrite(argv, parser):
    """``argv`` in the one grammar: old verb-first forms swapped (with a notice), a default action added."""
    if len(argv) > 1 and argv[0] in DEPRECATED_VERBS and argv[1] in FAMILY_NAMES \
            and argv[0] in parser.family_actions[argv[1]]:
        print(f"hgzoo: 'hgzoo {argv[0]} {argv[1]}' is deprecated and goes in the next release; "
              f"use 'hgzoo {argv[1]} {argv[0]}'", file=sys.stderr)
        argv = [argv[1], argv[0], *argv[2:]]
    if len(argv) > 1 and argv[0] in FAMILY_NAMES and argv[1] not in ("-h", "--help") \
            and argv[1] not in parser.family_actions[argv[0]]:
        default = getattr(family_cli(argv[0]), "DEFAULT_ACTION", None)
        if default:
            argv = [argv[0], default, *argv[1:]]
    return argv


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(rewrite(sys.argv[1:] if argv is None else list(argv), parser))
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    if not getattr(args, "light", False):
        import_models()
    from hgzoo.errors import HgzooError

    try:
        return args.func(args) or 0
    except (HgzooError, OSError, ValueError) as e:  # what a user can act on: one line, not a traceback
        command = " ".join(w for w in ("hgzoo", args.command, getattr(args, "action", None)) if w)
        print(f"{command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
