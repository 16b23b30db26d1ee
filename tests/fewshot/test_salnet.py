"""SalNet: harness, hallucination and grouping details, saliency, training with TriR, errors."""

import keras
import numpy as np
import pytest

from hgzoo.errors import InvalidEpisodeError
from hgzoo.fewshot import SalNet, SpectralResidualSaliency
from hgzoo.fewshot.batch_norm import EpisodeBatchNorm
from hgzoo.fewshot.clipping import ModuleClippedAdam, clip_by_module
from hgzoo.testing import run_layer_test, run_model_test

JAX = keras.backend.backend() == "jax"
SMALL = {"image_size": (28, 28)}  # 28×28 images: 5×5 feature maps; the relation net needs filters >= 62


def episode(b=1, n=3, k=1, q=2, size=28, seed=0, saliency=False):
    rng = np.random.default_rng(seed)
    labels = np.stack([rng.permutation(np.repeat(np.arange(n), k)) for _ in range(b)]).astype(np.int32)
    x = {"support_images": rng.random((b, n * k, size, size, 3), dtype=np.float32), "support_labels": labels,
         "query_images": rng.random((b, q, size, size, 3), dtype=np.float32)}
    if saliency:
        x["support_saliency"] = rng.random((b, n * k, size, size), dtype=np.float32)
        x["query_saliency"] = rng.random((b, q, size, size), dtype=np.float32)
    return x


@pytest.fixture(scope="module")
def intra():
    return SalNet(hallucination="intra", **SMALL)


@pytest.mark.jax  # also in CI's JAX pass (the rest is backend-agnostic code, tested on TF)
def test_salnet_harness():
    x = episode(b=2, n=3, k=2, q=2)
    arrays = [x["support_images"], x["support_labels"], x["query_images"]]
    target = np.eye(3, dtype=np.float32)[[[0, 1]] * 2]
    kwargs = {**SMALL, "hallucination": "inter", "n_way": 3 if JAX else None}
    other = episode(n=3, k=1, q=3, size=36)
    run_model_test(SalNet, kwargs, arrays, expected_output_shape=(2, 2, 3), value_dependent_axes=(2,),
                   expected_num_trainable_weights=72, expected_num_non_trainable_weights=34,
                   other_input_data=[other["support_images"], other["support_labels"], other["query_images"]],
                   target=target, float32_outputs=True, atol=1e-4, subprocess_checks=False,
                   reason="time budget: the fresh-process and TF-only serving round trips of SalNet run in "
                          "test_serving_export_with_and_without_saliency_inputs (slow)")


def test_spectral_residual_harness():
    run_layer_test(SpectralResidualSaliency, {"working_size": 16, "sigma": 2.0},
                   [np.random.default_rng(0).random((2, 20, 24, 3), dtype=np.float32)], expected_output_shape=(2, 20, 24),
                   dynamic_axes=(1, 2), train=False, mixed_precision_fit=False, subprocess_checks=False,
                   float32_outputs=True, reason="no weights to train (its output is a float32 map by design); the "
                   "fresh-process and SavedModel checks run on SalNet, which computes these maps inside")


@pytest.mark.jax  # also in CI's JAX pass (the rest is backend-agnostic code, tested on TF)
def test_saliency_peaks_on_the_object_of_a_synthetic_scene():
    image = np.full((1, 84, 84, 3), [0.45, 0.5, 0.55], np.float32)  # a flat background
    image[0, 22:46, 40:66] = [0.9, 0.25, 0.1]  # one object
    saliency = np.asarray(SpectralResidualSaliency()(image))[0]
    inside = np.zeros((84, 84), bool)
    inside[22:46, 40:66] = True
    near = np.zeros((84, 84), bool)
    near[20:48, 38:68] = True  # the spectral residual peaks at the object's outline: allow its 2-px border
    y, x = np.unravel_index(saliency.argmax(), saliency.shape)
    assert near[y, x], f"the peak {(y, x)} is off the object"
    assert saliency[inside].mean() > 2 * saliency[~near].mean()
    assert saliency.min() >= 0 and saliency.max() == pytest.approx(1.0)


@pytest.mark.jax  # also in CI's JAX pass (the rest is backend-agnostic code, tested on TF)
def test_batch_statistics_are_per_group():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 3, 3, 4)).astype(np.float32) * np.arange(1, 7)[:, None, None, None]
    groups = np.eye(2, dtype=np.float32)[[0, 0, 1, 1, 1, 0]]
    y = np.asarray(EpisodeBatchNorm(epsilon=0.0)(x, groups))
    for g in (0, 1):
        rows = groups[:, g] == 1
        expected = (x[rows] - x[rows].mean((0, 1, 2))) / x[rows].std((0, 1, 2))
        np.testing.assert_allclose(y[rows], expected, atol=1e-4)
    moving = EpisodeBatchNorm(statistics="moving", epsilon=0.0)
    np.testing.assert_allclose(np.asarray(moving(x, groups)), x, atol=1e-6)  # fresh averages: mean 0, variance 1


@pytest.mark.parametrize("statistics", ["batch", "moving"])
def test_statistics_switch_decides_whether_queries_interact(statistics, intra):
    model = intra if statistics == "batch" else SalNet(hallucination="intra", batch_norm_statistics="moving", **SMALL)
    x = episode(n=3, k=2, q=4, saliency=True)
    together = np.asarray(model.predict_on_batch(x))[0]
    alone = np.asarray(model.predict_on_batch({**x, "query_images": x["query_images"][:, :1],
                                               "query_saliency": x["query_saliency"][:, :1]}))[0]
    assert np.allclose(together[0], alone[0], atol=1e-5) == (statistics == "moving")


def test_query_groups_score_like_separate_batches():
    """query_group=2 on 4 queries gives what two calls of 2 queries give (batch statistics)."""
    model = SalNet(hallucination="inter", query_group=2, **SMALL)
    x = episode(n=3, k=1, q=4, saliency=True)
    together = np.asarray(model.predict_on_batch(x))[0]
    for half in (slice(0, 2), slice(2, 4)):
        part = {**x, "query_images": x["query_images"][:, half], "query_saliency": x["query_saliency"][:, half]}
        np.testing.assert_allclose(together[half], np.asarray(model.predict_on_batch(part))[0], atol=1e-5)


@pytest.mark.parametrize("mode", ["inter", "intra", pytest.param("none", marks=pytest.mark.slow)])
def test_scores_do_not_depend_on_the_support_order(mode, intra):
    model = intra if mode == "intra" else SalNet(hallucination=mode, **SMALL)
    x = episode(n=3, k=2, q=2, saliency=True)
    order = np.array([3, 0, 5, 1, 4, 2])
    shuffled = {**x, "support_images": x["support_images"][:, order], "support_labels": x["support_labels"][:, order],
                "support_saliency": x["support_saliency"][:, order]}
    np.testing.assert_allclose(model.predict_on_batch(x), model.predict_on_batch(shuffled), atol=1e-5)


def test_episodes_of_a_batch_are_independent(intra):
    model = intra
    a, b = episode(n=3, k=2, seed=1, saliency=True), episode(n=3, k=2, seed=2, saliency=True)
    both = {key: np.concatenate([a[key], b[key]]) for key in a}
    scores = np.asarray(model.predict_on_batch(both))
    np.testing.assert_allclose(scores[1], np.asarray(model.predict_on_batch(b))[0], atol=1e-5)


def test_computed_saliency_is_used_when_no_maps_are_given(intra):
    model = intra
    x = episode()
    maps = {"support_saliency": np.asarray(SpectralResidualSaliency()(x["support_images"])),
            "query_saliency": np.asarray(SpectralResidualSaliency()(x["query_images"]))}
    np.testing.assert_allclose(model.predict_on_batch(x), model.predict_on_batch({**x, **maps}), atol=1e-5)
    constant = {k: np.full_like(v, 0.5) for k, v in maps.items()}
    assert not np.allclose(model.predict_on_batch(x), model.predict_on_batch({**x, **constant}), atol=1e-4)


BAD_SALIENCY = {
    "one side only": (lambda x: x.pop("query_saliency"), "support_saliency was given but query_saliency"),
    "wrong size": (lambda x: x.update(query_saliency=x["query_saliency"][..., :20]), "query_saliency has shape"),
    "channel axis": (lambda x: x.update(support_saliency=x["support_saliency"][..., None]), r"\(B, count, H, W\)"),
    "0-255": (lambda x: x.update(support_saliency=x["support_saliency"] * 255), "divide 0-255 maps by 255"),
    "N·K mismatch": (lambda x: x.update(support_saliency=x["support_saliency"][:, :2]),
                     "support_saliency has shape.*one map per image"),
    "NaN": (lambda x: x["query_saliency"].__setitem__((0, 0, 0, 0), np.nan), "query_saliency has NaN"),
}


@pytest.mark.parametrize("case", BAD_SALIENCY, ids=list(BAD_SALIENCY))
def test_bad_saliency_is_refused_with_a_clear_error(case, intra):
    model = intra
    change, message = BAD_SALIENCY[case]
    x = episode(saliency=True)
    change(x)
    with pytest.raises(InvalidEpisodeError, match=message):
        model.predict_on_batch(x)
    with pytest.raises(InvalidEpisodeError, match=message):
        model(x)


@pytest.mark.jax  # also in CI's JAX pass (the rest is backend-agnostic code, tested on TF)
def test_module_clipping_bounds_each_network_separately(intra):
    model = intra
    variables = model.trainable_variables
    grads = [keras.ops.ones(v.shape) * 10.0 for v in variables]
    clipped = clip_by_module(grads, variables, 0.5)
    for module in ("foreground", "background", "mixture", "relation"):
        norm = np.sqrt(sum(float(np.sum(np.square(g))) for g, v in zip(clipped, variables)
                           if v.path.split("/")[-2].startswith(module)))
        assert norm == pytest.approx(0.5, rel=1e-4), module
    assert ModuleClippedAdam.from_config(ModuleClippedAdam(module_clipnorm=0.3).get_config()).module_clipnorm == 0.3


def test_trir_training_leaves_the_teacher_frozen():
    n_way = {"n_way": 3} if JAX else {}
    teacher = SalNet(hallucination="none", **SMALL, **n_way)
    student = SalNet(hallucination="intra", trir_weight=0.5, **SMALL, **n_way)
    student.compile(teacher=teacher)
    before_teacher = [np.array(v) for v in teacher.weights]
    before_student = [np.array(v) for v in student.trainable_weights]
    x = episode(n=3, k=2, q=2)
    target = np.eye(3, dtype=np.float32)[None, [0, 1]]
    history = student.fit(x, target, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    for before, v in zip(before_teacher, teacher.weights):
        np.testing.assert_array_equal(before, np.array(v), err_msg=f"teacher weight {v.path} changed")
    assert any(not np.allclose(b, np.array(v)) for b, v in zip(before_student, student.trainable_weights))
    # TriR adds β·MSE(student mixture, teacher mixture) of the real support pairs to the loss
    plain = student.compute_loss(x, target, student(x), training=False)
    real = student._with_real_support(student.with_saliency(x), training=False)
    trir = student.compute_loss(x, target, real, training=False)
    difference = np.mean(np.square(np.asarray(real[1]) - np.asarray(teacher.support_mixture(x))))
    assert float(trir) - float(plain) == pytest.approx(0.5 * difference, rel=1e-3)


def test_teacher_must_be_another_salnet(intra):
    model = intra
    with pytest.raises(TypeError, match="teacher must be a SalNet"):
        model.compile(teacher=keras.Sequential())
    with pytest.raises(ValueError, match="its own TriR teacher"):
        model.compile(teacher=model)


@pytest.mark.slow
@pytest.mark.parametrize("with_maps", [False, True])
def test_serving_export_with_and_without_saliency_inputs(with_maps, intra):
    from hgzoo.testing import run_export_test

    x = episode(n=3, k=1, q=2, saliency=True)
    names = ["support_images", "support_labels", "query_images"] + (["support_saliency", "query_saliency"]
                                                                  if with_maps else [])
    intra.serve_with_saliency = with_maps
    try:
        served = run_export_test(intra, {k: x[k] for k in names}, {
            "inputs": {k: "int32" if k == "support_labels" else "float32" for k in names},
            "outputs": {"scores": "float32", "classes": "int32"}})
    finally:
        intra.serve_with_saliency = False
    expected = intra.predict_on_batch({k: x[k] for k in names})
    np.testing.assert_allclose(served["scores"], expected, atol=1e-4)
