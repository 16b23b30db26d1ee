"""The ``hgzoo`` console script: the command line, with TensorFlow imported only when a command needs it.

``import hgzoo`` imports every family, and so Keras and TensorFlow, whose C++
start-up lines go to stderr before any Python setting can stop them. This
module lives outside the package so that it runs before ``hgzoo/__init__.py``:
it executes that file with ``_defer_imports = True`` already in the package's
namespace, which makes it skip those imports. ``hgzoo.cli.main`` then imports
them, with stderr pointed at /dev/null, only for commands that use a model;
``hgzoo --help``, ``hgzoo <family> --help`` and ``hgzoo list`` never import
TensorFlow. ``import hgzoo`` anywhere else stays eager.
"""

import importlib.util
import sys


def main(argv=None):
    if "hgzoo" not in sys.modules:
        spec = importlib.util.find_spec("hgzoo")
        package = importlib.util.module_from_spec(spec)
        package._defer_imports = True
        sys.modules["hgzoo"] = package
        spec.loader.exec_module(package)
    from hgzoo.cli.main import main as run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
