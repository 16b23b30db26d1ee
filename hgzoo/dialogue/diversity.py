"""Diversity of a corpus: attitude-path and transition entropies, coverage, distinct-n.

MADS measures diversity by entropy over Chain-of-Attitude paths; the exact
formulas are not given (papers.md §17), so hgzoo's are written here:

- *attitude-path entropy*: Shannon entropy (bits) of the empirical
  distribution of whole attitude paths (one per dialogue); log2(N) when all
  N dialogues follow different paths, 0 when all follow the same;
- *transition entropy*: the conditional entropy H(next | current) of the
  first-order Markov chain estimated from all paths, in bits;
- *coverage*: the share of the personas / strategies / states offered that
  the corpus uses at least once;
- *distinct-n*: distinct n-grams over all n-grams of the utterances
  (Li et al., 2016), lower-cased, split on whitespace.
"""

import collections
import math

import numpy as np

from hgzoo.dialogue.taxonomy import ATTITUDE_STATES


def entropy(counts):
    """Shannon entropy in bits of a distribution given by counts.

    >>> entropy([1, 1, 1, 1])
    2.0
    """
    counts = np.asarray([c for c in counts if c > 0], "float64")
    if counts.size == 0:
        return 0.0
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum() + 0.0)


def transition_counts(paths, states=ATTITUDE_STATES):
    """(S, S) counts of state i followed by state j over all paths; unknown states are refused."""
    index = {s: i for i, s in enumerate(states)}
    counts = np.zeros((len(states), len(states)), "int64")
    for path in paths:
        unknown = [s for s in path if s not in index]
        if unknown:
            raise ValueError(f"attitude path has state(s) {unknown} outside {list(states)}")
        for a, b in zip(path[:-1], path[1:]):
            counts[index[a], index[b]] += 1
    return counts


def transition_matrix(paths, states=ATTITUDE_STATES):
    """The first-order Markov transition matrix P[i, j] = P(next = j | current = i); unseen rows are 0.

    >>> transition_matrix([["curious", "agreeing"]], ("curious", "agreeing")).tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """
    counts = transition_counts(paths, states).astype("float64")
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def path_entropy(paths):
    """Entropy (bits) of the distribution of whole attitude paths."""
    return entropy(collections.Counter(tuple(p) for p in paths).values())


def transition_entropy(paths, states=ATTITUDE_STATES):
    """H(next | current) in bits: each state's row entropy weighted by how often it is left."""
    counts = transition_counts(paths, states)
    total = counts.sum()
    if total == 0:
        return 0.0
    return float(sum(row.sum() / total * entropy(row) for row in counts if row.sum()))


def coverage(used, offered):
    """The share of ``offered`` that appears in ``used`` (0 when nothing is offered)."""
    offered = set(offered)
    return len(offered & set(used)) / len(offered) if offered else 0.0


def distinct_n(texts, n=2):
    """Distinct n-grams over all n-grams of ``texts`` (0 when there are none).

    >>> distinct_n(["a b a b"], 2)
    0.6666666666666666
    """
    grams = [tuple(words[i:i + n]) for words in (t.lower().split() for t in texts)
             for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def attitude_path(record):
    """The attitude states of a corpus record's user turns, in order."""
    return [t["attitude"] for t in record["turns"] if t["speaker"] == "user"]


def diversity_report(records, personas_offered=(), strategies_offered=(), states=ATTITUDE_STATES):
    """The diversity measures, outcome rate and sizes of corpus ``records`` as a flat dict."""
    records = list(records)
    paths = [attitude_path(r) for r in records]
    turns = [t for r in records for t in r["turns"]]
    persuader = [t["text"] for t in turns if t["speaker"] == "persuader"]
    user = [t["text"] for t in turns if t["speaker"] == "user"]
    return {
        "dialogues": len(records),
        "turns": len(turns),
        "attitude_path_entropy": path_entropy(paths),
        "max_path_entropy": math.log2(len(records)) if records else 0.0,
        "transition_entropy": transition_entropy(paths, states),
        "state_coverage": coverage([s for p in paths for s in p], states),
        "persona_coverage": coverage([r["persona"]["id"] for r in records], personas_offered),
        "strategy_coverage": coverage([t.get("strategy") for t in turns], strategies_offered),
        "distinct_1": distinct_n(persuader + user, 1),
        "distinct_2": distinct_n(persuader + user, 2),
        "user_distinct_2": distinct_n(user, 2),
        "outcome_rate": sum(r["outcome"] == "persuaded" for r in records) / len(records) if records else 0.0,
    }
