"""Deprecated alias: moved to :mod:`hgzoo.deblur.data.camera_shake` (removed in the next release)."""

from hgzoo._moved import alias

alias(__name__)
