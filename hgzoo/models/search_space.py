"""Declarative hyperparameter spaces, keyed by constructor argument names.

A model class lists what may be tuned next to its constructor, without
importing keras-tuner::

    class DMPHN(DeblurModel):
        search_space = {"levels": Choice([[1], [1, 2], [1, 2, 4]])}

:class:`hgzoo.tuning.HyperModel` maps each entry onto ``hp.Int``/``hp.Float``/
``hp.Choice`` under the same name and calls the normal constructor, so the
best values feed straight back into it. Choices may be lists or tuples (e.g.
DMPHN levels): keras-tuner sees them as JSON strings and hgzoo decodes them.

Example:

>>> from hgzoo.models.search_space import Choice
>>> Choice([[1], [1, 2]]).encoded()
['[1]', '[1, 2]']
"""

import dataclasses
import json


@dataclasses.dataclass(frozen=True)
class Int:
    """An integer range [min_value, max_value]."""

    min_value: int
    max_value: int
    step: int = 1
    sampling: str = "linear"


@dataclasses.dataclass(frozen=True)
class Float:
    """A float range [min_value, max_value]; ``sampling="log"`` for rates."""

    min_value: float
    max_value: float
    sampling: str = "linear"


@dataclasses.dataclass(frozen=True)
class Choice:
    """One of ``values`` (scalars, or JSON-able lists such as DMPHN levels)."""

    values: tuple

    def __init__(self, values):
        object.__setattr__(self, "values", tuple(tuple(v) if isinstance(v, list) else v for v in values))

    @property
    def structured(self):
        return any(isinstance(v, tuple) for v in self.values)

    def encoded(self):
        return [json.dumps(list(v)) if isinstance(v, tuple) else v for v in self.values]

    def decode(self, value):
        return tuple(json.loads(value)) if self.structured else value
