"""Settings read from the environment at call time, never at import, and the optional dependencies.

| variable | meaning | default |
|---|---|---|
| ``HGZOO_HOME`` | cache root (downloaded and converted weights) | ``$XDG_CACHE_HOME/hgzoo`` or ``~/.cache/hgzoo`` |
| ``HGZOO_WEIGHTS_DIR`` | read-only mirror folders, ``os.pathsep``-separated | none |
| ``HGZOO_OFFLINE`` | ``1`` forbids every download | ``0`` |

Features that need a package outside the core install get it through
:func:`require`, which names the ``pip install "hgzoo[extra]"`` to run.
"""

import importlib
import os
from pathlib import Path

from hgzoo.errors import MissingExtraError


def home_dir():
    """The cache root, from ``HGZOO_HOME`` or the XDG cache folder."""
    if os.environ.get("HGZOO_HOME"):
        return Path(os.environ["HGZOO_HOME"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "hgzoo"


def mirror_dirs():
    """Local mirror folders listed in ``HGZOO_WEIGHTS_DIR``, in order."""
    value = os.environ.get("HGZOO_WEIGHTS_DIR", "")
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p.strip()]


def offline():
    """True when ``HGZOO_OFFLINE`` forbids downloads."""
    return os.environ.get("HGZOO_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def require(module, extra):
    """Import and return ``module``, or raise :class:`~hgzoo.errors.MissingExtraError` naming ``extra``.

    Example:

    >>> require("numpy", "core").__name__
    'numpy'
    >>> require("no_such_module", "tune")
    Traceback (most recent call last):
    ...
    hgzoo.errors.MissingExtraError: this needs no_such_module, ...: pip install "hgzoo[tune]"
    """
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingExtraError(f"this needs {module}, which did not import ({e}): "
                                f"pip install \"hgzoo[{extra}]\"") from e
