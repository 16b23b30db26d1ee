"""Deprecated alias: moved to :mod:`hgzoo.deblur.data.tfds_gopro` (removed in the next release)."""

from hgzoo._moved import alias

alias(__name__)
