"""Deprecated alias: moved to :mod:`hgzoo.data.image_classes` (removed in the next release)."""

from hgzoo._moved import alias

alias(__name__)
