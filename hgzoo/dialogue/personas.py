"""User-Agent personas: the 12 zodiac × 16 MBTI library and user-defined personas from JSON."""

import dataclasses
import json
import os

from hgzoo.dialogue.data.packaged import packaged_json
from hgzoo.errors import InvalidConfigError

_TRAITS = packaged_json("persona_traits.json")
ZODIAC_TRAITS = dict(_TRAITS["zodiac"])
MBTI_TRAITS = dict(_TRAITS["mbti"])


@dataclasses.dataclass(frozen=True)
class Persona:
    """Who the User Agent plays: an id, optional zodiac sign and MBTI type, and a description.

    >>> p = persona("leo-INTJ")
    >>> p.zodiac, p.mbti
    ('leo', 'INTJ')
    """

    id: str
    description: str
    zodiac: str | None = None
    mbti: str | None = None
    name: str | None = None

    def to_json(self):
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


FIELDS = tuple(f.name for f in dataclasses.fields(Persona))


def _composed(zodiac, mbti):
    return Persona(f"{zodiac}-{mbti}",
                   f"Someone born under {zodiac.capitalize()} ({ZODIAC_TRAITS[zodiac]}) with the {mbti} personality type "
                   f"({MBTI_TRAITS[mbti]}).", zodiac=zodiac, mbti=mbti)


def persona_library():
    """All 192 zodiac × MBTI personas, each described by its sign's and type's traits (hgzoo's own texts)."""
    return [_composed(z, m) for z in ZODIAC_TRAITS for m in MBTI_TRAITS]


def persona(persona_id):
    """One library persona by id, ``"<zodiac>-<MBTI>"`` (e.g. ``"pisces-ENFP"``)."""
    zodiac, _, mbti = str(persona_id).partition("-")
    if zodiac.lower() not in ZODIAC_TRAITS or mbti.upper() not in MBTI_TRAITS:
        raise InvalidConfigError(f"unknown persona {persona_id!r}: use <zodiac>-<MBTI>, zodiac one of "
                                 f"{sorted(ZODIAC_TRAITS)}, MBTI one of {sorted(MBTI_TRAITS)}")
    return _composed(zodiac.lower(), mbti.upper())


def read_personas(path):
    """User-defined personas from a JSON file: a list of objects with ``id`` and ``description``
    (and optional ``name``, ``zodiac``, ``mbti``). Unknown fields are refused, by name, so a
    misspelt field is never silently dropped.

    >>> import json, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "p.json")
    >>> _ = open(path, "w").write(json.dumps([{"id": "ann", "description": "a retired nurse"}]))
    >>> read_personas(path)[0].description
    'a retired nurse'
    """
    try:
        with open(path, encoding="utf-8") as f:
            items = json.load(f)
    except (OSError, ValueError) as e:
        raise InvalidConfigError(f"cannot read persona file {path}: {e}") from None
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise InvalidConfigError(f"{path}: a persona file holds a non-empty JSON list of persona objects")
    personas, seen = [], set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidConfigError(f"{path}: persona {i} is {type(item).__name__}, not an object")
        unknown = sorted(set(item) - set(FIELDS))
        if unknown:
            raise InvalidConfigError(f"{path}: persona {i} has unknown field(s) {unknown}; allowed: {list(FIELDS)}")
        missing = [k for k in ("id", "description") if not str(item.get(k) or "").strip()]
        if missing:
            raise InvalidConfigError(f"{path}: persona {i} lacks {missing}")
        if item["id"] in seen:
            raise InvalidConfigError(f"{path}: persona id {item['id']!r} appears twice")
        seen.add(item["id"])
        personas.append(Persona(**{k: str(v) for k, v in item.items()}))
    return personas


def resolve_personas(spec):
    """Personas from a CLI-style spec: ``"all"`` (the 192), ``"none"`` (one persona-less user),
    a JSON file, or comma-separated library ids."""
    spec = os.fspath(spec)
    if spec == "all":
        return persona_library()
    if spec == "none":
        return [NO_PERSONA]
    if spec.endswith(".json") or os.path.isfile(spec):
        return read_personas(spec)
    return [persona(p.strip()) for p in spec.split(",") if p.strip()]


#: The ablation's user without a persona: an ordinary person, no traits.
NO_PERSONA = Persona("none", "An ordinary person.")
