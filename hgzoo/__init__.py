"""hgzoo: Keras 3 model zoo of the research systems of Hongguang Zhang, Piotr Koniusz et al.

Importing hgzoo imports every family listed in ``hgzoo._families`` and so
registers every public layer and model with Keras serialization: a saved
``.keras`` file loads after only ``import hgzoo``.

Example:

>>> import hgzoo
>>> hgzoo.list_models(task="deblur", pretrained=True)
['dmphn_1_2_4_8_gopro', 'dmphn_1_2_4_gopro', 'dmphn_1_2_synthetic', 'stack_mpn_4_gopro']
"""

import importlib

from hgzoo._families import FAMILY_NAMES
from hgzoo.version import __version__

_CORE_MODULES = ("export", "layers", "metrics", "tuning", "weights")
_REGISTRY_FUNCTIONS = ("create_model", "get_model_class", "list_models", "model_classes")

__all__ = sorted(("__version__", *_CORE_MODULES, *FAMILY_NAMES, *_REGISTRY_FUNCTIONS))


def _import_public_api():
    for name in (*_CORE_MODULES, *FAMILY_NAMES):
        globals()[name] = importlib.import_module(f"hgzoo.{name}")
    registry = importlib.import_module("hgzoo.registry")
    for name in _REGISTRY_FUNCTIONS:
        globals()[name] = getattr(registry, name)


def __getattr__(name):
    # Reached only while the imports below are deferred (PEP 562): the first public name used loads them.
    if name in __all__:
        _import_public_api()
        return globals()[name]
    raise AttributeError(f"module 'hgzoo' has no attribute {name!r}")


# The `hgzoo` console script (hgzoo_launcher.py) runs this file with _defer_imports set, so that
# `hgzoo --help` and `hgzoo list` never import TensorFlow; any other `import hgzoo` is eager.
if not globals().get("_defer_imports"):
    _import_public_api()
