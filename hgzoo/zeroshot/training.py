"""Training ZSKL with the released recipe, and the ZSL / GZSL evaluation of the GBU protocol.

The released script trains 12,000 batch-1 RMSProp iterations over one random
permutation of trainval (cycled), evaluates every 400 iterations and keeps
the W with the best accuracy on the *test* unseen classes: model selection
on the test set. Here that is only the explicitly named reproduction mode
``selection="test_set_reproduction"``; the default ``"validation"`` picks the
iteration count on the GBU validation classes (train on ``train``, score
``val``), then retrains on ``trainval`` for that many iterations.

Example:

>>> import numpy as np
>>> from hgzoo.zeroshot import ZSLData
>>> rng = np.random.default_rng(0)
>>> labels = np.repeat(np.arange(6), 4)
>>> data = ZSLData(rng.random((24, 8)), labels, rng.random((6, 3)),
...                {"trainval": np.arange(16), "train": np.arange(12), "val": np.arange(12, 16),
...                 "test_seen": np.arange(0, 16, 4), "test_unseen": np.arange(16, 24)})
>>> model, history = train_zskl(data, iterations=40, eval_every=20, seed=0)
>>> history["selection"], history["selected_iterations"] in (20, 40)
('validation', True)
>>> sorted(evaluate_zskl(model, data.preprocessed()))
['H', 's', 'u', 'zsl']
"""

import numpy as np

from hgzoo.zeroshot.metrics import gzsl_metrics, per_class_accuracy
from hgzoo.zeroshot.zskl import ZSKL

SELECTIONS = ("validation", "test_set_reproduction", "last")


def predict_classes(model, features, classes, attributes, batch_size=4096):
    """Class ids (from ``classes``) predicted for ``features`` among the classes ``classes`` (rows of
    ``attributes``), with ``model``'s W."""
    classes = np.asarray(classes)
    return classes[np.argmax(model.score_classes(features, attributes[classes], batch_size), axis=1)]


def zsl_accuracy(model, features, labels, classes, attributes):
    """Per-class mean accuracy of ``features`` classified among ``classes`` only (conventional ZSL)."""
    return per_class_accuracy(labels, predict_classes(model, features, classes, attributes))


def evaluate_zskl(model, data):
    """The GBU numbers of a ZSKL's W on pre-processed ``data``: ``zsl`` (test-unseen among the unseen
    classes) and GZSL ``u``, ``s``, ``H`` (test-unseen and test-seen among all classes)."""
    x_u, y_u = data.split("test_unseen")
    x_s, y_s = data.split("test_seen")
    everything = np.arange(len(data.attributes))
    result = {"zsl": zsl_accuracy(model, x_u, y_u, data.unseen_classes, data.attributes)}
    result.update(gzsl_metrics(y_u, predict_classes(model, x_u, everything, data.attributes),
                               y_s, predict_classes(model, x_s, everything, data.attributes)))
    return result


def _cycled_order(n, iterations, rng):
    """The released feeding order: one permutation of the samples, repeated."""
    return rng.permutation(n)[np.arange(iterations) % n]


def _fit_on(data, split, iterations, eval_every, batch_size, seed, score, model_kwargs, verbose):
    """Train a fresh ZSKL on ``split``'s classes; ``score(model)`` every ``eval_every`` iterations.
    Returns (model, [(iterations, score)], best weights or None)."""
    x, y = data.split(split)
    classes = np.unique(y)
    targets = np.searchsorted(classes, y)
    model = ZSKL(feature_dim=x.shape[1], attribute_dim=data.attributes.shape[1], num_classes=len(classes),
                 class_embeddings=data.attributes[classes], seed=seed, **model_kwargs)
    model.compile(steps_per_execution=100)  # the same steps, fewer round trips between Python and the graph
    order = _cycled_order(len(x), iterations * batch_size, np.random.default_rng(seed))
    trace, best, done = [], None, 0
    while done < iterations:
        steps = min(eval_every or iterations, iterations - done)
        idx = order[done * batch_size:(done + steps) * batch_size]
        model.fit(x[idx].astype(np.float32), targets[idx], batch_size=batch_size, epochs=1, shuffle=False,
                  verbose=verbose)
        done += steps
        if score is not None:
            value = score(model)
            if best is None or value > best[1]:
                best = (done, value, model.get_weights())
            trace.append((done, value))
    return model, trace, best


def train_zskl(data, iterations=12000, batch_size=1, eval_every=400, selection="validation", preprocess=True,
               seed=None, verbose=0, **model_kwargs):
    """Train ZSKL on a :class:`~hgzoo.zeroshot.ZSLData` with the released recipe; returns ``(model, history)``.

    Args:
        data: features, labels, attributes and GBU splits.
        iterations, batch_size, eval_every: the released 12,000 × 1, checked every 400.
        selection: ``"validation"`` (default: iteration count chosen by ZSL accuracy on the ``val``
            classes of a model trained on ``train``, then retrained on ``trainval``),
            ``"test_set_reproduction"`` (the released script: keep the trainval model with the best
            test-unseen ZSL accuracy; it selects on the test set, so its numbers are not a fair
            estimate) or ``"last"`` (no selection).
        preprocess: apply the official pre-processing first (:meth:`ZSLData.preprocessed`).
        seed: seeds W's initialisation and the sample order.
        verbose: Keras ``fit`` verbosity.
        **model_kwargs: :class:`~hgzoo.zeroshot.ZSKL` arguments (kernel, sigma, beta, orthogonality...).

    The returned model scores the trainval (seen) classes; score other classes
    with ``model.with_classes(attributes)`` or :func:`evaluate_zskl`.
    ``history``: ``selection``, ``selected_iterations``, ``trace`` [(iterations, accuracy)].
    """
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {SELECTIONS}, got {selection!r}")
    data = data.preprocessed() if preprocess else data
    common = (batch_size, seed)
    if selection == "validation":
        if "train" not in data.splits or "val" not in data.splits:
            raise ValueError("selection='validation' needs 'train' and 'val' splits (every GBU att_splits.mat has "
                             "them); give them, or choose selection='last'")
        x_v, y_v = data.split("val")
        val_classes = np.unique(y_v)
        _, trace, best = _fit_on(data, "train", iterations, eval_every, *common,
                                 lambda m: zsl_accuracy(m, x_v, y_v, val_classes, data.attributes),
                                 model_kwargs, verbose)
        chosen = best[0]
        model, _, _ = _fit_on(data, "trainval", chosen, None, *common, None, model_kwargs, verbose)
    elif selection == "test_set_reproduction":
        x_u, y_u = data.split("test_unseen")
        model, trace, best = _fit_on(data, "trainval", iterations, eval_every, *common,
                                     lambda m: zsl_accuracy(m, x_u, y_u, data.unseen_classes, data.attributes),
                                     model_kwargs, verbose)
        chosen = best[0]
        model.set_weights(best[2])
    else:
        model, trace, _ = _fit_on(data, "trainval", iterations, None, *common, None, model_kwargs, verbose)
        chosen = iterations
    return model, {"selection": selection, "selected_iterations": int(chosen), "trace": trace}
