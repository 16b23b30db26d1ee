"""LLMEmbed head and StreamProjection: harness, faithfulness to the official wiring, export."""

import keras
import numpy as np
import pytest

from hgzoo.testing import run_export_test, run_layer_test, run_model_test
from hgzoo.text import LLMEmbed, StreamProjection

pytestmark = pytest.mark.jax  # backend-agnostic: CI runs this file under JAX too

SMALL = {"num_classes": 3, "num_layers": 3, "feature_dim": 8, "projection_dim": 16, "hidden_units": (16, 8)}


def features(n=4, layers=3, dim=8, seed=0):
    return np.random.default_rng(seed).normal(size=(n, layers, dim)).astype("float32")


def test_stream_projection_harness():
    run_layer_test(StreamProjection, {"units": 4, "activation": "relu"}, [features(2, 3, 5)],
                   expected_output_shape=(2, 3, 4), expected_num_trainable_weights=2,
                   expected_num_non_trainable_weights=0, dynamic_axes=())


def test_stream_projection_is_one_dense_per_stream():
    x = features(5, 3, 6)
    layer = StreamProjection(4)
    y = keras.ops.convert_to_numpy(layer(x))
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in (layer.kernel, layer.bias))
    for stream in range(3):
        np.testing.assert_allclose(y[:, stream], x[:, stream] @ kernel[stream] + bias[stream], rtol=1e-5, atol=1e-5)


def test_llmembed_harness():
    run_model_test(LLMEmbed, SMALL, [features()], expected_output_shape=(4, 3), expected_num_trainable_weights=8,
                   expected_num_non_trainable_weights=0, target=np.array([0, 1, 2, 1]),
                   float32_outputs=True, atol=1e-4)


def test_llmembed_harness_with_extra_encoders():
    kwargs = {**SMALL, "extra_dims": (16, 5)}  # one stacked as is (already projection wide), one projected
    rng = np.random.default_rng(1)
    inputs = [features(), rng.normal(size=(4, 16)).astype("float32"), rng.normal(size=(4, 5)).astype("float32")]
    model = run_model_test(LLMEmbed, kwargs, inputs, expected_output_shape=(4, 3), expected_num_trainable_weights=10,
                           expected_num_non_trainable_weights=0, target=np.array([0, 1, 2, 1]), atol=1e-4,
                           mixed_precision=False, subprocess_checks=False,
                           reason="test_llmembed_harness runs these for LLMEmbed; extra encoders add Dense and "
                           "Reshape layers, no dtype or saved state of their own")
    assert [i.name for i in model.inputs] == ["layer_embeddings", "extra_embeddings_0", "extra_embeddings_1"]
    assert "extra_projection_1" in [l.name for l in model.layers] and "extra_projection_0" not in [
        l.name for l in model.layers]


def test_parameter_count_of_the_published_head():
    # LLaMA-2 7B (5 layers × 4096) + BERT-large + RoBERTa-large (1024 each), 2 classes: ≈ 25.49 M (papers.md §14).
    assert LLMEmbed(2, num_layers=5, feature_dim=4096, extra_dims=(1024, 1024)).count_params() == 25_485_058


def test_fused_vector_is_sigme_of_the_stream_gram_and_the_layer_mean():
    sigma = 0.05
    model = LLMEmbed(**SMALL, sigma=sigma)
    x = features(2)
    fused = keras.Model(model.inputs[0], model.get_layer("fused").output)(x, training=False)
    layer = model.get_layer("layer_projection")
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in (layer.kernel, layer.bias))
    streams = np.maximum(np.einsum("bld,ldu->blu", x, kernel) + bias, 0.0)  # (B, S, P)
    gram = streams @ streams.transpose(0, 2, 1)  # XXᵀ, unscaled, as in the official code
    expected = np.concatenate([(2 / (1 + np.exp(-sigma * gram)) - 1).reshape(2, -1), x.mean(1)], axis=1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(fused), expected, rtol=1e-4, atol=1e-5)


def test_logits_by_default_double_softmax_on_request():
    x = features()
    logits = keras.ops.convert_to_numpy(LLMEmbed(**SMALL)(x))
    probabilities = keras.ops.convert_to_numpy(LLMEmbed(**SMALL, double_softmax=True)(x))
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
    assert not np.allclose(logits.sum(-1), 1.0)


def test_learns_a_separable_problem():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    x = rng.normal(size=(300, 3, 8)).astype("float32") * 0.3
    x[np.arange(300), :, y] += 2.0  # class c lights up feature c in every layer
    keras.utils.set_random_seed(0)
    model = LLMEmbed(**SMALL, dropout=0.1)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert np.mean(model.predict(x, verbose=0).argmax(-1) == y) > 0.95


@pytest.mark.parametrize("kwargs, message", [
    ({"num_classes": 1}, "num_classes must be at least 2"),
    ({"num_classes": 2, "class_names": ["a"]}, "1 class_names for num_classes=2"),
    ({"num_classes": 2, "dropout": 1.0}, r"dropout must lie in \[0, 1\)"),
    ({"num_classes": 2, "sigma": 0}, "sigma must be positive"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LLMEmbed(**kwargs)


def test_config_keeps_classes_and_encoder(tmp_path):
    encoder = {"backbone": "all-MiniLM-L6-v2", "layers": [-1, -2, -3], "pooling": "mean", "max_length": 128,
               "precision": "float32"}
    model = LLMEmbed(**SMALL, class_names=["neg", "neu", "pos"], encoder=encoder)
    path = tmp_path / "head.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.class_names == ["neg", "neu", "pos"] and loaded.encoder == encoder


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="SavedModel export needs TensorFlow")
def test_export_for_serving():
    model = LLMEmbed(**SMALL)
    x = features()
    served = run_export_test(model, {"layer_embeddings": x}, {"inputs": {"layer_embeddings": "float32"},
                                                              "outputs": {"probabilities": "float32", "classes": "int32"}})
    expected = keras.ops.convert_to_numpy(keras.ops.softmax(model(x, training=False)))
    np.testing.assert_allclose(served["probabilities"], expected, atol=1e-5)
    assert served["classes"].tolist() == expected.argmax(-1).tolist()
    with pytest.raises(ValueError, match="serves float32 embeddings"):
        model.serving_signature("uint8")


def test_standardized_inputs_adapt_and_survive_saving(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3, 8)).astype("float32")
    x[:, :, 2] = 4000 + 50 * x[:, :, 2]  # a decoder LLM's massive activation dimension
    extra = (rng.normal(size=(32, 5)) * 30 + 7).astype("float32")
    head = LLMEmbed(**{**SMALL, "extra_dims": (5,)}, standardize=True)
    head.adapt([x, extra])
    standardized = keras.ops.convert_to_numpy(head.get_layer("layer_standardize")(x))
    np.testing.assert_allclose(standardized.mean(0), 0, atol=1e-3)
    np.testing.assert_allclose(standardized.std(0), 1, atol=1e-3)
    path = tmp_path / "head.keras"
    head.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path).predict([x, extra], verbose=0),
                               head.predict([x, extra], verbose=0), atol=1e-5)
    with pytest.raises(ValueError, match="needs 2 arrays"):
        head.adapt(x)
    with pytest.raises(ValueError, match="built with standardize=True"):
        LLMEmbed(**SMALL).adapt(x)


def test_ablation_without_co_occurrence_concatenates_the_streams():
    head = LLMEmbed(**SMALL, extra_dims=(16,), co_occurrence=False)
    names = [layer.name for layer in head.layers]
    assert "co_occurrence" not in names and "power_norm" not in names
    # 4 streams of 16 (3 layers + 1 encoder), then the mean of the raw layers (8)
    assert head.get_layer("fc1").kernel.shape == (4 * 16 + 8, 16)
    clone = LLMEmbed.from_config(head.get_config())
    assert clone.get_config()["co_occurrence"] is False
    assert LLMEmbed(**SMALL).get_layer("fc1").kernel.shape == (3 * 3 + 8, 16)  # the paper: S² Gram values + mean
