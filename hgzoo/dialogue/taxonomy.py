"""The label sets: PersuasionForGood strategies and hgzoo's 16 attitude states.

>>> len(STRATEGIES), len(ATTITUDE_STATES)
(10, 16)
"""

from hgzoo.dialogue.data.packaged import packaged_json

_STRATEGIES = packaged_json("strategies.json")
_STATES = packaged_json("attitude_states.json")

#: PersuasionForGood's ten persuader strategies (Wang et al., 2019) and what each means.
STRATEGY_DESCRIPTIONS = dict(_STRATEGIES["strategies"])
STRATEGIES = tuple(STRATEGY_DESCRIPTIONS)
#: The label of a persuader turn that uses none of them (greetings, thanks).
NON_STRATEGY = _STRATEGIES["non_strategy"]

#: The 16 Chain-of-Attitude states. hgzoo's own definitions: MADS names 16 states but not what they are.
ATTITUDE_DESCRIPTIONS = dict(_STATES["states"])
ATTITUDE_STATES = tuple(ATTITUDE_DESCRIPTIONS)
#: States that count as a successful persuasion when a dialogue ends in them.
PERSUADED_STATES = tuple(_STATES["persuaded"])
