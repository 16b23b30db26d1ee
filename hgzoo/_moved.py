"""Modules that moved, and the aliases that keep their old import paths working for one release.

Each old path is a two-line module calling :func:`alias`: importing it warns
(DeprecationWarning, pointing at the importing line) and hands back the
module at its new path, so old imports get the very same objects. The
aliases cross the architecture's arrows on purpose (``hgzoo.data`` naming a
family) and import by name only; this table is the one list of them, to be
deleted together in the next release.

Example:

>>> import warnings
>>> with warnings.catch_warnings(record=True):
...     warnings.simplefilter("always")
...     from hgzoo.data import events as old
>>> from hgzoo.deblur.data import events
>>> old is events
True
"""

import importlib
import sys
import warnings

MOVED = {
    "hgzoo.data.camera_shake": "hgzoo.deblur.data.camera_shake",
    "hgzoo.data.deblur_pairs": "hgzoo.deblur.data.deblur_pairs",
    "hgzoo.data.events": "hgzoo.deblur.data.events",
    "hgzoo.data.tfds_gopro": "hgzoo.deblur.data.tfds_gopro",
    "hgzoo.data.tfds_gopro_events": "hgzoo.deblur.data.tfds_gopro_events",
    "hgzoo.fewshot.image_classes": "hgzoo.data.image_classes",
    "hgzoo.fewshot.tfds_builders": "hgzoo.fewshot.data.tfds_builders",
}


def alias(old):
    """Make module ``old`` (the caller, being imported) the module it moved to, with a warning."""
    new = MOVED[old]
    # stacklevel 3: past this function and the alias module, to the line that imported the old path.
    warnings.warn(f"{old} moved to {new}; import it from there ({old} is removed in the next release)",
                  DeprecationWarning, stacklevel=3)
    sys.modules[old] = importlib.import_module(new)
