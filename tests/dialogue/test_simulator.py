"""The simulator: record contents, the refine loop, kill and resume, corrupt lines, the summary."""

import json

import pytest

from hgzoo.dialogue import (NO_PERSONA, STRATEGIES, Scenario, ScriptedBackend, Simulator, persona, read_corpus)
from hgzoo.errors import InvalidConfigError, ResumeError

PERSONAS = [persona("leo-INTJ"), persona("pisces-ENFP"), persona("virgo-ISTJ")]


def reply(messages, params):
    """A deterministic 'LLM': answers depend only on the prompt and the seed, as a seeded sampler's would."""
    system = messages[0]["content"]
    if system.startswith("You label"):
        return "STATE: agreeing" if "yes" in messages[-1]["content"].split("USER: ")[-1] else "maybe curious"
    if system.startswith("You evaluate"):
        return "SCORE: 5\nADVICE: ask for a concrete amount"
    if system.startswith("You improve"):
        return f"Ask for a concrete amount (v{params.seed % 7})."
    if system.startswith("You are this person"):
        return "yes, I will give $1" if params.seed % 3 == 1 and params.seed % 5 == 0 else f"why? ({params.seed % 11})"
    return f"Please help the children ({params.seed % 13})."


class Killed(Exception):
    pass


def killing(after_calls):
    """The scripted LLM, dying after a number of calls, as a killed process would mid-dialogue."""
    calls = {"n": 0}

    def answer(messages, params):
        calls["n"] += 1
        if calls["n"] > after_calls:
            raise Killed
        return reply(messages, params)

    return answer


def simulator(fn=reply, **kwargs):
    return Simulator(ScriptedBackend(fn), PERSONAS, Scenario.default(), **kwargs)


def test_records_carry_persona_strategies_attitudes_and_outcome(tmp_path):
    path = tmp_path / "c.jsonl"
    summary = simulator().simulate(path, 4, progress=False)
    records = read_corpus(path).records
    assert [r["index"] for r in records] == [0, 1, 2, 3]
    assert {r["persona"]["id"] for r in records} == {p.id for p in PERSONAS}
    for r in records:
        assert r["turns"][0]["speaker"] == "persuader" and r["turns"][0]["strategy"] in STRATEGIES
        assert all(t["attitude"] for t in r["turns"] if t["speaker"] == "user")
        assert r["outcome"] in ("persuaded", "not_persuaded") and len(r["turns"]) <= 12
    assert summary["dialogues"] == 4 and summary["persona_coverage"] == 1.0
    assert summary["attitude_labels"]["fallback"] > 0  # "maybe curious" is no strict label, and is counted
    assert json.loads((tmp_path / "c.jsonl.summary.json").read_text())["dialogues"] == 4


def _content(path):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in read_corpus(path).records]


def test_killed_run_resumes_without_loss_or_duplicates(tmp_path):
    reference, path = tmp_path / "ref.jsonl", tmp_path / "c.jsonl"
    simulator().simulate(reference, 4, progress=False)
    with pytest.raises(Killed):
        simulator(killing(30)).simulate(path, 4, progress=False)
    partial = read_corpus(path).records
    assert 0 < len(partial) < 4
    summary = simulator().simulate(path, 4, progress=False)
    assert summary["resumed_from"] == len(partial) and summary["generated_now"] == 4 - len(partial)
    assert _content(path) == _content(reference)  # as if never interrupted
    assert simulator().simulate(path, 4, progress=False)["generated_now"] == 0


def test_half_written_tail_is_cut_and_regenerated(tmp_path):
    path = tmp_path / "c.jsonl"
    simulator().simulate(path, 2, progress=False)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + lines[1][:40])  # killed in the middle of writing record 1
    summary = simulator().simulate(path, 2, progress=False)
    assert summary["half_written_tail_removed"] and summary["generated_now"] == 1
    assert [r["index"] for r in read_corpus(path).records] == [0, 1]


def test_corrupt_line_is_refused_or_counted_and_skipped(tmp_path):
    path = tmp_path / "c.jsonl"
    simulator().simulate(path, 3, progress=False)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + "{not json\n" + lines[2])
    with pytest.raises(ResumeError, match="line 2"):
        simulator().simulate(path, 3, progress=False)
    summary = simulator().simulate(path, 3, progress=False, on_corrupt="skip")
    assert summary["corrupt_lines_skipped"] == [2] and summary["generated_now"] == 1
    assert sorted(r["index"] for r in read_corpus(path, on_corrupt="skip").records) == [0, 1, 2]
    # The corrupt line is gone from the file, so a default (refusing) read sees every dialogue once.
    assert sorted(r["index"] for r in read_corpus(path).records) == [0, 1, 2]


def test_resuming_with_other_settings_is_refused(tmp_path):
    path = tmp_path / "c.jsonl"
    simulator().simulate(path, 1, progress=False)
    with pytest.raises(ResumeError, match="other settings"):
        simulator(seed=1).simulate(path, 2, progress=False)


def test_run_id_covers_persona_descriptions_and_instructions():
    base = simulator().run_id()
    assert simulator(instructions="Be brief.").run_id() != base
    edited = [PERSONAS[0].__class__(PERSONAS[0].id, "someone else entirely"), *PERSONAS[1:]]
    assert Simulator(ScriptedBackend(reply), edited, Scenario.default()).run_id() != base


def test_optimizer_parses_are_summed_over_a_resumed_corpus(tmp_path):
    path = tmp_path / "c.jsonl"
    simulator(refine=True).simulate(path, 2, progress=False)
    summary = simulator(refine=True).simulate(path, 3, progress=False)
    assert summary["optimizer_parses"]["strict"] == 3


def test_refine_loop_rewrites_instructions_and_resumes_them(tmp_path):
    path = tmp_path / "c.jsonl"
    simulator(refine=True).simulate(path, 2, progress=False)
    first, second = read_corpus(path).records
    assert first["evaluation"] == {"score": 5, "advice": "ask for a concrete amount"}
    assert first["next_instructions"].startswith("Ask for a concrete amount")
    assert second["instructions"] == first["next_instructions"]
    resumed = simulator(refine=True)
    resumed.simulate(path, 3, progress=False)
    assert read_corpus(path).records[2]["instructions"] == second["next_instructions"]


def test_without_personas_and_bad_scenarios(tmp_path):
    sim = Simulator(ScriptedBackend(reply), [NO_PERSONA])
    assert sim.simulate(tmp_path / "c.jsonl", 2, progress=False)["persona_coverage"] == 1.0
    (tmp_path / "s.json").write_text(json.dumps({"name": "x", "goal": "g", "persuader_role": "r",
                                                 "persuadee_context": "c", "mood": "sunny"}))
    with pytest.raises(InvalidConfigError, match=r"unknown scenario field\(s\) \['mood'\]"):
        Scenario.from_file(tmp_path / "s.json")
    with pytest.raises(InvalidConfigError, match="max_turns must be a positive integer"):
        Scenario("x", "g", "r", "c", max_turns=0)
