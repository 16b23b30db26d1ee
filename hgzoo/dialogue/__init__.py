"""Persuasion-dialogue simulation (MADS) over pluggable LLM backends, and Keras models that learn from it.

User Agents with zodiac × MBTI personas, a Dialog Agent with
PersuasionForGood strategies, an Optimization Agent that refines the Dialog
Agent's instructions, and a Chain-of-Attitude tracker write a resumable JSONL
corpus; its diversity is measured by attitude-path and transition entropy.

Example (a scripted backend; ``TransformersBackend()`` runs the packaged SmolLM2):

>>> import os, tempfile
>>> from hgzoo.dialogue import ScriptedBackend, Simulator, persona_library
>>> backend = ScriptedBackend(["Hi! Could you spare $1 for children in need?", "Maybe. Tell me more.",
...                            "STATE: curious"])
>>> sim = Simulator(backend, persona_library()[:3])
>>> summary = sim.simulate(os.path.join(tempfile.mkdtemp(), "corpus.jsonl"), n=3, progress=False)
>>> summary["dialogues"], summary["persona_coverage"]
(3, 1.0)
"""

from hgzoo.dialogue.agents import DialogAgent, OptimizationAgent, UserAgent
from hgzoo.dialogue.attitude import ChainOfAttitude
from hgzoo.dialogue.backends import ChatBackend, GenerationParams, LLMBackendError, ScriptedBackend
from hgzoo.dialogue.corpus import read_corpus
from hgzoo.dialogue.data.persuasion_for_good import read_persuasion_for_good
from hgzoo.dialogue.data.turns import TurnExamples, turn_examples
from hgzoo.dialogue.diversity import diversity_report, transition_matrix
from hgzoo.dialogue.http_backend import OpenAICompatibleBackend
from hgzoo.dialogue.personas import NO_PERSONA, Persona, persona, persona_library, read_personas, resolve_personas
from hgzoo.dialogue.simulator import Scenario, Simulator
from hgzoo.dialogue.taxonomy import ATTITUDE_STATES, NON_STRATEGY, STRATEGIES
from hgzoo.dialogue.transformers_backend import TransformersBackend
from hgzoo.dialogue.turn_classifiers import AttitudeTracker, StrategyClassifier

__all__ = ["ATTITUDE_STATES", "AttitudeTracker", "ChainOfAttitude", "ChatBackend", "DialogAgent", "GenerationParams", "LLMBackendError",
           "NON_STRATEGY", "NO_PERSONA", "OpenAICompatibleBackend", "OptimizationAgent", "Persona", "STRATEGIES",
           "Scenario", "ScriptedBackend", "Simulator", "StrategyClassifier", "TransformersBackend", "TurnExamples",
           "UserAgent", "diversity_report", "persona", "persona_library", "read_corpus", "read_persuasion_for_good",
           "read_personas", "resolve_personas", "transition_matrix", "turn_examples"]
