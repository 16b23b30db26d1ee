"""SoSN: harness, the episode contract, faithfulness details, errors, export."""

import keras
import numpy as np
import pytest

from hgzoo.errors import InvalidEpisodeError
from hgzoo.fewshot import RelationCrossEntropy, SoSN
from hgzoo.layers import PowerNorm, SecondOrderPool
from hgzoo.testing import run_export_test, run_layer_test, run_model_test

pytestmark = pytest.mark.jax  # backend-agnostic: CI runs this file under JAX too

SMALL = {"image_size": (28, 28), "channels": 1, "relation_filters": 16}  # narrow relation net: fast tests


def episode(b=1, n=3, k=1, q=2, size=28, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.stack([rng.permutation(np.repeat(np.arange(n), k)) for _ in range(b)]).astype(np.int32)
    return [rng.random((b, n * k, size, size, channels), dtype=np.float32), labels,
            rng.random((b, q, size, size, channels), dtype=np.float32)]


def as_dict(arrays):
    return dict(zip(("support_images", "support_labels", "query_images"), arrays))


JAX = keras.backend.backend() == "jax"


def test_sosn_harness():
    target = np.eye(3, dtype=np.float32)[[[0, 1, 2, 0]] * 2]
    # JAX trains with static shapes, so there the class count is fixed and only K, Q and sizes change.
    kwargs, other = ({**SMALL, "n_way": 3}, episode(n=3, k=3, q=1, size=40)) if JAX else (
        SMALL, episode(n=5, k=3, q=1, size=40))
    run_model_test(SoSN, kwargs, episode(b=2, n=3, k=2, q=4), expected_output_shape=(2, 4, 3),
                   value_dependent_axes=(2,),  # N comes from the labels unless n_way fixes it
                   expected_num_trainable_weights=36, expected_num_non_trainable_weights=16, other_input_data=other,
                   target=target, float32_outputs=True, atol=1e-4)


def test_fixed_n_way_refuses_other_class_counts():
    model = SoSN(n_way=3, **SMALL)
    assert model.predict_on_batch(episode(n=3, k=2)).shape == (1, 2, 3)
    with pytest.raises(InvalidEpisodeError, match="built with n_way=3 but the episode has 4 classes"):
        model(as_dict(episode(n=4)))


def test_parameter_counts_match_the_paper():
    # papers.md §3: encoder 113,088 and SimilarityNetwork 114,577 trainable parameters (RGB input)
    model = SoSN()
    encoder = sum(int(np.prod(w.shape)) for w in model.trainable_weights if w.path.startswith("encoder"))
    relation = sum(int(np.prod(w.shape)) for w in model.trainable_weights if w.path.startswith("relation"))
    assert (encoder, relation) == (113_088, 114_577)


@pytest.mark.parametrize("n,k,q", [(5, 1, 3), (20, 1, 1), (4, 5, 2)])
def test_n_and_k_change_without_rebuilding(n, k, q):
    model = SoSN(**SMALL)
    assert model.predict_on_batch(episode(n=5, k=1, q=2)).shape == (1, 2, 5)
    assert model.predict_on_batch(as_dict(episode(b=2, n=n, k=k, q=q))).shape == (2, q, n)


def test_scores_follow_the_labels_not_the_support_order():
    model = SoSN(**SMALL)
    support, labels, queries = episode(n=4, k=2, q=3)
    order = np.random.default_rng(1).permutation(8)
    a = model.predict_on_batch([support, labels, queries])
    b = model.predict_on_batch([support[:, order], labels[:, order], queries])
    np.testing.assert_allclose(a, b, atol=1e-5)
    # Renaming the classes permutes the score columns the same way.
    renamed = model.predict_on_batch([support, (labels + 1) % 4, queries])
    np.testing.assert_allclose(renamed, np.roll(a, 1, axis=-1), atol=1e-5)


def test_class_representation_is_sosn_second_order():
    """Pooled class maps equal PowerNorm(SigmE)(M/tr M) of the shot-summed backbone features."""
    model = SoSN(strength=5.0, n_way=2, **SMALL)  # sub-models below are jit-compiled on JAX
    support, labels, queries = episode(n=2, k=3, q=1)
    backbone = keras.Model(model.inputs, model.get_layer("encoder4_relu").output)
    pooled = keras.Model(model.inputs, model.get_layer("pairs").input[0])
    feats = np.asarray(backbone.predict_on_batch([support, labels, queries]))[:3 * 2]
    expected = []
    for c in range(2):
        x = feats[labels[0] == c].sum(0).reshape(-1, 64).astype(np.float64)
        m = x.T @ x / len(x)
        expected.append(2 / (1 + np.exp(-5.0 * m / np.trace(m))) - 1)
    np.testing.assert_allclose(np.asarray(pooled.predict_on_batch([support, labels, queries])), expected, atol=1e-5)


def test_images_are_resized_inside_the_model():
    model = SoSN(**SMALL)
    small = episode(size=28)
    big = [keras.ops.convert_to_numpy(keras.ops.image.resize(a.reshape((-1, 28, 28, 1)), (105, 105))).reshape(
        a.shape[:2] + (105, 105, 1)) if a.ndim == 5 else a for a in small]
    assert model.predict_on_batch(big).shape == model.predict_on_batch(small).shape


@pytest.mark.parametrize("change,message", [
    (lambda s, l, q: (s[..., [0, 0, 0]], l, q[..., [0, 0, 0]]), "takes 1-channel images"),
    (lambda s, l, q: (s[:, :2], l, q), "2 support images per episode but 3 support labels"),
    (lambda s, l, q: (s[:, :0], l[:, :0], q), "K = 0"),
    (lambda s, l, q: (s, l, q[:, :, :20, :20]), "use one size"),
    (lambda s, l, q: (s, l * 2, q), "every class 0..N-1"),
])
def test_bad_episodes_get_clear_errors(change, message):
    model = SoSN(**SMALL)
    with pytest.raises(InvalidEpisodeError, match=message):
        model(as_dict(change(*episode())))


def test_bad_episode_shapes_are_caught_in_predict_too():
    with pytest.raises(InvalidEpisodeError, match="takes 1-channel images"):
        SoSN(**SMALL).predict(as_dict(episode(channels=3)), verbose=0)


@pytest.mark.parametrize("kwargs", [
    {"power_norm": "maxexp", "strength": 20.0}, {"power_norm": "gamma", "strength": 0.5, "spectral": True},
    {"power_norm": "asinhe", "strength": 10.0}, {"power_norm": "none"},
    {"power_norm": "maxexp", "strength": 16.0, "spectral": True, "fast": True},
    {"backbone": "resnet12", "filters": (8, 16, 32, 48), "image_size": (32, 32)},
])
def test_variants_build_and_score(kwargs):
    model = SoSN(**{**SMALL, **kwargs})
    scores = model.predict_on_batch(episode(n=3, k=2, q=2))
    assert scores.shape == (1, 2, 3) and np.isfinite(scores).all()
    assert SoSN.from_config(model.get_config()).get_config() == model.get_config()


def test_invalid_arguments():
    with pytest.raises(ValueError, match="backbone must be one of"):
        SoSN(backbone="vgg")
    with pytest.raises(ValueError, match="power_norm must be one of"):
        SoSN(power_norm="sqrt")
    with pytest.raises(ValueError, match="at least 46×46"):
        SoSN(filters=16)
    with pytest.raises(ValueError, match="needs strength"):
        SoSN(power_norm="gamma", strength=2.0)


def test_cross_entropy_takes_soft_targets_as_a_distribution():
    # ARL's soft targets sum to more than 1; unnormalised, TensorFlow's gradient pushed every score to 1.
    scores = keras.Variable(np.array([[[0.6, 0.5, 0.55]]], np.float32))
    soft = np.array([[[1.0, 0.25, 0.0]]], np.float32)
    loss = RelationCrossEntropy()
    assert float(loss(soft, scores)) == pytest.approx(float(loss(soft / 1.25, scores)), rel=1e-6)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        logits = tf.Variable(np.log(scores.numpy() / (1 - scores.numpy())))
        with tf.GradientTape() as tape:
            value = loss(soft, tf.sigmoid(logits))
        assert abs(float(tf.reduce_sum(tape.gradient(value, logits)))) < 1e-6  # no net push on all classes


def test_cross_entropy_matches_softmax_of_relation_logits():
    scores = np.array([[[0.9, 0.2, 0.4]]], np.float32)
    logits = np.log(scores / (1 - scores))
    expected = -np.log(np.exp(logits[0, 0, 1]) / np.exp(logits).sum())
    assert float(RelationCrossEntropy()(np.eye(3)[[[1]]], scores)) == pytest.approx(expected, rel=1e-5)
    model = SoSN(**SMALL, n_way=3 if JAX else None)
    model.compile(loss="cross_entropy")
    logs = model.train_on_batch(episode(), np.eye(3, dtype=np.float32)[[[0, 2]]], return_dict=True)
    assert np.isfinite(logs["loss"])


@pytest.mark.skipif(not JAX, reason="JAX only")
def test_jax_training_without_n_way_says_what_to_do():
    with pytest.raises(InvalidEpisodeError, match="build the\s+model with n_way=N"):
        SoSN(**SMALL).train_on_batch(episode(), np.eye(3, dtype=np.float32)[[[0, 2]]])


def test_training_learns_a_separable_task():
    """Classes are distinct constant-offset textures: a few dozen episodes must beat chance clearly."""
    from hgzoo.fewshot import EpisodeSampler, ImageClasses, evaluate_episodes

    rng = np.random.default_rng(0)
    patterns = rng.integers(0, 256, (8, 28, 28, 1))
    images = np.clip(patterns[np.repeat(np.arange(8), 6)] + rng.integers(-20, 20, (48, 28, 28, 1)), 0, 255)
    pool = ImageClasses.from_arrays(images.astype(np.uint8), np.repeat(np.arange(8), 6))
    keras.utils.set_random_seed(0)
    model = SoSN(**SMALL, n_way=4 if JAX else None)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(EpisodeSampler(pool, 4, 1, 2, seed=0).dataset(episodes=150), verbose=0)
    result = evaluate_episodes(model, EpisodeSampler(pool, 4, 1, 2, seed=9).dataset(episodes=20), verbose=0)
    assert result["accuracy"] > 0.8  # chance is 0.25


def test_episode_layers_harness():
    from hgzoo.fewshot.episode_layers import ClassFeatureSum, EpisodeImages, EpisodeScores, RelationPairs

    support, labels, queries = episode(b=2, n=3, k=2, q=2)
    run_layer_test(EpisodeImages, {"image_size": (14, 14), "channels": 1, "mean": 0.5, "std": 0.25},
                   [support, queries], expected_output_shape=(16, 14, 14, 1), expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0, dynamic_axes=(1, 2, 3))
    feats = np.random.default_rng(0).random((16, 5, 5, 4), dtype=np.float32)
    classes, qs = ClassFeatureSum()(feats, labels)
    assert tuple(classes.shape) == (6, 5, 5, 4) and tuple(qs.shape) == (4, 5, 5, 4)
    pairs = RelationPairs()(np.ones((6, 4, 4)), np.zeros((4, 4, 4)), labels)
    assert tuple(pairs.shape) == (12, 4, 4, 2) and float(np.min(np.asarray(pairs)[..., 0])) == 1.0
    assert tuple(EpisodeScores()(np.zeros((12, 1)), queries).shape) == (2, 2, 3)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="SavedModel export needs TF")
@pytest.mark.parametrize("input_dtype", ["float32", "uint8"])
def test_export_for_serving_in_a_tf_only_process(input_dtype):
    model = SoSN(**SMALL)
    arrays = as_dict(episode(b=2, n=4, k=2, q=3, size=40))
    if input_dtype == "uint8":
        for key in ("support_images", "query_images"):
            arrays[key] = np.round(arrays[key] * 255).astype(np.uint8)
    served = run_export_test(model, arrays, {
        "inputs": {"support_images": input_dtype, "support_labels": "int32", "query_images": input_dtype},
        "outputs": {"scores": "float32", "classes": "int32"}}, input_dtype=input_dtype)
    scale = 255.0 if input_dtype == "uint8" else 1.0
    expected = model.predict_on_batch({k: v / scale if v.dtype == np.uint8 else v for k, v in arrays.items()})
    np.testing.assert_allclose(served["scores"], expected, atol=1e-4)
    np.testing.assert_array_equal(served["classes"], expected.argmax(-1))


def test_keras_tuner_sweep_over_power_norms(tmp_path):
    import keras_tuner

    import hgzoo
    from hgzoo.fewshot import EpisodeSampler, ImageClasses
    from hgzoo.models.search_space import Choice

    rng = np.random.default_rng(0)
    pool = ImageClasses.from_arrays(rng.integers(0, 256, (30, 28, 28, 1), dtype=np.uint8), np.repeat(np.arange(6), 5))
    hm = hgzoo.tuning.HyperModel(SoSN, fixed={**SMALL, "strength": 10.0, "spectral": False, "n_way": 3},
                                 space={"power_norm": Choice(["sigme", "asinhe"])})
    assert set(hm.space) == {"power_norm"}
    tuner = keras_tuner.GridSearch(hm, "val_loss", max_trials=2, directory=tmp_path, overwrite=True)
    tuner.search(EpisodeSampler(pool, 3, 1, 2, seed=0).dataset(episodes=2),
                 validation_data=EpisodeSampler(pool, 3, 1, 2, seed=1).dataset(episodes=2), epochs=1, verbose=0)
    assert len(tuner.oracle.trials) == 2
    best = tuner.hypermodel.build(tuner.get_best_hyperparameters()[0])
    assert isinstance(best, SoSN) and best.get_config()["power_norm"] in ("sigme", "asinhe")
