"""GZSL model selection end to end on separable synthetic classes (slow: the GAN needs a few hundred steps)."""

import numpy as np
import pytest

from hgzoo.zeroshot import (ZSKL, GZSLModelSelection, ZSLData, gzsl_metrics, normalise_attributes,
                            train_feature_generator, train_model_selection, train_zskl)

RNG = np.random.default_rng(0)


@pytest.mark.slow  # about a minute on two cores: the GAN needs a few hundred steps
def test_model_selection_end_to_end_on_separable_classes():
    # 4 classes as well-separated Gaussian blobs whose means are a fixed map of their attributes;
    # classes 0, 1 seen, 2, 3 unseen; the generator must extrapolate through the attributes.
    att = np.array([[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 0], [1, 1, 0, 0]], np.float64)
    mapping = RNG.standard_normal((4, 8))
    labels = np.repeat(np.arange(4), 40)
    features = np.maximum(att[labels] @ mapping * 2 + 4 + 0.1 * RNG.standard_normal((160, 8)), 0)
    seen = labels < 2
    pre_att = normalise_attributes(att)
    generator = train_feature_generator(features[seen], labels[seen], pre_att, iterations=400, hidden=32,
                                        batch_size=32, learning_rate=1e-3, seed=0)
    fake = generator.generate(pre_att[[2, 3]], per_class=5, seed=0)
    assert fake.shape == (10, 8) and np.isfinite(fake).all() and (fake >= 0).all()
    data = ZSLData(features, labels, att, {"trainval": np.flatnonzero(seen), "test_seen": np.flatnonzero(seen),
                                           "test_unseen": np.flatnonzero(~seen)})
    zskl, _ = train_zskl(data, iterations=200, selection="last", seed=0)
    model = GZSLModelSelection(8, 4, [0, 1], [2, 3], hidden=16)
    train_model_selection(model, features[seen], labels[seen], pre_att, generator, zskl, per_class=40, epochs=100,
                          seed=0)
    probabilities = model.predict(features, verbose=0)
    predicted = probabilities.argmax(1)
    np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=1e-5)
    # the gate learned to tell generated unseen features from real seen ones
    assert model.gate_probability(fake).mean() > model.gate_probability(features[seen]).mean() + 0.2
    # each sample gets the class its chosen expert predicts
    to_unseen = model.gate_probability(features) > 0.5
    seen_choice = np.array([0, 1])[model.part("seen_expert").predict(features, verbose=0).argmax(1)]
    unseen_choice = np.array([2, 3])[model.part("unseen_expert").predict(features, verbose=0).argmax(1)]
    np.testing.assert_array_equal(predicted, np.where(to_unseen, unseen_choice, seen_choice))
    metrics = gzsl_metrics(labels[~seen], predicted[~seen], labels[seen], predicted[seen])
    assert 0.0 <= metrics["H"] <= 1.0
    with pytest.raises(ValueError, match="not the model's seen_classes"):
        train_model_selection(model, features[~seen], labels[~seen], pre_att, generator, zskl)
    assert isinstance(zskl, ZSKL)


