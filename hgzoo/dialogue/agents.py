"""The three MADS agents: the User Agent (a persona), the Dialog Agent (strategies), the Optimization Agent.

Paper says (papers.md §17): User Agents play zodiac × MBTI personas, the
Dialog Agent persuades with explicit strategies, and the Optimization Agent
evaluates dialogues and refines the Dialog Agent's prompt; the prompts are
in the paper, not released as code. Chose: short prompts of hgzoo's own
(below), one strategy per persuader turn drawn by a seeded generator (so
every persuader turn carries the strategy label the classifier learns),
and a rubric score 1-10 with advice, parsed from ``SCORE: n`` with a
counted fallback.
"""

import collections
import random
import re

from hgzoo.dialogue.backends import GenerationParams
from hgzoo.dialogue.taxonomy import STRATEGIES, STRATEGY_DESCRIPTIONS

DEFAULT_INSTRUCTIONS = ("Be friendly and brief. Listen to the person's concerns and answer them honestly. "
                        "Ask for a donation when the person seems open to it.")

DEFAULT_RUBRIC = ("1) the persuader stays polite and honest; 2) it answers the user's concerns; 3) it uses its "
                  "strategy clearly; 4) it adapts to the user's personality; 5) it asks for a concrete donation.")


def _transcript(turns):
    return "\n".join(f"{t['speaker'].upper()}: {t['text']}" for t in turns)


def _as_chat(turns, me):
    """The dialogue so far from one speaker's side: its own turns are the assistant's."""
    return [{"role": "assistant" if t["speaker"] == me else "user", "content": t["text"]} for t in turns]


class UserAgent:
    """Plays a persona being persuaded; replies in character.

    >>> from hgzoo.dialogue import ScriptedBackend, Scenario, persona
    >>> agent = UserAgent(persona("leo-ENTJ"), Scenario.default(), ScriptedBackend(["Why should I?"]))
    >>> agent.reply([{"speaker": "persuader", "text": "Would you donate?"}])
    'Why should I?'
    """

    def __init__(self, persona, scenario, backend, params=GenerationParams(max_new_tokens=48, temperature=0.9)):
        self.persona, self.scenario, self.backend, self.params = persona, scenario, backend, params

    def system_prompt(self):
        return (f"You are this person: {self.persona.description} Situation: {self.scenario.persuadee_context}. "
                "A stranger is talking to you. Stay in character, decide for yourself whether to agree, and "
                "reply in one or two short sentences.")

    def reply(self, turns, seed=None):
        messages = [{"role": "system", "content": self.system_prompt()}, *_as_chat(turns, "user")]
        return self.backend.chat(messages, self.params.replace(seed=seed))


class DialogAgent:
    """The persuader: one explicit strategy per turn, under instructions the Optimization Agent may rewrite.

    Args:
        scenario: the goal and the persuader's role.
        backend, params: the LLM and this agent's sampling settings.
        strategies: the strategy names to draw from (default: PersuasionForGood's ten).
        instructions: the part of the prompt the Optimization Agent rewrites.

    >>> from hgzoo.dialogue import ScriptedBackend, Scenario
    >>> agent = DialogAgent(Scenario.default(), ScriptedBackend(["Hi! Have you heard of Save the Children?"]))
    >>> text, strategy = agent.speak([], random.Random(0))
    >>> strategy in STRATEGIES
    True
    """

    def __init__(self, scenario, backend, params=GenerationParams(max_new_tokens=48, temperature=0.7),
                 strategies=STRATEGIES, instructions=DEFAULT_INSTRUCTIONS):
        unknown = [s for s in strategies if s not in STRATEGY_DESCRIPTIONS]
        if unknown or not strategies:
            raise ValueError(f"strategies must be a non-empty subset of {list(STRATEGIES)}; unknown: {unknown}")
        self.scenario, self.backend, self.params = scenario, backend, params
        self.strategies = tuple(strategies)
        self.instructions = str(instructions)

    def choose(self, rng, previous=None):
        """The next strategy: drawn uniformly by ``rng``, never the same twice in a row when there is a choice."""
        options = [s for s in self.strategies if s != previous] or list(self.strategies)
        return rng.choice(options)

    def speak(self, turns, rng, previous=None, seed=None):
        """``(utterance, strategy)`` for the next persuader turn."""
        strategy = self.choose(rng, previous)
        system = (f"You are {self.scenario.persuader_role}. Your goal: {self.scenario.goal}. {self.instructions} "
                  f"In this message use the strategy '{strategy}': {STRATEGY_DESCRIPTIONS[strategy]}. "
                  "Write one or two short sentences.")
        if not turns:
            system += " This is your first message: greet the person."
        messages = [{"role": "system", "content": system}, *_as_chat(turns, "persuader")]
        if not turns or messages[-1]["role"] == "assistant":
            messages.append({"role": "user", "content": "Hello."})
        return self.backend.chat(messages, self.params.replace(seed=seed)), strategy


_SCORE = re.compile(r"SCORE\s*:\s*(10|[0-9])\b", re.IGNORECASE)
_NUMBER = re.compile(r"\b(10|[0-9])\b")
_ADVICE = re.compile(r"ADVICE\s*:\s*(.+)", re.IGNORECASE | re.DOTALL)


class OptimizationAgent:
    """Scores a dialogue against a rubric and rewrites the Dialog Agent's instructions (generate → evaluate → refine).

    :meth:`evaluate` asks for ``SCORE: <0-10>`` and ``ADVICE: <text>``; a
    reply without ``SCORE:`` falls back to its first number (counted in
    :attr:`counts`), and one with no number scores ``None``. :meth:`refine`
    asks for new instructions; a reply under four words keeps the old ones
    with the advice appended, so the loop never loses the instructions.

    >>> from hgzoo.dialogue import ScriptedBackend
    >>> agent = OptimizationAgent(ScriptedBackend(["SCORE: 4\\nADVICE: answer the doubts", "Answer the doubts first."]))
    >>> agent.evaluate([{"speaker": "persuader", "text": "Donate!"}])
    {'score': 4, 'advice': 'answer the doubts'}
    >>> agent.refine("Be brief.", {"score": 4, "advice": "answer the doubts"})
    'Answer the doubts first.'
    """

    def __init__(self, backend, params=GenerationParams(max_new_tokens=64, temperature=0.3), rubric=DEFAULT_RUBRIC,
                 threshold=8):
        self.backend, self.params, self.rubric, self.threshold = backend, params, str(rubric), int(threshold)
        self.counts = collections.Counter()

    def evaluate(self, turns, seed=None):
        """``{"score": 0-10 or None, "advice": str}`` for a dialogue."""
        messages = [{"role": "system", "content": f"You evaluate a persuader's dialogue. Rubric: {self.rubric} "
                     "Answer in two lines: 'SCORE: <0-10>' and 'ADVICE: <one sentence for the persuader>'."},
                    {"role": "user", "content": _transcript(turns)}]
        reply = self.backend.chat(messages, self.params.replace(seed=seed))
        match = _SCORE.search(reply)
        how = "strict" if match else "fallback"
        match = match or _NUMBER.search(reply)
        if not match:
            how = "unparsed"
        self.counts[how] += 1
        advice = _ADVICE.search(reply)
        lines = (advice.group(1) if advice else reply).strip().splitlines()  # "ADVICE:" may be left empty
        return {"score": int(match.group(1)) if match else None, "advice": lines[0] if lines else ""}

    def needs_refining(self, evaluation):
        return evaluation["score"] is None or evaluation["score"] < self.threshold

    def refine(self, instructions, evaluation, seed=None):
        """New instructions for the Dialog Agent from the old ones and an evaluation."""
        messages = [{"role": "system", "content": "You improve instructions for a charity persuader. Reply with "
                     "the improved instructions only, at most three sentences."},
                    {"role": "user", "content": f"Instructions: {instructions}\nScore: {evaluation['score']}/10\n"
                     f"Advice: {evaluation['advice']}\nImproved instructions:"}]
        reply = self.backend.chat(messages, self.params.replace(seed=seed)).strip()
        if len(reply.split()) < 4:  # empty or a fragment: no instructions to follow
            self.counts["refine_kept"] += 1
            return f"{instructions} {evaluation['advice']}".strip()
        return reply
