"""ScatterAlignmentNet: harness, what fit optimises, training guards, the adapted target classifier and its export."""

import keras
import numpy as np
import pytest

from hgzoo.domain import ScatterAlignmentNet, scatter_alignment_loss, target_accuracy
from hgzoo.errors import HgzooError
from hgzoo.testing import run_export_test, run_model_test
from hgzoo.testing.hypermodel import run_hypermodel_test

SMALL = {"num_classes": 3, "image_size": (8, 8), "filters": (4, 4), "feature_dim": 4}


def batch(n=6, seed=0):
    rng = np.random.default_rng(seed)
    images = [rng.random((n, 8, 8, 1)).astype("float32") for _ in range(2)]
    labels = np.stack([np.arange(n) % 3, np.where(np.arange(n) < n - 1, np.arange(n) % 3, -1)], axis=1)
    return images, labels.astype("int32")


@pytest.mark.jax  # the harness runs under JAX too (the rest of this file is TensorFlow-only to keep CI short)
def test_harness():
    images, labels = batch()
    tensorflow = keras.backend.backend() == "tensorflow"
    run_model_test(ScatterAlignmentNet, {**SMALL, "divergence": "jbld", "unshared_blocks": 1}, images,
                   expected_output_shape=(6, 2, 7), expected_num_trainable_weights=12,
                   expected_num_non_trainable_weights=0, target=labels, float32_outputs=True, atol=1e-4,
                   subprocess_checks=tensorflow,
                   reason="the fresh-process reload and SavedModel checks run in the TensorFlow pass; CI's JAX "
                   "pass has a 30 s budget for this family")


def test_tuner_search_space_builds_and_trains_a_trial():
    images, labels = batch()
    model = run_hypermodel_test(ScatterAlignmentNet, fixed=SMALL, input_data=images, target=labels)
    assert model.get_config()["divergence"] in ("frobenius", "jbld", "airm", "log_euclidean")


def test_loss_is_cross_entropy_of_both_streams_plus_alignment():
    images, labels = batch(seed=1)
    model = ScatterAlignmentNet(**SMALL, divergence="airm", scatter_weight=0.7, mean_weight=0.3,
                                separation_weight=0.2, margin=1.5)
    out = keras.ops.convert_to_numpy(model(images))
    logits, features = out[..., :3], out[..., 3:]

    def cross_entropy(y, z):
        z = z - z.max(-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
        valid = y >= 0
        return -np.mean(logp[valid, y[valid]])

    alignment = scatter_alignment_loss(features[:, 0], labels[:, 0], features[:, 1], labels[:, 1], 3, "airm",
                                       0.7, 0.3, 0.2, 1.5)
    expected = (cross_entropy(labels[:, 0], logits[:, 0]) + cross_entropy(labels[:, 1], logits[:, 1])) / 2 \
        + float(keras.ops.convert_to_numpy(alignment))
    got = float(keras.ops.convert_to_numpy(model.compute_loss(images, labels, model(images))))
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_streams_share_weights_unless_asked():
    images, _ = batch()
    same = keras.ops.convert_to_numpy(ScatterAlignmentNet(**SMALL)([images[0], images[0]]))
    np.testing.assert_allclose(same[:, 0], same[:, 1], atol=1e-6)
    split = keras.ops.convert_to_numpy(ScatterAlignmentNet(**SMALL, unshared_blocks=1)([images[0], images[0]]))
    assert not np.allclose(split[:, 0], split[:, 1])


def test_learns_and_the_target_classifier_is_the_target_stream():
    rng = np.random.default_rng(0)
    y = np.tile(np.arange(3), 20)
    images = rng.random((60, 8, 8, 1)).astype("float32") * 0.2
    for c in range(3):
        images[y == c, :, 2 * c:2 * c + 2] += 0.8  # class c lights up columns 2c, 2c + 1
    keras.utils.set_random_seed(0)
    model = ScatterAlignmentNet(**SMALL, divergence="log_euclidean")
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit([images, images], np.stack([y, y], 1), epochs=15, batch_size=12, verbose=0)
    assert target_accuracy(model, images, y) > 90
    classifier = model.target_classifier()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(classifier(images[:5])), model.predict_target(images[:5]),
                               atol=1e-5)


def test_non_finite_loss_stops_training_with_a_clear_error():
    # A diverging step leaves non-finite weights: the next loss is NaN (never an eigh error from inside
    # TensorFlow), and fit stops there instead of training on.
    images, labels = batch()
    model = ScatterAlignmentNet(**SMALL, divergence="log_euclidean")
    model.compile(optimizer=keras.optimizers.SGD(1e30))
    with pytest.raises(HgzooError, match="training loss became nan at batch 1"):
        model.fit(images, labels, epochs=3, batch_size=3, verbose=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"num_classes": 1}, "num_classes must be at least 2"),
    ({"divergence": "kl"}, "divergence='kl' is unknown"),
    ({"unshared_blocks": 3}, r"unshared_blocks must lie in \[0, 2\]"),
    ({"scatter_weight": float("nan")}, "scatter_weight must be finite"),
    ({"eps": -1.0}, "eps must be finite and >= 0"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ScatterAlignmentNet(**{**SMALL, **kwargs})


def test_bad_labels_and_images():
    images, labels = batch()
    with pytest.raises(ValueError, match=r"labels must be \(batch, 2\)"):
        ScatterAlignmentNet(**SMALL).fit(images, labels[:, 0], epochs=1, verbose=0)
    model = ScatterAlignmentNet(**SMALL)  # a fresh one: JAX leaves a model whose trace failed unusable
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 3\)"):
        model.compute_loss(images, labels + 5, model(images))
    with pytest.raises(ValueError, match=r"images must be \(N, 8, 8, 1\)"):
        model.predict_target(np.zeros((2, 9, 9, 1)))
    with pytest.raises(ValueError, match="NaN"):
        model.predict_target(np.full((2, 8, 8, 1), np.nan))


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="SavedModel export needs TensorFlow")
def test_export_serves_the_adapted_target_classifier():
    images, _ = batch()
    model = ScatterAlignmentNet(**SMALL)
    served = run_export_test(model, {"images": images[1]},
                             {"inputs": {"images": "float32"},
                              "outputs": {"probabilities": "float32", "classes": "int32"}})
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(model.predict_target(images[1])))
    np.testing.assert_allclose(served["probabilities"], expected, atol=1e-5)


def test_a_model_built_in_float16_gets_its_loss_scale_from_its_own_dtype():
    scaled = keras.optimizers.LossScaleOptimizer
    assert isinstance(ScatterAlignmentNet(**SMALL, dtype="mixed_float16").optimizer, scaled)
    assert not isinstance(ScatterAlignmentNet(**SMALL).optimizer, scaled)
