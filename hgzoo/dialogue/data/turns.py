"""Per-turn training examples from a corpus: persuader turns with strategies, user turns with attitudes."""

import dataclasses

import numpy as np

from hgzoo.dialogue.taxonomy import ATTITUDE_STATES, NON_STRATEGY, STRATEGIES
from hgzoo.errors import InvalidTextDataError

TASKS = ("strategy", "attitude")


@dataclasses.dataclass
class TurnExamples:
    """Texts, integer labels and label names of one task; ``previous`` (attitude only) is the one-hot of
    the previous state, the last column meaning the dialogue's first user turn; ``dialogues`` names
    each example's dialogue, for splits that keep a dialogue on one side.

    >>> import numpy as np
    >>> ex = TurnExamples(["Hi!", "Please give $1"], np.array([0, 1]), ["greeting", "ask"], [0, 0])
    >>> len(ex), ex.class_names[ex.labels[1]]
    (2, 'ask')
    """

    texts: list
    labels: np.ndarray
    class_names: list
    dialogues: list
    previous: np.ndarray | None = None

    def __len__(self):
        return len(self.texts)


def turn_examples(records, task="strategy"):
    """Examples of ``task`` (``"strategy"`` or ``"attitude"``) from corpus records.

    >>> record = {"index": 0, "turns": [{"speaker": "persuader", "text": "Hi!", "strategy": "self-modeling"},
    ...                                 {"speaker": "user", "text": "Hello", "attitude": "curious"}]}
    >>> ex = turn_examples([record], "attitude")
    >>> ex.texts, ex.class_names[ex.labels[0]], int(ex.previous[0, -1])
    (['Hello'], 'curious', 1)
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    names = [NON_STRATEGY, *STRATEGIES] if task == "strategy" else list(ATTITUDE_STATES)
    index = {n: i for i, n in enumerate(names)}
    texts, labels, dialogues, previous = [], [], [], []
    for record in records:
        state = None
        for turn in record["turns"]:
            if task == "strategy" and turn["speaker"] == "persuader":
                label = turn.get("strategy") or NON_STRATEGY
            elif task == "attitude" and turn["speaker"] == "user":
                label = turn["attitude"]
            else:
                continue
            if label not in index:
                raise InvalidTextDataError(f"dialogue {record.get('index')}: label {label!r} is not one of {names}")
            before, state = state, label  # an empty turn still moves the dialogue's state on
            if not str(turn["text"]).strip():
                continue  # an empty generated turn has nothing to learn from
            texts.append(str(turn["text"]))
            labels.append(index[label])
            dialogues.append(record.get("index"))
            previous.append(len(names) if before is None else index[before])
    if not texts:
        raise InvalidTextDataError(f"no {task} examples in {len(records)} records")
    one_hot = np.eye(len(names) + 1, dtype="float32")[previous] if task == "attitude" else None
    return TurnExamples(texts, np.asarray(labels, "int32"), names, dialogues, one_hot)
