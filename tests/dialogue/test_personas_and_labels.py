"""Personas, strategies, attitude states, the Chain-of-Attitude parser and the diversity measures."""

import json

import numpy as np
import pytest

from hgzoo.dialogue import (ATTITUDE_STATES, STRATEGIES, ChainOfAttitude, OptimizationAgent, ScriptedBackend,
                            persona, persona_library, read_personas, resolve_personas, transition_matrix)
from hgzoo.dialogue.diversity import distinct_n, path_entropy, transition_entropy
from hgzoo.dialogue.taxonomy import ATTITUDE_DESCRIPTIONS
from hgzoo.errors import InvalidConfigError


def test_library_has_every_zodiac_mbti_pair_described():
    library = persona_library()
    assert len(library) == 192 == len({p.id for p in library})
    assert {p.zodiac for p in library} == {"aries", "taurus", "gemini", "cancer", "leo", "virgo", "libra", "scorpio",
                                           "sagittarius", "capricorn", "aquarius", "pisces"}
    assert len({p.mbti for p in library}) == 16
    assert all("(" in p.description for p in library)
    assert persona("Pisces-enfp").id == "pisces-ENFP"
    with pytest.raises(InvalidConfigError, match="unknown persona"):
        persona("ophiuchus-INTJ")


def test_label_sets():
    assert len(STRATEGIES) == 10 and "foot-in-the-door" in STRATEGIES
    assert len(ATTITUDE_STATES) == 16 and all(ATTITUDE_DESCRIPTIONS[s] for s in ATTITUDE_STATES)


def test_user_personas_refuse_unknown_fields(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"id": "ann", "name": "Ann", "description": "a retired nurse", "mbti": "ISFJ"}]))
    assert read_personas(good)[0].name == "Ann" and resolve_personas(str(good))[0].id == "ann"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"id": "bob", "description": "a student", "age": 20, "hobby": "chess"}]))
    with pytest.raises(InvalidConfigError, match=r"unknown field\(s\) \['age', 'hobby'\]"):
        read_personas(bad)
    (tmp_path / "dup.json").write_text(json.dumps([{"id": "a", "description": "x"}] * 2))
    with pytest.raises(InvalidConfigError, match="twice"):
        read_personas(tmp_path / "dup.json")
    (tmp_path / "broken.json").write_text("[{")
    with pytest.raises(InvalidConfigError, match="cannot read"):
        read_personas(tmp_path / "broken.json")


def test_attitude_parser_strict_fallback_and_unparsed_are_counted():
    tracker = ChainOfAttitude(ScriptedBackend(["STATE: hesitant", "They seem Suspicious to me", "no idea"]))
    turns = [{"speaker": "user", "text": "hmm"}]
    assert tracker.label(turns) == "hesitant"
    assert tracker.label(turns, "hesitant") == "suspicious"
    assert tracker.label(turns, "suspicious") == "suspicious"
    assert tracker.counts == {"strict": 1, "fallback": 1, "unparsed": 1}
    assert tracker.parse("STATE: happy")[1] == "unparsed"  # not a state: never invented


def test_optimizer_score_fallback():
    agent = OptimizationAgent(ScriptedBackend(["I would give it 6 out of 10.", "no number"]))
    assert agent.evaluate([{"speaker": "persuader", "text": "hi"}])["score"] == 6
    assert agent.evaluate([{"speaker": "persuader", "text": "hi"}])["score"] is None
    assert agent.counts == {"fallback": 1, "unparsed": 1}


def test_optimizer_empty_advice_is_empty_not_a_crash():
    agent = OptimizationAgent(ScriptedBackend(["SCORE: 4\nADVICE:\n"]))
    assert agent.evaluate([{"speaker": "persuader", "text": "hi"}]) == {"score": 4, "advice": ""}


def test_transition_matrix_and_entropies():
    paths = [["curious", "interested", "agreeing"], ["curious", "skeptical", "dismissive"],
             ["curious", "interested", "agreeing"]]
    matrix = transition_matrix(paths)
    i = ATTITUDE_STATES.index
    assert matrix[i("curious"), i("interested")] == pytest.approx(2 / 3)
    np.testing.assert_allclose(matrix.sum(axis=1)[[i("curious"), i("interested"), i("skeptical")]], 1.0)
    assert matrix[i("agreeing")].sum() == 0
    assert path_entropy(paths) == pytest.approx(-(2 / 3) * np.log2(2 / 3) - (1 / 3) * np.log2(1 / 3))
    # Only "curious" branches (2:1); it is left 3 of 6 transitions.
    assert transition_entropy(paths) == pytest.approx(0.5 * path_entropy(paths))
    assert path_entropy([["curious"]] * 4) == 0.0
    assert distinct_n(["a a a"], 1) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="outside"):
        transition_matrix([["ecstatic"]])


def test_constrained_labels_are_calibrated_against_a_content_free_transcript():
    class Scoring(ScriptedBackend):
        """Prefers the first listed state everywhere, and "curious" a little more when the user asks."""

        def score_options(self, messages, options):
            asks = "What is it for" in messages[-1]["content"]
            return [-0.01 * i + (0.5 if asks and o == "STATE: curious" else 0.0) for i, o in enumerate(options)]

    tracker = ChainOfAttitude(Scoring(["unused"]))
    assert tracker.label([{"speaker": "user", "text": "What is it for?"}]) == "curious"
    assert tracker.counts == {"constrained": 1}
    uncalibrated = Scoring(["STATE: dismissive"])
    assert ChainOfAttitude(uncalibrated, constrained=False).label([{"speaker": "user", "text": "no"}]) == "dismissive"
