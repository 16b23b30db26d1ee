"""CrossTransformer head: harness, query-aligned prototypes against a numpy reference, scores, bad episodes."""

import keras
import numpy as np
import pytest

from hgzoo.errors import InvalidEpisodeError
from hgzoo.fewshot import RelationCrossEntropy
from hgzoo.fewshot.cross_transformer import CrossTransformer, PrototypeDistance, QueryAlignedPrototypes
from hgzoo.testing import run_model_test

SMALL = {"image_size": (28, 28), "channels": 1, "filters": 8, "key_dim": 8}
JAX = keras.backend.backend() == "jax"
# Within the JAX pass's time budget the harness skips the mixed-precision and fresh-process checks there.
JAX_HARNESS = {"mixed_precision": False, "subprocess_checks": False,
               "reason": "the TensorFlow pass runs the mixed-precision and fresh-process checks"} if JAX else {}


def episode(b=1, n=3, k=1, q=2, size=28, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.stack([rng.permutation(np.repeat(np.arange(n), k)) for _ in range(b)]).astype(np.int32)
    return [rng.random((b, n * k, size, size, channels), dtype=np.float32), labels,
            rng.random((b, q, size, size, channels), dtype=np.float32)]


@pytest.mark.jax
def test_cross_transformer_harness():
    # JAX trains with static shapes, so there the class count is fixed and only K, Q and sizes change.
    target = np.eye(3, dtype=np.float32)[[[0, 1, 2, 0]] * 2]
    kwargs = {**SMALL, **({"n_way": 3} if JAX else {})}
    other = episode(n=3, k=3, q=1, size=40) if JAX else episode(n=5, k=3, q=1, size=40)
    model = run_model_test(CrossTransformer, kwargs, episode(b=2, n=3, k=2, q=4), expected_output_shape=(2, 4, 3),
                           value_dependent_axes=(2,), expected_num_trainable_weights=20,
                           expected_num_non_trainable_weights=8, other_input_data=other, target=target,
                           float32_outputs=True, atol=1e-4, **JAX_HARNESS)
    scores = model.predict_on_batch(episode(n=3, k=2, q=3))
    assert scores.shape == (1, 3, 3) and ((scores > 0) & (scores < 1)).all()


@pytest.mark.jax
def test_prototypes_attend_over_the_shots_of_their_class_only():
    rng = np.random.default_rng(0)
    b, n, k, q, h, c = 1, 2, 2, 2, 3, 4
    labels = np.array([[1, 0, 1, 0]], np.int32)
    feats = rng.normal(size=(b * (n * k + q), h, h, c)).astype(np.float32)
    layer = QueryAlignedPrototypes(num_heads=1, key_dim=5)
    protos, values = (np.asarray(t) for t in layer(feats, labels))
    wq, wk, wv = (np.asarray(d.kernel.value) for d in (layer.attention.query_dense, layer.attention.key_dense,
                                                      layer.attention.value_dense))
    for qi in range(q):
        query = feats[n * k + qi].reshape(-1, c)
        np.testing.assert_allclose(values[qi].reshape(-1, 5), query @ wv, atol=1e-5)
        for cls in range(n):
            support = feats[:n * k][labels[0] == cls].reshape(-1, c)
            logits = (query @ wq) @ (support @ wk).T / np.sqrt(5)
            weights = np.exp(logits - logits.max(-1, keepdims=True))
            weights /= weights.sum(-1, keepdims=True)
            expected = weights @ (support @ wv)
            np.testing.assert_allclose(protos[qi * n + cls].reshape(-1, 5), expected, atol=1e-5)


@pytest.mark.jax
def test_scores_are_the_softmax_of_negative_distances_under_cross_entropy():
    rng = np.random.default_rng(1)
    protos, values = rng.normal(size=(2 * 3, 2, 2, 4)), rng.normal(size=(2, 2, 2, 4))
    scores = np.asarray(PrototypeDistance(scale=2.0)(protos.astype("float32"), values.astype("float32")))
    d = ((protos.reshape(2, 3, -1) - values.reshape(2, 1, -1)) ** 2).mean(-1)
    loss = float(RelationCrossEntropy()(np.eye(3)[[[0, 2]]], scores.reshape(1, 2, 3)))
    expected = -np.mean([np.log(np.exp(-2 * d[i]) / np.exp(-2 * d[i]).sum())[t] for i, t in enumerate([0, 2])])
    assert loss == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("change,message", [
    (lambda s, l, q: (s[..., [0, 0, 0]], l, q[..., [0, 0, 0]]), "takes 1-channel images"),
    (lambda s, l, q: (s[:, :2], l, q), "2 support images per episode but 3 support labels"),
    (lambda s, l, q: (s, l * 2, q), "every class 0..N-1"),
    (lambda s, l, q: (np.where(s > 0.5, np.nan, s), l, q), "support_images"),
])
def test_bad_episodes_get_clear_errors(change, message):
    model = CrossTransformer(**SMALL)
    with pytest.raises(InvalidEpisodeError, match=message):
        model(dict(zip(("support_images", "support_labels", "query_images"), change(*episode()))))


def test_invalid_arguments():
    with pytest.raises(ValueError, match="backbone must be one of"):
        CrossTransformer(backbone="vit")
    with pytest.raises(ValueError, match="scale must be positive"):
        PrototypeDistance(scale=0.0)
