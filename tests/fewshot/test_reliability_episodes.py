"""Every few-shot entry point checks the episode it is given, as a direct call does."""

import keras
import numpy as np
import pytest

from hgzoo.errors import InvalidEpisodeError
from hgzoo.fewshot import EpisodeSampler, ImageClasses, SoSN, check_episode, evaluate_episodes

pytestmark = pytest.mark.jax

SMALL = {"image_size": (28, 28), "channels": 1, "relation_filters": 16}
JAX = keras.backend.backend() == "jax"


@pytest.fixture(scope="module")
def model():
    return SoSN(**SMALL)


def episode(n=3, k=1, q=2, size=28):
    rng = np.random.default_rng(0)
    return {"support_images": rng.random((1, n * k, size, size, 1), dtype=np.float32),
            "support_labels": rng.permutation(np.repeat(np.arange(n), k))[None].astype(np.int32),
            "query_images": rng.random((1, q, size, size, 1), dtype=np.float32)}


def changed(**values):
    inputs = episode()
    for key, change in values.items():
        inputs[key] = change(inputs[key])
    return inputs


def with_nan(x):
    x = x.copy()
    x[0, 0, 3, 3, 0] = np.nan
    return x


BAD = {
    "out of range labels": (changed(support_labels=lambda l: l + 5), "every class 0..N-1"),
    "negative labels": (changed(support_labels=lambda l: l - 1), "every class 0..N-1"),
    "unbalanced labels": (dict(episode(n=2, k=2), support_labels=np.array([[0, 0, 0, 1]], np.int32)),
                          "unequal shots"),
    "float labels": (changed(support_labels=lambda l: l.astype(np.float32) + 0.5), "must be integers"),
    "NaN support pixels": (changed(support_images=with_nan), "support_images.*not finite"),
    "NaN query pixels": (changed(query_images=with_nan), "query_images.*not finite"),
    "0-255 float images": (changed(support_images=lambda x: x * 255, query_images=lambda x: x * 255),
                           r"support_images.*0, 1\].*divide.*255"),
    "0-255 uint8 images": (changed(support_images=lambda x: (x * 255).astype(np.uint8),
                                   query_images=lambda x: (x * 255).astype(np.uint8)), r"0, 1\]"),
    "standardised images": (changed(support_images=lambda x: (x - 0.5) / 0.1), r"0, 1\]"),
}

ENTRY_POINTS = {
    "call": lambda m, x: m(x),
    "predict": lambda m, x: m.predict(x, verbose=0),
    "predict list": lambda m, x: m.predict(list(x.values()), verbose=0),
    "predict_on_batch": lambda m, x: m.predict_on_batch(x),
    "evaluate": lambda m, x: m.evaluate(x, np.eye(3, dtype=np.float32)[[[0, 1]]], verbose=0),
    "test_on_batch": lambda m, x: m.test_on_batch(x, np.eye(3, dtype=np.float32)[[[0, 1]]]),
    "evaluate_episodes": lambda m, x: evaluate_episodes(m, [(x, np.eye(3, dtype=np.float32)[[[0, 1]]])],
                                                        verbose=0),
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("bad", list(BAD))
def test_bad_episodes_are_refused_on_every_entry_point(model, entry, bad):
    inputs, message = BAD[bad]
    if entry in ("evaluate", "test_on_batch", "evaluate_episodes") and bad == "unbalanced labels":
        pytest.skip("the target has 3 classes; the label check itself is covered by the other entry points")
    with pytest.raises(InvalidEpisodeError, match=message):
        ENTRY_POINTS[entry](model, inputs)


@pytest.mark.parametrize("entry", ["fit", "train_on_batch"])
def test_training_refuses_bad_episodes(entry):
    model = SoSN(**SMALL, n_way=3 if JAX else None)
    inputs, _ = BAD["0-255 float images"]
    target = np.eye(3, dtype=np.float32)[[[0, 1]]]
    with pytest.raises(InvalidEpisodeError, match=r"0, 1\]"):
        if entry == "fit":
            model.fit(inputs, target, verbose=0)
        else:
            model.train_on_batch(inputs, target)


@pytest.mark.parametrize("entry", ["predict", "evaluate", "fit"])
def test_bad_dataset_is_refused_batch_by_batch(entry):
    import tensorflow as tf

    model = SoSN(**SMALL, n_way=3 if JAX else None)
    inputs, _ = BAD["0-255 float images"]
    target = np.eye(3, dtype=np.float32)[[[0, 1]]]
    good = tf.data.Dataset.from_tensors((episode(), target))
    dataset = good.concatenate(tf.data.Dataset.from_tensors((inputs, target)))  # the second batch is bad
    with pytest.raises(InvalidEpisodeError, match=r"0, 1\]"):
        getattr(model, entry)(dataset, verbose=0)
    # The model is still usable (Keras' JAX loop detaches its variables while it iterates).
    assert np.isfinite(model.predict_on_batch(episode())).all()


def test_good_episodes_still_score(model):
    inputs = episode()
    direct = np.asarray(model(inputs))
    np.testing.assert_allclose(model.predict(inputs, verbose=0), direct, atol=1e-5)
    np.testing.assert_allclose(model.predict_on_batch(inputs), direct, atol=1e-5)
    # Lanczos resizing inside the model is not the caller's concern; nor is a pixel a hair outside [0, 1].
    inputs["query_images"][0, 0, 0, 0, 0] = 1.0001
    assert np.isfinite(model.predict_on_batch(inputs)).all()


def test_sampler_datasets_pass(model):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 28, 28, 1)).astype(np.uint8)
    pool = ImageClasses.from_arrays(images, np.repeat(np.arange(4), 3))
    sampler = EpisodeSampler(pool, n_way=3, k_shot=1, queries=2, seed=0)
    assert model.predict(sampler.dataset(episodes=2), verbose=0).shape == (2, 6, 3)
    assert evaluate_episodes(model, sampler.dataset(episodes=2), verbose=0)["episodes"] == 2


def test_check_episode_names_the_pixel_problem():
    good = episode()
    assert check_episode(*good.values()) == (3, 1)
    with pytest.raises(InvalidEpisodeError, match="not finite"):
        check_episode(good["support_images"], good["support_labels"], with_nan(good["query_images"]))
