"""hgzoo's version, read by setup.cfg and written into exported metadata."""

__version__ = "0.1.0"
