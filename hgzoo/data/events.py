"""Deprecated alias: moved to :mod:`hgzoo.deblur.data.events` (removed in the next release)."""

from hgzoo._moved import alias

alias(__name__)
