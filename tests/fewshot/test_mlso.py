"""MlSo: harness, branches, feature matching, the self-supervised discriminator, errors."""

import keras
import numpy as np
import pytest

from hgzoo.errors import InvalidEpisodeError
from hgzoo.fewshot.branch_matching import BranchDiscriminator, BranchMatching
from hgzoo.fewshot.mlso import MlSo
from hgzoo.testing import run_layer_test, run_model_test

# Backend-agnostic. The JAX pass (tests marked jax) runs the cheap checks by default and the harness
# under -m slow: XLA compiles of the multi-branch graph are slow on CPUs.

JAX = keras.backend.backend() == "jax"


def jax_slow(test):
    """The harness compiles many XLA programs (fit, two mixed policies, a reload): -m slow on JAX."""
    return pytest.mark.slow(test) if JAX else test
# Two levels × two scales at the smallest widths the relation network takes; the harness uses one
# level × two scales (every module, half the graph).
SMALL = {"image_size": (28, 28), "channels": 1, "filters": 16, "width": 48, "relation_filters": 8,
         "discriminator_hidden": 8, "n_way": 3}
TWO_SCALES = {**SMALL, "levels": (4,)}


def episode(b=1, n=3, k=1, q=2, size=28, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.stack([rng.permutation(np.repeat(np.arange(n), k)) for _ in range(b)]).astype(np.int32)
    return [rng.random((b, n * k, size, size, channels), dtype=np.float32), labels,
            rng.random((b, q, size, size, channels), dtype=np.float32)]


def target(b=1, q=2, n=3):
    return np.eye(n, dtype=np.float32)[np.tile(np.arange(q) % n, (b, 1))]


@pytest.mark.jax
@jax_slow
def test_mlso_harness_and_its_fit_trains_the_auxiliary_modules():
    keras.utils.set_random_seed(0)
    model = run_model_test(MlSo, TWO_SCALES, episode(b=2, n=3, k=2, q=4), expected_output_shape=(2, 4, 3),
                           value_dependent_axes=(2,), expected_num_trainable_weights=48,
                           expected_num_non_trainable_weights=16,
                           other_input_data=episode(n=3, k=3, q=1, size=40),
                           target=target(2, 4), float32_outputs=True, atol=1e-4)
    keras.utils.set_random_seed(0)
    initial = MlSo(**TWO_SCALES)  # the harness's model before its fit steps
    # The discriminator's heads get gradients only from its add_loss term, the matching prior only
    # through the matched scores: the harness's fit must have moved both.
    for path in ("discriminator/scale/kernel", "matching/prior"):
        before, after = ([np.array(v) for v in m.weights if v.path == path][0] for m in (initial, model))
        assert not np.allclose(before, after), path


def test_the_discriminator_loss_is_added_in_training_calls():
    model = MlSo(**{**SMALL, "discriminator_weight": 0.5})
    model(dict(zip(("support_images", "support_labels", "query_images"), episode())), training=True)
    # 0.5 · (CE over 2 levels + CE over 2 scales), about 0.5 · (ln 2 + ln 2) for untrained heads
    assert len(model.losses) == 1 and 0.3 < float(model.losses[0]) < 1.2
    assert isinstance(model.get_layer("discriminator"), BranchDiscriminator)


def test_branches_follow_levels_and_scales():
    model = MlSo(**{**SMALL, "levels": (2, 3, 4), "scales": (1.0, 0.75, 0.5)})
    assert len([layer for layer in model.layers if layer.name.startswith("power_norm")]) == 9
    assert model.get_layer("matching").branches == 9
    assert model.predict_on_batch(episode()).shape == (1, 2, 3)


@pytest.mark.jax
def test_one_branch_without_matching_or_discriminator():
    model = MlSo(**{**SMALL, "levels": (4,), "scales": (1.0,), "matching": "mean",
                    "discriminator_weight": 0.0})
    assert "discriminator" not in {layer.name for layer in model.layers}
    assert not model.get_layer("matching").weights
    scores = model.predict_on_batch(episode(n=3, k=2))
    assert scores.shape == (1, 2, 3) and np.isfinite(scores).all()
    assert MlSo.from_config(model.get_config()).get_config() == model.get_config()


@pytest.mark.jax
def test_matching_weights_favour_the_best_matching_branch():
    layer = BranchMatching(2)
    scores = np.array([[0.9], [0.8], [0.1], [0.2]], "float32")  # branch 0 then branch 1, two pairs each
    out = np.asarray(layer(scores))[:, 0]
    assert np.all(out > np.asarray([0.5, 0.5])) and out.shape == (2,)
    layer.raw_temperature.assign(20.0)  # a sharp soft-max picks each pair's best branch
    np.testing.assert_allclose(np.asarray(layer(scores))[:, 0], [0.9, 0.8], atol=1e-3)


def test_branch_matching_harness():
    rng = np.random.default_rng(0)
    run_layer_test(BranchMatching, {"branches": 3}, [rng.random((12, 1), dtype=np.float32)],
                   expected_output_shape=(4, 1), expected_num_trainable_weights=2,
                   expected_num_non_trainable_weights=0, dynamic_axes=(0,), subprocess_checks=False,
                   reason="MlSo's harness reloads the layer in a fresh process")


@pytest.mark.jax
@pytest.mark.parametrize("change,message", [
    (lambda s, lab, q: (s[..., [0, 0, 0]], lab, q[..., [0, 0, 0]]), "takes 1-channel images"),
    (lambda s, lab, q: (s[:, :2], lab, q), "2 support images per episode but 3 support labels"),
    (lambda s, lab, q: (s * np.nan, lab, q), "support_images are not finite"),
    (lambda s, lab, q: (s, lab * 2, q), "every class 0..N-1"),
])
def test_bad_episodes_name_the_tensor(change, message):
    model = MlSo(**{**SMALL, "n_way": None})
    with pytest.raises(InvalidEpisodeError, match=message):
        model(dict(zip(("support_images", "support_labels", "query_images"), change(*episode()))))


@pytest.mark.jax
def test_invalid_arguments():
    with pytest.raises(ValueError, match="levels must be distinct backbone blocks"):
        MlSo(levels=(0, 4))
    with pytest.raises(ValueError, match="needs at least 10 pixels"):
        MlSo(image_size=(28, 28), scales=(1.0, 0.3))
    with pytest.raises(ValueError, match="width must be 46"):
        MlSo(width=16)
    with pytest.raises(ValueError, match="matching must be one of"):
        MlSo(matching="max")
