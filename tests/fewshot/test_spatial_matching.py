"""Spatially-aware matching: harness, regions, the learned soft-max, the discriminator loss, bad episodes."""

import keras
import numpy as np
import pytest

from hgzoo.errors import InvalidEpisodeError
from hgzoo.fewshot.region_layers import FeatureRegions, RegionPairs, SoftMatch, region_bounds
from hgzoo.fewshot.spatial_matching import SpatialMatching
from hgzoo.layers import SecondOrderPool
from hgzoo.testing import run_model_test

JAX = keras.backend.backend() == "jax"
# The JAX pass (tests marked jax) keeps to its time budget: there the harness skips the mixed-precision and
# fresh-process checks, which the TensorFlow pass runs on the same classes.
JAX_HARNESS = {"mixed_precision": False, "subprocess_checks": False,
               "reason": "the TensorFlow pass runs the mixed-precision and fresh-process checks"} if JAX else {}
SMALL = {"image_size": (28, 28), "channels": 1, "filters": 8, "embed_dim": 8, "relation_hidden": 8,
         "discriminator_hidden": 8}


def episode(b=1, n=3, k=1, q=2, size=28, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.stack([rng.permutation(np.repeat(np.arange(n), k)) for _ in range(b)]).astype(np.int32)
    return [rng.random((b, n * k, size, size, channels), dtype=np.float32), labels,
            rng.random((b, q, size, size, channels), dtype=np.float32)]


def as_dict(arrays):
    return dict(zip(("support_images", "support_labels", "query_images"), arrays))


def targets(labels_per_query):
    return np.eye(3, dtype=np.float32)[labels_per_query]


@pytest.mark.jax
def test_spatial_matching_harness():
    # JAX trains with static shapes, so there the class count is fixed and only K, Q and sizes change.
    kwargs = {**SMALL, **({"n_way": 3} if JAX else {})}
    other = episode(n=3, k=3, q=1, size=40) if JAX else episode(n=5, k=3, q=1, size=40)
    model = run_model_test(SpatialMatching, kwargs, episode(b=2, n=3, k=2, q=4), expected_output_shape=(2, 4, 3),
                           value_dependent_axes=(2,), expected_num_trainable_weights=29,
                           expected_num_non_trainable_weights=8, other_input_data=other,
                           target=targets([[0, 1, 2, 0]] * 2), float32_outputs=True, atol=1e-4, **JAX_HARNESS)
    scores = model.predict_on_batch(episode(n=3, k=2, q=3))
    assert scores.shape == (1, 3, 3) and ((scores > 0) & (scores < 1)).all()


def test_spatial_matching_over_cross_transformer_prototypes():
    model = SpatialMatching(**SMALL, aligner="cross_transformer", key_dim=8)
    assert model.get_layer("region_pairs").per_query_classes
    scores = model.predict_on_batch(episode(b=2, n=4, k=2, q=3))
    assert scores.shape == (2, 3, 4) and np.isfinite(scores).all()
    # the query-aligned prototypes differ per query, so a query's scores depend on that query only
    data = episode(n=4, k=2, q=3)
    alone = model.predict_on_batch([data[0], data[1], data[2][:, 1:2]])
    np.testing.assert_allclose(model.predict_on_batch(data)[:, 1:2], alone, atol=1e-5)
    assert SpatialMatching.from_config(model.get_config()).get_config() == model.get_config()


@pytest.mark.jax
def test_regions_are_second_order_descriptors_of_overlapping_cells():
    assert region_bounds(5, 2) == [(0, 3), (2, 5)] and region_bounds(4, 2) == [(0, 2), (2, 4)]
    x = np.random.default_rng(0).random((2, 5, 5, 4), dtype=np.float32)
    regions = np.asarray(FeatureRegions((1, 2))(x))
    pool = SecondOrderPool("autocorrelation", trace_normalize=True)
    np.testing.assert_allclose(regions[:, 0], pool(x), atol=1e-6)
    np.testing.assert_allclose(regions[:, 4], pool(x[:, 2:5, 2:5]), atol=1e-6)  # 2×2 grid, bottom right
    with pytest.raises(ValueError, match="does not fit"):
        FeatureRegions((6,))(x)


@pytest.mark.jax
def test_region_pairs_cover_every_support_region_query_region_pair():
    classes = np.arange(2 * 3, dtype=np.float32).reshape(2, 3, 1)  # (B·N, R, d): 2 classes
    queries = 10 * np.arange(1, 3 * 2 + 1, dtype=np.float32).reshape(2, 3, 1)  # 2 queries
    pairs = np.asarray(RegionPairs()(classes, queries, np.zeros((1, 2), "int32")))
    # pair (query 1, class 0): support region i, query region j = classes[0, i] + queries[1, j]
    np.testing.assert_allclose(pairs[2, :, :, 0], classes[0] + queries[1, :, 0][None])


@pytest.mark.jax
def test_soft_match_lets_the_best_pair_dominate_and_off_is_the_mean():
    logits = np.random.default_rng(0).normal(size=(4, 5, 5, 1)).astype(np.float32)
    flat = logits.reshape(4, -1)
    sharp = np.asarray(SoftMatch(temperature=0.01)(logits))[:, 0]
    np.testing.assert_allclose(sharp, flat.max(-1), atol=1e-3)
    soft = np.asarray(SoftMatch(temperature=1.0)(logits))[:, 0]
    w = np.exp(flat) / np.exp(flat).sum(-1, keepdims=True)
    np.testing.assert_allclose(soft, (w * flat).sum(-1), atol=1e-5)
    np.testing.assert_allclose(np.asarray(SoftMatch(weighting=False)(logits))[:, 0], flat.mean(-1), atol=1e-6)


def test_weighting_off_and_on_differ_on_the_same_weights():
    on = SpatialMatching(**SMALL, weighting=True)
    off = SpatialMatching(**SMALL, weighting=False)
    for layer in off.layers:
        if layer.weights:
            on_layer = on.get_layer(layer.name)
            on_layer.set_weights(layer.get_weights())
    data = episode(n=3, k=1, q=3)
    a, b = on.predict_on_batch(data), off.predict_on_batch(data)
    assert {w.name for w in on.trainable_weights} - {w.name for w in off.trainable_weights} == {
        "log_temperature", "pair_bias"}
    assert not np.allclose(a, b, atol=1e-6)


def test_discriminator_loss_trains_in_fit_and_switches_off():
    data, y = episode(n=3, k=1, q=4), targets([[0, 1, 2, 0]])
    model = SpatialMatching(**SMALL, discriminator_weight=1.0, n_way=3 if JAX else None)
    model(as_dict(data), training=True)
    # The region-index cross-entropy starts near log(R) = log 5.
    assert len(model.losses) == 1 and 0.5 < float(model.losses[0]) < 5.0
    before = np.array(model.get_layer("discriminator_fc2").kernel.value)
    history = model.fit(data, y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all() and history.history["loss"][0] > 1.0  # MSE alone is < 1
    assert not np.allclose(before, np.asarray(model.get_layer("discriminator_fc2").kernel.value))
    plain = SpatialMatching(**SMALL, discriminator_weight=0.0)
    plain(as_dict(data), training=True)
    assert not plain.losses and "discriminator_fc2" not in [layer.name for layer in plain.layers]


@pytest.mark.parametrize("change,message", [
    (lambda s, l, q: (s[..., [0, 0, 0]], l, q[..., [0, 0, 0]]), "takes 1-channel images"),
    (lambda s, l, q: (s[:, :2], l, q), "2 support images per episode but 3 support labels"),
    (lambda s, l, q: (s[:, :0], l[:, :0], q), "K = 0"),
    (lambda s, l, q: (s, l * 2, q), "every class 0..N-1"),
    (lambda s, l, q: (s, l, np.where(q > 0.5, np.nan, q)), "query_images"),
])
def test_bad_episodes_get_clear_errors(change, message):
    model = SpatialMatching(**SMALL)
    with pytest.raises(InvalidEpisodeError, match=message):
        model(as_dict(change(*episode())))
    with pytest.raises(InvalidEpisodeError, match=message):
        model.predict(as_dict(change(*episode())), verbose=0)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="aligner must be one of"):
        SpatialMatching(aligner="attention")
    with pytest.raises(ValueError, match="descriptor must be one of"):
        SpatialMatching(descriptor="max")
    with pytest.raises(ValueError, match="discriminator_weight"):
        SpatialMatching(discriminator_weight=-1)
