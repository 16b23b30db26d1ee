"""Deprecated alias: moved to :mod:`hgzoo.deblur.data.deblur_pairs` (removed in the next release)."""

from hgzoo._moved import alias

alias(__name__)
