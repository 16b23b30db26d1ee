"""Instance (user-day) and user decisions with the τ and κ thresholds, user scores and AUROC.

The paper decides per user-day with a threshold τ on the score and per user
with a threshold κ, without publishing either value (``papers.md`` §15).
hgzoo's choices, with every score oriented "higher is more anomalous":

- τ: the ``1 - false_alarm_rate`` quantile of the scores of the normal
  training days (:func:`calibrate_tau`; 1% false alarms by default), so τ
  means the same thing for every detector;
- a user-day is anomalous when its score exceeds τ;
- κ: a user is flagged when at least κ of their days are anomalous (κ = 2 by
  default: one odd day is common, insiders act over several);
- the user-level score, for ranking and AUROC, is the user's κ-th highest
  day score, so that ranking users agrees with the decision: a user is
  flagged exactly when that score exceeds τ (a user with fewer than κ days
  gets their lowest).

Example:

>>> import numpy as np
>>> tau = calibrate_tau(np.arange(100.0), false_alarm_rate=0.05)
>>> users = np.array(["a", "a", "b", "b"])
>>> flags = instance_decisions(np.array([99.0, 99.5, 1.0, 99.9]), tau)
>>> user_decisions(users, flags, kappa=2)
(array(['a', 'b'], dtype='<U1'), array([ True, False]))
>>> user_scores(users, np.array([99.0, 99.5, 1.0, 99.9]), kappa=2)[1]
array([99., 1.])
>>> auroc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
0.75
"""

import numpy as np


def calibrate_tau(normal_scores, false_alarm_rate=0.01):
    """τ: the score that ``false_alarm_rate`` of the normal (training) days exceed."""
    scores = np.asarray(normal_scores, np.float64)
    if not len(scores) or not np.all(np.isfinite(scores)):
        raise ValueError("calibrate_tau needs finite scores of at least one normal day")
    if not 0 <= false_alarm_rate < 1:
        raise ValueError(f"false_alarm_rate must be in [0, 1), got {false_alarm_rate}")
    return float(np.quantile(scores, 1 - false_alarm_rate))


def instance_decisions(scores, tau):
    """Each user-day anomalous (True) when its score exceeds τ."""
    return np.asarray(scores) > tau


def user_decisions(users, day_flags, kappa=2):
    """``(users, flagged)``: each user once, flagged when at least κ of their days are anomalous."""
    if int(kappa) < 1:
        raise ValueError(f"kappa must be a positive number of days, got {kappa}")
    names, inverse = np.unique(np.asarray(users), return_inverse=True)
    counts = np.bincount(inverse, weights=np.asarray(day_flags, np.float64), minlength=len(names))
    return names, counts >= int(kappa)


def user_scores(users, scores, kappa=2):
    """``(users, score)``: each user once, scored by their κ-th highest day score."""
    if int(kappa) < 1:
        raise ValueError(f"kappa must be a positive number of days, got {kappa}")
    users, scores = np.asarray(users), np.asarray(scores, np.float64)
    names, inverse = np.unique(users, return_inverse=True)
    order = np.lexsort((-scores, inverse))  # by user, then score descending
    starts = np.searchsorted(inverse[order], np.arange(len(names)))
    counts = np.bincount(inverse, minlength=len(names))
    return names, scores[order][starts + np.minimum(int(kappa), counts) - 1]


def auroc(labels, scores):
    """Area under the ROC curve (ties count one half): the chance that a positive outscores a negative."""
    labels, scores = np.asarray(labels).astype(bool), np.asarray(scores, np.float64)
    positives, negatives = scores[labels], scores[~labels]
    if not len(positives) or not len(negatives):
        raise ValueError("AUROC needs at least one positive and one negative label")
    order = np.argsort(np.concatenate([negatives, positives]), kind="mergesort")
    ranks = np.empty(len(order))
    values = np.concatenate([negatives, positives])[order]
    # average ranks over ties
    _, first, counts = np.unique(values, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    positive_ranks = ranks[len(negatives):].sum()
    return float((positive_ranks - len(positives) * (len(positives) + 1) / 2) / (len(positives) * len(negatives)))
