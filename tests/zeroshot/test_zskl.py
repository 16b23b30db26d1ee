"""ZSKL: harness, kernels, the loss, orthogonality, swapping classes, serving, training with selection."""

import keras
import numpy as np
import pytest

from hgzoo.testing import run_export_test, run_layer_test, run_model_test
from hgzoo.zeroshot import (KERNELS, ZSKL, KernelCompatibility, OrthonormalColumns, VLFeatRMSprop, ZSLData, energies,
                            normalise_attributes, normalise_features, train_zskl, zskl_loss)


RNG = np.random.default_rng(0)
ATT = normalise_attributes(RNG.random((5, 4))).astype(np.float32)
X = normalise_features(RNG.random((6, 12))).astype(np.float32)


def small(**kwargs):
    return {"feature_dim": 12, "attribute_dim": 4, "num_classes": 5, "seed": 1, **kwargs}


@pytest.mark.jax  # CI's JAX pass runs the harness too
def test_zskl_harness():
    run_model_test(ZSKL, small(), [X], expected_output_shape=(6, 5), expected_num_trainable_weights=1,
                   expected_num_non_trainable_weights=1, target=np.arange(6) % 5, float32_outputs=True)


def test_kernel_compatibility_harness():
    run_layer_test(KernelCompatibility, {"num_classes": 5, "attribute_dim": 4, "kernel": "cauchy"}, [X],
                   expected_output_shape=(6, 5, 2), float32_outputs=True, subprocess_checks=False,
                   reason="test_zskl_harness loads this layer inside ZSKL in a fresh process already")


def test_kernels_match_their_formulas():
    w = RNG.random((12, 4)).astype(np.float32) / 6
    u, v = X @ w, ATT @ w.T  # projected features (B, A), projected class embeddings (C, D)
    d1 = ((u[:, None] - ATT[None]) ** 2).sum(-1)
    d2 = ((v[None] - X[:, None]) ** 2).sum(-1)
    expected = {"gaussian": (np.exp(-d1 / (2 * 0.7 ** 2)), np.exp(-d2 / (2 * 0.7 ** 2))),
                "cauchy": (1 / (1 + d1 / 0.7 ** 2), 1 / (1 + d2 / 0.7 ** 2)),
                "polynomial": (((u @ ATT.T + 1) / 2) ** 3, ((X @ v.T + 1) / 2) ** 3)}
    for kernel in KERNELS:
        layer = KernelCompatibility(5, 4, kernel=kernel, sigma=0.7, degree=3)
        layer.build(X.shape)
        layer.projection.assign(w)
        layer.set_class_embeddings(ATT)
        k = keras.ops.convert_to_numpy(layer(X))
        np.testing.assert_allclose(k[..., 0], expected[kernel][0], rtol=1e-5, atol=1e-6, err_msg=kernel)
        np.testing.assert_allclose(k[..., 1], expected[kernel][1], rtol=1e-5, atol=1e-6, err_msg=kernel)


def test_loss_on_a_hand_made_case():
    # two samples, three classes, beta 2: negatives weigh 2 / (3 - 1) = 1
    k = np.array([[[0.5, 1.0], [0.0, 0.5], [1.0, 0.0]],
                  [[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]]], np.float32)
    loss = keras.ops.convert_to_numpy(zskl_loss(k, np.array([0, 1]), beta=2.0))
    np.testing.assert_allclose(loss, [0.25 + 0.25 + 1.0, 0.0], atol=1e-7)
    # the prediction rule: least (k1-1)^2 + (k2-1)^2, the first class on ties
    np.testing.assert_allclose(keras.ops.convert_to_numpy(energies(k))[1], [2.0, 0.0, 2.0])
    model = ZSKL(**small(num_classes=3, attribute_dim=4), class_embeddings=np.zeros((3, 4)))
    assert model.predict_on_batch(X[:2]).argmax(1).tolist() == [0, 0]


def test_vlfeat_rmsprop_puts_epsilon_outside_the_root():
    w = keras.Variable(np.zeros(3, np.float32))
    opt = VLFeatRMSprop(learning_rate=0.1, rho=0.5, epsilon=0.5)
    grads = np.array([2.0, -4.0, 0.0], np.float32)
    for step in range(2):
        opt.apply([keras.ops.convert_to_tensor(grads)], [w])
    g2_1 = 0.5 * grads ** 2
    g2_2 = 0.5 * g2_1 + 0.5 * grads ** 2
    expected = -0.1 * grads / (np.sqrt(g2_1) + 0.5) - 0.1 * grads / (np.sqrt(g2_2) + 0.5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(w), expected, rtol=1e-6)


def test_orthogonality_options():
    data = ZSLData(RNG.random((40, 12)), np.repeat(np.arange(5), 8), RNG.random((5, 4)),
                   {"trainval": np.arange(24), "test_seen": np.arange(24), "test_unseen": np.arange(24, 40)})
    retracted, _ = train_zskl(data, iterations=20, selection="last", seed=0, orthogonality="retraction")
    w = keras.ops.convert_to_numpy(retracted.compatibility.projection)
    np.testing.assert_allclose(w.T @ w, np.eye(4), atol=1e-5)
    plain, _ = train_zskl(data, iterations=20, selection="last", seed=0)
    penalised, _ = train_zskl(data, iterations=20, selection="last", seed=0, orthogonality="penalty",
                              orthogonality_weight=10.0)
    gap = [np.linalg.norm(m.compatibility.orthogonality_penalty()) for m in (plain, penalised)]
    assert gap[1] < gap[0]
    w = OrthonormalColumns()(RNG.random((6, 3)).astype(np.float32))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(w).T @ keras.ops.convert_to_numpy(w), np.eye(3), atol=1e-5)
    wide = keras.ops.convert_to_numpy(OrthonormalColumns()(RNG.random((3, 6)).astype(np.float32)))
    np.testing.assert_allclose(wide @ wide.T, np.eye(3), atol=1e-5)  # fewer features than attributes: rows


def test_swapping_class_embeddings():
    model = ZSKL(**small(), class_embeddings=ATT)
    full = model.predict_on_batch(X)
    unseen = model.with_classes(ATT[3:])
    np.testing.assert_allclose(unseen.predict_on_batch(X), full[:, 3:], rtol=1e-6)
    np.testing.assert_allclose(model.score_classes(X, ATT[[4, 0]]), full[:, [4, 0]], rtol=1e-6)
    model.set_class_embeddings(ATT[::-1])
    np.testing.assert_allclose(model.predict_on_batch(X), full[:, ::-1], rtol=1e-6)
    with pytest.raises(ValueError, match="with_classes"):
        model.set_class_embeddings(ATT[:2])
    with pytest.raises(ValueError, match="NaN"):
        model.with_classes(np.full((2, 4), np.nan))


def test_compile_refuses_another_loss():
    with pytest.raises(ValueError, match="released loss"):
        ZSKL(**small()).compile(loss="mse")


def test_validation_selection_never_reads_the_test_set():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(8), 5)
    features = rng.random((40, 12))
    splits = {"trainval": np.arange(25), "train": np.arange(15), "val": np.arange(15, 25),
              "test_seen": np.arange(0, 25, 5), "test_unseen": np.arange(25, 40)}
    data = ZSLData(features, labels, rng.random((8, 4)), splits)
    poisoned = features.copy()
    poisoned[25:] = rng.random((15, 12))  # other test features: the validation choice must not change
    runs = [train_zskl(ZSLData(f, labels, data.attributes, splits), iterations=20, eval_every=10, seed=3)[1]
            for f in (features, poisoned)]
    assert runs[0]["trace"] == runs[1]["trace"] and runs[0]["selection"] == "validation"
    _, reproduction = train_zskl(data, iterations=20, eval_every=10, seed=3, selection="test_set_reproduction")
    assert reproduction["selected_iterations"] in (10, 20)
    with pytest.raises(ValueError, match="selection"):
        train_zskl(data, selection="best")


def test_zskl_serving_export():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("SavedModel export needs the TensorFlow backend")
    model = ZSKL(**small(), class_embeddings=ATT)
    served = run_export_test(model, {"features": X},
                             {"inputs": {"features": "float32"}, "outputs": {"classes": "int32", "scores": "float32"}})
    np.testing.assert_allclose(served["scores"], model.predict_on_batch(X), rtol=1e-5, atol=1e-6)
