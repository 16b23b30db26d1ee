"""The few-shot evaluation protocol: mean accuracy over episodes with a 95% confidence interval.

Example:

>>> from hgzoo.fewshot.evaluation import confidence_interval
>>> mean, half_width = confidence_interval([0.5, 0.7, 0.6, 0.6])
>>> round(mean, 3), round(half_width, 3)
(0.6, 0.13)
"""

import math

import keras
import numpy as np


def _t_cdf(t, dof):
    """Student t CDF by Simpson integration of the density (enough for a 0.975 quantile)."""
    log_norm = math.lgamma((dof + 1) / 2) - math.lgamma(dof / 2) - 0.5 * math.log(dof * math.pi)

    def pdf(x):
        return math.exp(log_norm - (dof + 1) / 2 * math.log1p(x * x / dof))

    steps = 2000
    h = t / steps
    total = pdf(0) + pdf(t) + sum((4 if i % 2 else 2) * pdf(i * h) for i in range(1, steps))
    return 0.5 + total * h / 3


def t_quantile_975(dof):
    """The 0.975 quantile of Student's t with ``dof`` degrees of freedom (1.96 as dof grows)."""
    low, high = 0.0, 20.0  # the quantile is 12.71 for dof 1 and falls towards 1.96
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if _t_cdf(mid, dof) < 0.975 else (low, mid)
    return (low + high) / 2


def confidence_interval(accuracies):
    """(mean, half-width of the 95% Student-t interval) of per-episode accuracies."""
    a = np.asarray(accuracies, np.float64)
    if a.size < 2:
        return float(a.mean()) if a.size else float("nan"), float("nan")
    return float(a.mean()), t_quantile_975(a.size - 1) * float(a.std(ddof=1)) / math.sqrt(a.size)


def evaluate_episodes(model, episodes, steps=None, verbose=1):
    """Accuracy of ``model`` on each episode, with its mean and 95% interval.

    Args:
        model: a few-shot model (episode dict -> scores (B, Q, N)).
        episodes: an iterable of ``(inputs, one-hot targets)``: batches, e.g.
            ``EpisodeSampler(...).dataset(episodes=600)``, or single episodes
            as ``EpisodeSampler.episode(i)`` gives them.
        steps: stop after this many batches.
        verbose: show a progress bar.

    Returns:
        ``{"accuracy": mean, "ci95": half-width, "episodes": count,
        "per_episode": [...]}``, accuracies as fractions.
    """
    total = steps
    if total is None:
        try:
            total = len(episodes)
        except TypeError:  # a generator or a tf.data pipeline of unknown length
            total = None
    bar = keras.utils.Progbar(total, unit_name="episode") if verbose else None
    accuracies = []
    for i, (inputs, target) in enumerate(episodes):
        if steps is not None and i >= steps:
            break
        # numpy in, so tf.data batches also feed models on the JAX backend
        inputs, target = {k: np.asarray(v) for k, v in inputs.items()}, np.asarray(target)
        if target.ndim == 2:  # one episode without its batch axis
            inputs, target = {k: v[None] for k, v in inputs.items()}, target[None]
        scores = keras.ops.convert_to_numpy(model.predict_on_batch(inputs))
        correct = scores.argmax(-1) == target.argmax(-1)
        accuracies.extend(correct.mean(axis=-1).tolist())
        if bar is not None:
            bar.update(i + 1, values=[("accuracy", float(np.mean(accuracies)))])
    mean, ci = confidence_interval(accuracies)
    return {"accuracy": mean, "ci95": ci, "episodes": len(accuracies), "per_episode": accuracies}
