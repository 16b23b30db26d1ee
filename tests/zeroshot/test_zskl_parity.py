"""ZSKL against the official MATLAB code's own outputs (zskl_reference.mat): pre-processing, loss and
gradient at W0, W along the RMSProp trajectory, final scores and GBU accuracies."""

import keras
import numpy as np
import pytest

from hgzoo.zeroshot import ZSKL, evaluate_zskl, load_gbu, normalise_attributes, normalise_features, zskl_loss

pytestmark = pytest.mark.jax


@pytest.fixture(scope="module")
def problem(zskl_reference, zsl_dir):
    r = zskl_reference
    data = load_gbu(zsl_dir, features="zskl_reference.mat", att_splits="zskl_reference.mat")
    trainval = data.splits["trainval"]
    order = trainval[r["order"].reshape(-1).astype(int) - 1]  # `order` indexes trainval_loc, 1-based
    return r, data, data.preprocessed(), order


def relative(a, b):
    return float(np.max(np.abs(np.asarray(a, np.float64) - b)) / np.max(np.abs(b)))


def train_model(data, dtype=None):
    seen = data.seen_classes
    return ZSKL(feature_dim=data.features.shape[1], attribute_dim=data.attributes.shape[1], num_classes=len(seen),
                class_embeddings=data.attributes[seen], dtype=dtype)


def loss_and_gradient(model, x, y):
    """The released loss of one sample and its gradient with respect to W, by the backend's autodiff."""
    layer = model.compatibility
    if keras.backend.backend() == "jax":
        import jax

        def f(w):
            kernels, _ = layer.stateless_call([w], [v.value for v in layer.non_trainable_variables], x)
            return zskl_loss(kernels, y)[0]

        value, grad = jax.value_and_grad(f)(layer.projection.value)
        return float(value), np.asarray(grad)
    import tensorflow as tf

    with tf.GradientTape() as tape:
        value = zskl_loss(layer(x), y)[0]
    return float(value), tape.gradient(value, layer.projection.value).numpy()


def test_official_preprocessing(problem):
    r, data, pre, _ = problem
    np.testing.assert_allclose(pre.features, r["features_normalised"].T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pre.attributes, r["att_normalised"].T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(normalise_features(data.features, data.splits["trainval"]), pre.features)
    np.testing.assert_allclose(normalise_attributes(data.attributes), pre.attributes)


def test_loss_gradient_and_energies_at_w0(problem):
    # MATLAB computes the first loss and gradient in double precision (W0 and the features are double).
    r, _, pre, order = problem
    model = train_model(pre, dtype="float64")
    model.compatibility.projection.assign(r["W0"])
    x, label = pre.features[order[:1]], pre.labels[order[0]]
    y = np.searchsorted(pre.seen_classes, [label])
    value, grad = loss_and_gradient(model, x, y)
    assert abs(value - r["f1"].item()) / abs(r["f1"].item()) < 1e-6
    assert relative(grad, r["df1"]) < 1e-6
    energies = -np.asarray(model.predict_on_batch(x))[0]
    assert relative(energies, r["pred1"].reshape(-1)) < 1e-6


def test_rmsprop_trajectory_in_single_precision(problem):
    r, _, pre, order = problem
    model = train_model(pre)
    model.compile(steps_per_execution=50)  # the same batch-1 steps, fewer round trips to the graph
    model.compatibility.projection.assign(r["W0"].astype(np.float32))
    steps = int(r["numIters"].item())
    feed = order[np.arange(steps) % len(order)]  # the official loop cycles through one permutation
    x, y = pre.features[feed].astype(np.float32), np.searchsorted(pre.seen_classes, pre.labels[feed])
    done = 0
    for until, key, tolerance in ((1, "W_1", 1e-5), (10, "W_10", 1e-5), (100, "W_100", 1e-5),
                                  (steps, "W_final", 1e-5)):
        model.fit(x[done:until], y[done:until], batch_size=1, epochs=1, shuffle=False, verbose=0)
        done = until
        assert relative(keras.ops.convert_to_numpy(model.compatibility.projection), r[key]) < tolerance, key


def test_final_scores_and_gbu_accuracies(problem):
    r, _, pre, _ = problem
    model = train_model(pre)
    model.compatibility.projection.assign(r["W_final"])
    x_u, _ = pre.split("test_unseen")
    x_s, _ = pre.split("test_seen")
    assert relative(-model.score_classes(x_u, pre.attributes[pre.unseen_classes]), r["zsl_scores"]) < 1e-5
    assert relative(-model.score_classes(x_u, pre.attributes), r["gu_scores"]) < 1e-5
    assert relative(-model.score_classes(x_s, pre.attributes), r["gs_scores"]) < 1e-5
    result = evaluate_zskl(model, pre)
    for ours, theirs in (("zsl", "zsl"), ("u", "gzsl_u"), ("s", "gzsl_s"), ("H", "gzsl_H")):
        assert result[ours] == pytest.approx(r[theirs].item(), abs=1e-9), ours
