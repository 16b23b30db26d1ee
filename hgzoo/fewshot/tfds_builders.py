"""Deprecated alias: moved to :mod:`hgzoo.fewshot.data.tfds_builders` (removed in the next release)."""

from hgzoo._moved import alias

alias(__name__)
