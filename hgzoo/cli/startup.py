"""Importing hgzoo's models for a command, without TensorFlow's start-up lines on the terminal.

Example:

>>> from hgzoo.cli.startup import import_models
>>> import_models()  # a no-op once hgzoo is imported
"""

import os


def import_models():
    """Import every hgzoo family (and so TensorFlow) with TensorFlow's C++ start-up lines hidden.

    Those lines are printed by C++ before any Python logging setting applies,
    so stderr is pointed at /dev/null for the import only; errors still raise.
    Under the ``hgzoo`` console script (``hgzoo_launcher.py``) this is where
    TensorFlow is first imported; elsewhere ``import hgzoo`` did it already.
    """
    import hgzoo

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            hgzoo._import_public_api()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
