"""The MADS simulator: personas × a scenario → a resumable JSONL corpus of labelled persuasion dialogues."""

import collections
import dataclasses
import hashlib
import json
import os
import pathlib
import random
import time

from hgzoo.dialogue.agents import DEFAULT_INSTRUCTIONS, DialogAgent, OptimizationAgent, UserAgent
from hgzoo.dialogue.attitude import ChainOfAttitude
from hgzoo.dialogue.corpus import append_record, read_corpus, rewrite_corpus
from hgzoo.dialogue.data.packaged import packaged_json
from hgzoo.dialogue.diversity import diversity_report
from hgzoo.dialogue.taxonomy import ATTITUDE_STATES, PERSUADED_STATES, STRATEGIES
from hgzoo.errors import InvalidConfigError, ResumeError
from hgzoo.files import replace_atomically


@dataclasses.dataclass(frozen=True)
class Scenario:
    """What the persuasion is about. ``max_turns``: persuader-user exchanges at most.

    >>> Scenario.default().name
    'save-the-children'
    """

    name: str
    goal: str
    persuader_role: str
    persuadee_context: str
    max_turns: int = 6

    def __post_init__(self):
        if not isinstance(self.max_turns, int) or self.max_turns < 1:
            raise InvalidConfigError(f"scenario {self.name!r}: max_turns must be a positive integer, "
                                     f"got {self.max_turns!r}")

    @classmethod
    def default(cls):
        """PersuasionForGood's task: donate part of a task payment to Save the Children."""
        return cls(**packaged_json("scenario_p4g.json"))

    @classmethod
    def from_file(cls, path):
        """A scenario JSON file; unknown or missing fields are refused by name."""
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            raise InvalidConfigError(f"cannot read scenario file {path}: {e}") from None
        fields = [f.name for f in dataclasses.fields(cls)]
        if not isinstance(data, dict):
            raise InvalidConfigError(f"{path}: a scenario is a JSON object with fields {fields}")
        unknown = sorted(set(data) - set(fields))
        missing = [f for f in fields[:4] if not str(data.get(f) or "").strip()]
        if unknown or missing:
            raise InvalidConfigError(f"{path}: unknown scenario field(s) {unknown}, missing {missing}; "
                                     f"allowed: {fields}")
        try:
            return cls(**data)
        except InvalidConfigError as e:
            raise InvalidConfigError(f"{path}: {e}") from None


def _progbar(n):
    import keras

    return keras.utils.Progbar(n, unit_name="dialogue")


class Simulator:
    """Generates persuasion dialogues between a Dialog Agent and persona-playing User Agents.

    Each dialogue: the persuader speaks with a strategy, the user replies, the
    Chain-of-Attitude labels the user's state; it ends when the user reaches a
    persuaded state (``agreeing``, ``enthusiastic``: outcome ``persuaded``)
    or after ``scenario.max_turns`` exchanges (``not_persuaded``).
    Dialogue ``i`` uses persona ``i mod len(personas)`` of a seeded shuffle
    and seeds derived from ``(seed, i)``, so a resumed run generates what an
    uninterrupted one would (with a deterministic backend).

    With ``refine=True`` the Optimization Agent evaluates every finished
    dialogue and, when it scores below its threshold, rewrites the Dialog
    Agent's instructions for the next ones (generate → evaluate → refine);
    each record keeps the instructions it was generated with and the ones
    after it, which is how a resumed run picks the loop up again.

    Args:
        backend: the LLM for every agent, or a dict ``{"user", "dialog",
            "attitude", "optimizer"}`` of backends.
        personas: :class:`~hgzoo.dialogue.Persona` list (``[NO_PERSONA]`` for the ablation).
        scenario: a :class:`Scenario` (default: PersuasionForGood's).
        params: optional per-agent :class:`~hgzoo.dialogue.backends.GenerationParams`, same keys.

    >>> import tempfile, os
    >>> from hgzoo.dialogue import ScriptedBackend, persona
    >>> sim = Simulator(ScriptedBackend(["Hello!", "Sure, I will donate.", "STATE: agreeing"]), [persona("leo-INTJ")])
    >>> summary = sim.simulate(os.path.join(tempfile.mkdtemp(), "c.jsonl"), 2, progress=False)
    >>> summary["dialogues"], summary["outcome_rate"]
    (2, 1.0)
    """

    AGENTS = ("user", "dialog", "attitude", "optimizer")

    def __init__(self, backend, personas, scenario=None, refine=False, strategies=STRATEGIES, params=None, seed=0,
                 instructions=DEFAULT_INSTRUCTIONS):
        backends = backend if isinstance(backend, dict) else dict.fromkeys(self.AGENTS, backend)
        unknown = sorted(set(backends) - set(self.AGENTS)) + sorted(set(params or {}) - set(self.AGENTS))
        if unknown:
            raise ValueError(f"unknown agent(s) {unknown}: use {self.AGENTS}")
        personas = list(personas)
        if not personas:
            raise ValueError("no personas to simulate")
        params = params or {}
        self.backends = backends
        self.personas = personas
        self.scenario = scenario or Scenario.default()
        self.refine, self.seed = bool(refine), int(seed)
        self.params = params
        self.instructions = instructions  # the starting ones; refining changes self.dialog.instructions
        self.dialog = DialogAgent(self.scenario, backends["dialog"], strategies=strategies, instructions=instructions,
                                  **_params(params, "dialog"))
        self.tracker = ChainOfAttitude(backends["attitude"], **_params(params, "attitude"))
        self.optimizer = OptimizationAgent(backends["optimizer"], **_params(params, "optimizer")) if refine else None
        order = list(range(len(personas)))
        random.Random(self.seed).shuffle(order)
        self._order = order

    def run_id(self):
        """A fingerprint of what shapes the corpus; resuming with different settings is refused."""
        key = {"scenario": dataclasses.asdict(self.scenario), "personas": [p.to_json() for p in self.personas],
               "instructions": self.instructions,
               "refine": self.refine, "seed": self.seed, "strategies": list(self.dialog.strategies),
               "backends": {k: b.describe() for k, b in sorted(self.backends.items())},
               "params": {k: dataclasses.asdict(v) for k, v in sorted(self.params.items())}}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]

    def persona_for(self, index):
        return self.personas[self._order[index % len(self.personas)]]

    def dialogue(self, index):
        """One dialogue as a corpus record (not written)."""
        persona = self.persona_for(index)
        user = UserAgent(persona, self.scenario, self.backends["user"], **_params(self.params, "user"))
        rng = random.Random(f"{self.seed}-{index}")
        base = (self.seed * 1_000_003 + index) * 1000
        turns, strategy, state = [], None, None
        start, tokens, labels = time.perf_counter(), self._tokens(), collections.Counter(self.tracker.counts)
        for turn in range(int(self.scenario.max_turns)):
            text, strategy = self.dialog.speak(turns, rng, strategy, seed=base + 3 * turn)
            turns.append({"speaker": "persuader", "text": text, "strategy": strategy})
            reply = user.reply(turns, seed=base + 3 * turn + 1)
            turns.append({"speaker": "user", "text": reply})
            state = self.tracker.label(turns, state, seed=base + 3 * turn + 2)
            turns[-1]["attitude"] = state
            if state in PERSUADED_STATES:
                break
        record = {"index": index, "run": self.run_id(), "persona": persona.to_json(),
                  "scenario": self.scenario.name, "turns": turns,
                  "outcome": "persuaded" if state in PERSUADED_STATES else "not_persuaded",
                  "instructions": self.dialog.instructions}
        if self.optimizer is not None:
            parses = collections.Counter(self.optimizer.counts)
            evaluation = self.optimizer.evaluate(turns, seed=base + 998)
            record["evaluation"] = evaluation
            if self.optimizer.needs_refining(evaluation):
                self.dialog.instructions = self.optimizer.refine(self.dialog.instructions, evaluation, seed=base + 999)
            record["next_instructions"] = self.dialog.instructions
            record["optimizer_parses"] = dict(self.optimizer.counts - parses)
        record["attitude_labels"] = dict(self.tracker.counts - labels)
        record["seconds"] = round(time.perf_counter() - start, 3)
        record["tokens"] = self._tokens() - tokens
        return record

    def _tokens(self):
        return sum(b.tokens_generated for b in {id(b): b for b in self.backends.values()}.values())

    def simulate(self, path, n, progress=True, on_corrupt="refuse"):
        """Make ``path`` hold dialogues ``0 .. n-1``, generating only the missing ones; returns the summary.

        Appends to ``path`` (created when missing); a half-written last line
        from a killed run is cut off first. Writes ``<path>.summary.json``
        (atomically) with the diversity measures and the parse counts.
        """
        if int(n) < 1:
            raise ValueError(f"n must be positive, got {n}")
        path = os.fspath(path)
        if os.path.dirname(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
        found = read_corpus(path, on_corrupt=on_corrupt, repair=True)
        run = self.run_id()
        other = [r["index"] for r in found.records if r["run"] != run]
        if other:
            raise ResumeError(f"{path} holds dialogues {other[:5]} from a run with other settings (scenario, "
                              "personas, refine, seed, strategies, backend or generation parameters): resume "
                              "with the same settings or write a new corpus")
        if found.corrupt_lines:  # drop them for good, or every later default (refusing) read stops on them
            rewrite_corpus(path, found.records)
            print(f"{path}: dropped {len(found.corrupt_lines)} corrupt line(s) {found.corrupt_lines}; "
                  "their dialogues are generated again")
        done = {r["index"] for r in found.records}
        if self.refine and found.records:
            last = max(found.records, key=lambda r: r["index"])
            self.dialog.instructions = last.get("next_instructions", self.dialog.instructions)
        todo = [i for i in range(int(n)) if i not in done]
        bar = _progbar(len(todo)) if progress and todo else None
        records = list(found.records)
        for k, index in enumerate(todo):
            record = self.dialogue(index)
            append_record(path, record)
            records.append(record)
            if bar is not None:
                bar.update(k + 1)
        summary = self.summary([r for r in records if r["index"] < int(n)])
        summary.update({"corpus": path, "generated_now": len(todo), "resumed_from": len(done),
                        "corrupt_lines_skipped": found.corrupt_lines, "half_written_tail_removed": found.truncated_tail})
        replace_atomically(path + ".summary.json",
                           lambda tmp: pathlib.Path(tmp).write_text(json.dumps(summary, indent=1) + "\n"), suffix=".json")
        return summary

    def summary(self, records):
        """Diversity measures of ``records`` with this simulator's label-parse counts."""
        report = diversity_report(records, [p.id for p in self.personas], self.dialog.strategies, ATTITUDE_STATES)
        # From the records, so a resumed corpus reports the labels of every dialogue, not this session's.
        report["attitude_labels"] = dict(sum((collections.Counter(r.get("attitude_labels", {})) for r in records),
                                             collections.Counter()))
        if self.optimizer is not None:
            report["optimizer_parses"] = dict(sum((collections.Counter(r.get("optimizer_parses", {}))
                                                  for r in records), collections.Counter()))
        seconds = sum(r.get("seconds", 0.0) for r in records)
        tokens = sum(r.get("tokens", 0) for r in records)
        report["seconds_per_dialogue"] = seconds / len(records) if records else 0.0
        report["tokens_per_second"] = tokens / seconds if seconds else 0.0
        return report


def _params(params, agent):
    return {"params": params[agent]} if agent in params else {}
