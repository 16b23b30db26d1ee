"""Chain-of-Attitude: per-turn attitude labels by the LLM, parsed strictly or by a counted fallback."""

import collections
import re

from hgzoo.dialogue.backends import GenerationParams
from hgzoo.dialogue.taxonomy import ATTITUDE_DESCRIPTIONS, ATTITUDE_STATES

_CONTENT_FREE = [{"speaker": "persuader", "text": "N/A"}, {"speaker": "user", "text": "N/A"}]
_STRICT = re.compile(r"^\s*STATE\s*:\s*([A-Za-z-]+)\s*\.?\s*$")


class ChainOfAttitude:
    """Labels the User Agent's attitude after each of its turns with one of the 16 states.

    The LLM is asked to answer exactly ``STATE: <name>``. A reply in that
    format is a *strict* label; otherwise the *fallback* parser takes the
    first state name found anywhere in the reply; a reply naming none keeps
    the previous state (*unparsed*; ``"indifferent"`` before the first).
    Each outcome is counted in :attr:`counts`, so a corpus reports how often
    its labels came from the format the model was asked for. A backend that
    can score given replies (``score_options``, as :class:`TransformersBackend`)
    is instead constrained to the 16 ``STATE: <name>`` lines outright, the
    likeliest one taken (counted as *constrained*; ``constrained=False``
    turns this off): SmolLM2-135M, asked to generate, mostly named several
    states or the first of the list.

    Paper says: 16 attitude states with first-order Markov transitions.
    Chose: hgzoo's own 16 states (``hgzoo/dialogue/data/attitude_states.json``,
    each with a description), since the paper's definitions were not found;
    labels from the same LLM backend as the agents, greedy by default.

    >>> from hgzoo.dialogue import ScriptedBackend
    >>> tracker = ChainOfAttitude(ScriptedBackend(["STATE: curious", "I'd say they're skeptical."]))
    >>> tracker.label([{"speaker": "user", "text": "What does the charity do?"}])
    'curious'
    >>> tracker.label([{"speaker": "user", "text": "Prove it."}], previous="curious")
    'skeptical'
    >>> dict(tracker.counts)
    {'strict': 1, 'fallback': 1}
    """

    def __init__(self, backend, params=GenerationParams(max_new_tokens=12, temperature=0.0), states=ATTITUDE_STATES,
                 initial="indifferent", constrained=True):
        self.backend, self.params, self.constrained = backend, params, bool(constrained)
        self._prior = None
        self.states = tuple(states)
        if initial not in self.states:
            raise ValueError(f"initial state {initial!r} is not one of {self.states}")
        self.initial = initial
        self.counts = collections.Counter()
        self._fallback = re.compile(r"\b(" + "|".join(sorted(map(re.escape, self.states), key=len, reverse=True))
                                    + r")\b", re.IGNORECASE)

    def prompt(self, turns):
        listing = "\n".join(f"- {s}: {ATTITUDE_DESCRIPTIONS.get(s, '')}" for s in self.states)
        transcript = "\n".join(f"{t['speaker'].upper()}: {t['text']}" for t in turns[-4:])
        return [{"role": "system", "content": "You label the USER's attitude towards donating. Possible states:\n"
                 f"{listing}\nAnswer with one line exactly: STATE: <state>"},
                {"role": "user", "content": f"{transcript}\n\nWhat is the USER's attitude now?"}]

    def parse(self, reply, previous=None):
        """``(state, how)`` from an LLM reply; ``how`` is ``strict``, ``fallback`` or ``unparsed``."""
        match = _STRICT.match(reply or "")
        if match and match.group(1).lower() in self.states:
            return match.group(1).lower(), "strict"
        match = self._fallback.search(reply or "")
        if match:
            return match.group(1).lower(), "fallback"
        return previous or self.initial, "unparsed"

    def label(self, turns, previous=None, seed=None):
        """The state of the user after the last of ``turns`` (dicts with ``speaker`` and ``text``)."""
        if self.constrained and hasattr(self.backend, "score_options"):
            options = [f"STATE: {s}" for s in self.states]
            if self._prior is None:
                self._prior = self.backend.score_options(self.prompt(_CONTENT_FREE), options)
            scores = self.backend.score_options(self.prompt(turns), options)
            self.counts["constrained"] += 1
            return self.states[max(range(len(options)), key=lambda i: scores[i] - self._prior[i])]
        state, how = self.parse(self.backend.chat(self.prompt(turns), self.params.replace(seed=seed)), previous)
        self.counts[how] += 1
        return state
