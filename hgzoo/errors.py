"""Exceptions raised by hgzoo.

Every error a user can trigger by passing something wrong (a preset id, a
file, an image) is one of these, so it can be caught precisely and its
message says what was wrong and how to fix it.
"""

import pickle


class HgzooError(Exception):
    """Base class of hgzoo's own errors."""


class UnknownPresetError(HgzooError, KeyError):
    """A preset id or model name that no manifest or registry entry knows."""

    def __str__(self):
        # KeyError quotes its message; show it as written.
        return str(self.args[0]) if self.args else ""


class WeightsUnavailableError(HgzooError, OSError):
    """Weights for a preset could not be found locally nor downloaded."""


class WeightsIntegrityError(HgzooError, OSError):
    """A weights file does not have the sha256 its manifest pins."""


class WeightsMismatchError(HgzooError, ValueError):
    """A weights file that is not a Keras ``.weights.h5``, or whose weights (count, names,
    shapes) are not the model's."""


class InvalidConfigError(HgzooError, ValueError):
    """A saved model config (e.g. a ``.keras`` file's) with a key that loading must not act on."""


class UnsafeCheckpointError(HgzooError, pickle.UnpicklingError):
    """A checkpoint pickle refers to something other than plain tensors."""


class InvalidImageError(HgzooError, ValueError):
    """An image file or array that cannot be used as model input."""


class OutputPathError(HgzooError, OSError):
    """An output hgzoo cannot or will not write: it would replace an input or an existing file (without
    overwrite), two inputs map to it, or its folder is a file or not writable."""


class InvalidEpisodeError(HgzooError, ValueError):
    """A few-shot episode whose shapes or labels do not fit together."""


class InvalidTextDataError(HgzooError, ValueError):
    """A text dataset file (TSV) that is malformed or has labels the model does not know."""


class BackboneUnavailableError(HgzooError, OSError):
    """A text backbone that is neither a local folder nor cached, on a machine that cannot download it."""


class InvalidEventsError(HgzooError, ValueError):
    """An event stream or event file whose arrays are missing, inconsistent or out of range."""


class MissingExtraError(HgzooError, ImportError):
    """A feature needs an optional dependency that is not installed; the message names the extra."""


class ResumeError(HgzooError, OSError):
    """A training run's resume checkpoint cannot be loaded: every copy is unreadable or another model's."""


class ExportError(HgzooError, RuntimeError):
    """A model export that failed or did not reload; the version it was to replace is left as it was."""
