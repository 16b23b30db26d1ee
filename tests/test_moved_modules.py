"""Modules moved for the family template keep their old import path for one release, with a warning."""

import sys
import warnings

import pytest

import hgzoo
from hgzoo._moved import MOVED


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_path_warns_and_gives_the_moved_module(old, monkeypatch):
    new = MOVED[old]
    __import__(new)
    monkeypatch.delitem(sys.modules, old, raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        __import__(old)
    assert sys.modules[old] is sys.modules[new]
    [warning] = [w for w in caught if issubclass(w.category, DeprecationWarning) and old in str(w.message)]
    assert new in str(warning.message)
    assert warning.filename == __file__  # points at the importing line, not at hgzoo's internals


def test_image_classes_stays_public_in_fewshot():
    from hgzoo.data.image_classes import ImageClasses

    assert hgzoo.fewshot.ImageClasses is ImageClasses
