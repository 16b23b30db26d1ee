"""ARL: the wrapper is the base when switched off, soft targets, absolute heads, class ids, errors."""

import keras
import numpy as np
import pytest

from hgzoo.errors import InvalidEpisodeError
from hgzoo.fewshot import ARL, EpisodeSampler, ImageClasses, MlSo, SoSN
from hgzoo.fewshot.class_embeddings import alphabet_embeddings
from hgzoo.fewshot.data.class_id_episodes import PseudoClassSampler
from hgzoo.testing import run_model_test

# Backend-agnostic. The JAX pass (tests marked jax) runs the exactness and bad-input checks by default
# and the harness under -m slow.

JAX = keras.backend.backend() == "jax"


def jax_slow(test):
    """The harness compiles many XLA programs (fit, two mixed policies, a reload): -m slow on JAX."""
    return pytest.mark.slow(test) if JAX else test
NAMES = ("support_images", "support_labels", "query_images")
SOSN = {"image_size": (28, 28), "channels": 1, "relation_filters": 8, "relation_hidden": 4, "n_way": 3}


def episode(b=1, n=3, k=1, q=2, size=28, seed=0, class_ids=None):
    rng = np.random.default_rng(seed)
    labels = np.stack([rng.permutation(np.repeat(np.arange(n), k)) for _ in range(b)]).astype(np.int32)
    x = dict(
        zip(
            NAMES,
            [
                rng.random((b, n * k, size, size, 1), dtype=np.float32),
                labels,
                rng.random((b, q, size, size, 1), dtype=np.float32),
            ],
        )
    )
    if class_ids is not None:
        x["class_ids"] = np.asarray(class_ids, np.int32)
    return x


def target(b=1, q=2, n=3):
    return np.eye(n, dtype=np.float32)[np.tile(np.arange(q) % n, (b, 1))]


def embeddings(rows=8, dim=4, seed=0):
    return np.random.default_rng(seed).random((rows, dim)).astype(np.float32)


@pytest.mark.jax
@jax_slow
def test_arl_harness():
    base = keras.saving.serialize_keras_object(SoSN(**SOSN))
    run_model_test(
        ARL,
        {"base": base, "class_embeddings": embeddings()},
        list(episode(b=2, k=2, q=4).values()),
        expected_output_shape=(2, 4, 3),
        value_dependent_axes=(2,),
        expected_num_trainable_weights=40,
        expected_num_non_trainable_weights=17,
        target=target(2, 4),
        float32_outputs=True,
        atol=1e-4,
    )


@pytest.mark.jax
def test_switched_off_it_is_the_base_exactly():
    keras.utils.set_random_seed(0)
    base, twin = SoSN(**SOSN), SoSN(**SOSN)
    twin.set_weights(base.get_weights())
    model = ARL(twin, relative_weight=0.0, absolute_weight=0.0)
    x = episode(b=2, k=2, q=3)
    np.testing.assert_array_equal(model.predict_on_batch(x), base.predict_on_batch(x))
    if JAX:
        return  # the training half runs on TensorFlow: un-jitted JAX training steps take tens of seconds
    # ... and trains as the base: one step from equal weights gives equal weights.
    y = target(2, 3)
    for m in (base, model):
        m.compile(run_eagerly=True)  # one eager step each: no traces to compile
    base.train_on_batch(x, y)
    model.train_on_batch({**x, "class_ids": np.array([[0, 1, 2], [3, 4, 5]], np.int32)}, y)
    for a, b in zip(base.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_switched_on_it_predicts_as_the_base():
    base = SoSN(**SOSN)
    model = ARL(base, class_embeddings=embeddings())
    x = episode()
    np.testing.assert_array_equal(model.predict_on_batch(x), base.predict_on_batch(x))
    assert model.serving_signature()[0].keys() == base.serving_signature()[0].keys()


def test_relative_targets_come_from_embedding_similarity():
    """Classes 0 and 1 have the same embedding: a class-0 query's target for class 1 is the relative share."""
    e = np.array([[1, 0], [1, 0], [0, 1]], np.float32)
    model = ARL(SoSN(**SOSN), class_embeddings=e, relative_weight=0.25, absolute_weight=0.0)
    x = episode(class_ids=[[0, 1, 2]])
    scores = np.full((1, 2, 3), 0.5, np.float32)
    y = target()  # query 0 is class 0, query 1 class 1
    soft = np.array([[[1.0, 0.25, 0.0], [0.25, 1.0, 0.0]]], np.float32)
    loss = float(model.compute_loss(x, y, keras.ops.convert_to_tensor(scores)))
    assert loss == pytest.approx(float(np.mean((soft - scores) ** 2)), rel=1e-5)
    # Without class ids (e.g. evaluation episodes) the target stays one-hot.
    plain = float(model.compute_loss(episode(), y, keras.ops.convert_to_tensor(scores)))
    assert plain == pytest.approx(float(np.mean((y - scores) ** 2)), rel=1e-5)


def test_fit_trains_the_absolute_heads_on_class_id_episodes():
    rng = np.random.default_rng(0)
    pool = ImageClasses.from_arrays(
        rng.integers(0, 256, (32, 28, 28, 1), dtype=np.uint8), np.repeat(np.arange(8), 4)
    )
    model = ARL(SoSN(**SOSN), class_embeddings=embeddings(8))
    heads = [model.get_layer("arl_label").kernel, model.get_layer("arl_embedding").kernel]
    before = [np.array(v) for v in heads]
    model.compile(run_eagerly=True)
    history = model.fit(EpisodeSampler(pool, 3, 1, 2, class_ids=True).dataset(episodes=3), verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    for old, v in zip(before, heads):
        assert not np.allclose(old, np.array(v))


def test_class_id_episodes_name_the_pool_classes():
    images = np.repeat(np.arange(6, dtype=np.uint8) * 40, 3)[:, None, None, None] * np.ones(
        (1, 8, 8, 1), np.uint8
    )
    pool = ImageClasses.from_arrays(images, np.repeat(np.arange(6), 3))
    sampler = EpisodeSampler(pool, n_way=3, k_shot=2, queries=1, seed=3, class_ids=True)
    for i in range(3):
        x, y = sampler.episode(i)
        plain, _ = EpisodeSampler(pool, n_way=3, k_shot=2, queries=1, seed=3).episode(i)
        assert "class_ids" not in plain
        np.testing.assert_array_equal(x["support_images"], plain["support_images"])
        # image value / 40 is its pool class
        classes = np.round(x["support_images"][:, 0, 0, 0] * 255 / 40).astype(int)
        np.testing.assert_array_equal(classes, x["class_ids"][x["support_labels"]])


def test_unsupervised_pseudo_class_episodes_train():
    rng = np.random.default_rng(0)
    pool = ImageClasses.from_arrays(
        rng.integers(0, 256, (10, 28, 28, 1), dtype=np.uint8), np.repeat(np.arange(2), 5)
    )
    sampler = PseudoClassSampler(pool, n_way=3, k_shot=2, queries=1)
    x, y = sampler.episode(0)
    assert (
        x["support_images"].shape == (6, 28, 28, 1) and x["class_ids"].max() < len(pool) and y.shape == (3, 3)
    )
    model = ARL(SoSN(**SOSN), num_classes=len(pool))
    x, y = {k: v[None] for k, v in x.items()}, y[None]
    scores, labels = model(x, training=True)  # the instance head over all 10 pool images
    assert tuple(labels.shape) == (9, 10)
    relation = float(model.base.compute_loss(x, y, scores))
    assert float(model.compute_loss(x, y, (scores, labels))) > relation


def test_arl_over_mlso_uses_its_feature_layer():
    base = MlSo(
        image_size=(28, 28),
        channels=1,
        filters=16,
        width=48,
        levels=(4,),
        scales=(1.0,),
        relation_filters=8,
        discriminator_weight=0.0,
        n_way=3,
    )
    model = ARL(base, num_classes=5)
    x = episode()
    np.testing.assert_array_equal(model.predict_on_batch(x), base.predict_on_batch(x))
    assert model.get_config()["feature_layer"] == "features"


def test_wrong_embedding_rows_are_refused_with_the_expected_shape():
    with pytest.raises(
        ValueError, match=r"has 5 rows but there are 8 training classes: expected shape \(8, 4\)"
    ):
        ARL(SoSN(**SOSN), class_embeddings=embeddings(5), num_classes=8)


@pytest.mark.jax
@pytest.mark.parametrize(
    "class_ids,message",
    [
        ([[0, 1, 9]], r"class_ids must be integers in \[0, 8\)"),
        ([[0, 1]], r"class_ids must be \(B, N\) = \(1, 3\)"),
    ],
)
def test_bad_class_ids_name_the_tensor(class_ids, message):
    model = ARL(SoSN(**SOSN), class_embeddings=embeddings())
    with pytest.raises(InvalidEpisodeError, match=message):
        model.train_on_batch(episode(class_ids=class_ids), target())


def test_bad_class_ids_in_a_tf_data_batch_are_refused_by_name():
    tf = pytest.importorskip("tensorflow")
    model = ARL(SoSN(**SOSN), class_embeddings=embeddings())
    good, bad = episode(class_ids=[[0, 1, 2]]), episode(class_ids=[[0, 1, 9]])
    dataset = tf.data.Dataset.from_tensors((good, target())).concatenate(tf.data.Dataset.from_tensors((bad, target())))
    with pytest.raises(InvalidEpisodeError, match=r"class_ids must be integers in \[0, 8\)"):
        model.fit(dataset, epochs=1, verbose=0)


@pytest.mark.jax
def test_bad_episodes_name_the_tensor():
    model = ARL(SoSN(**{**SOSN, "n_way": None}), class_embeddings=embeddings())
    x = episode()
    with pytest.raises(InvalidEpisodeError, match="support_images are not finite"):
        model({**x, "support_images": x["support_images"] * np.nan})
    with pytest.raises(InvalidEpisodeError, match="takes 1-channel images"):
        model.predict_on_batch({k: np.repeat(v, 3, -1) if v.ndim == 5 else v for k, v in x.items()})


def test_invalid_arguments():
    with pytest.raises(ValueError, match="needs class_embeddings"):
        ARL(SoSN(**SOSN), num_classes=4, relative_weight=0.5)
    with pytest.raises(ValueError, match="needs the number of training classes"):
        ARL(SoSN(**SOSN))
    with pytest.raises(TypeError, match="hgzoo few-shot model"):
        ARL(keras.Sequential())


def test_alphabet_embeddings_give_omniglot_structure():
    e = alphabet_embeddings(["bg/Greek/character01", "bg/Greek/character02", "bg/Latin/character01"])
    cos = e @ e.T
    np.testing.assert_allclose(cos, [[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]], atol=1e-6)


@pytest.mark.slow  # loads the packaged MiniLM through PyTorch (about 15 s)
def test_sentence_embeddings_of_class_names_relate_related_names():
    pytest.importorskip("transformers")
    from hgzoo.fewshot.class_embeddings import sentence_embeddings

    e = sentence_embeddings(["dog", "puppy", "airplane"], cache_dir=False)
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    assert e.shape == (3, 384) and e[0] @ e[1] > e[0] @ e[2] + 0.2
    ARL(SoSN(**SOSN), class_embeddings=e)  # rows = classes: accepted as a class-embedding matrix


def test_wraps_salnet_relative_part():
    """SalNet's saliency maps are computed from the episode inside ARL's graph: off, it is SalNet exactly."""
    from hgzoo.fewshot import SalNet

    keras.utils.set_random_seed(0)
    base, twin = SalNet(image_size=(28, 28), channels=1), SalNet(image_size=(28, 28), channels=1)
    twin.set_weights(base.get_weights())
    x = episode()
    np.testing.assert_array_equal(ARL(twin, relative_weight=0.0, absolute_weight=0.0).predict_on_batch(x),
                                  base.predict_on_batch(x))
    model = ARL(SalNet(image_size=(28, 28), channels=1), class_embeddings=embeddings(), absolute_weight=0.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    assert np.isfinite(model.train_on_batch(episode(class_ids=[[0, 3, 5]]), target())).all()
