"""Settings read from the environment at call time, never at import.

| variable | meaning | default |
|---|---|---|
| ``HGZOO_HOME`` | cache root (downloaded and converted weights) | ``$XDG_CACHE_HOME/hgzoo`` or ``~/.cache/hgzoo`` |
| ``HGZOO_WEIGHTS_DIR`` | read-only mirror folders, ``os.pathsep``-separated | none |
| ``HGZOO_OFFLINE`` | ``1`` forbids every download | ``0`` |
"""

import os
from pathlib import Path


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
