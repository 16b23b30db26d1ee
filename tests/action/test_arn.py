"""ARN: harness, the clip episode contract, attention and self-supervision switches, fit, export."""

import keras
import numpy as np
import pytest

from hgzoo.action import ARN, ClipEpisodeSampler, check_clip_episode, motion_clip_classes
from hgzoo.action.clip_layers import ClipShuffle, EpisodeClips, permutation_bank
from hgzoo.errors import InvalidEpisodeError
from hgzoo.testing import run_export_test, run_model_test

pytestmark = pytest.mark.jax  # backend-agnostic: CI runs this file under JAX too

JAX = keras.backend.backend() == "jax"
# XLA compiles each 3D-conv graph for tens of seconds on CPUs: on JAX the expensive tests are in the slow tier
# (`KERAS_BACKEND=jax pytest -m "jax and slow" tests/action`), so CI's JAX pass stays within its time.
slow_on_jax = pytest.mark.slow if JAX else pytest.mark.usefixtures()
TINY = {"frames": 4, "image_size": (16, 16), "channels": 1, "filters": 16, "relation_filters": 16,
        "discriminator_hidden": 8}


def episode(b=1, n=3, k=1, q=2, t=4, size=16, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.stack([rng.permutation(np.repeat(np.arange(n), k)) for _ in range(b)]).astype(np.int32)
    return [rng.random((b, n * k, t, size, size, channels), dtype=np.float32), labels,
            rng.random((b, q, t, size, size, channels), dtype=np.float32)]


def as_dict(arrays):
    return dict(zip(("support_clips", "support_labels", "query_clips"), arrays))


@slow_on_jax
def test_arn_harness():
    target = np.eye(3, dtype=np.float32)[[[0, 1, 2, 0]] * 2]
    one_head = {**TINY, "jigsaw_weight": 0.0}  # one self-supervised head keeps the harness fast; both: below
    kwargs, other = ({**one_head, "n_way": 3}, episode(n=3, k=3, q=1, t=6, size=20)) if JAX else (
        one_head, episode(n=5, k=3, q=1, t=6, size=20))
    # trainable tensors: encoder 4 × (conv 2 + BN 2), spatial detector 2 × 4 + map conv 2, similarity network
    # 4 × 4 + 2 dense × 2, the temporal-order head 2 × 4 + 2 dense × 2; BN moving statistics: 2 per BN
    run_model_test(ARN, kwargs, episode(b=2, n=3, k=2, q=4), expected_output_shape=(2, 4, 3),
                   value_dependent_axes=(2,), expected_num_trainable_weights=16 + 10 + 20 + 12,
                   expected_num_non_trainable_weights=2 * (4 + 2 + 4 + 2), other_input_data=other, target=target,
                   float32_outputs=True, atol=1e-4)


@pytest.mark.parametrize("attention", ["none", "temporal", "both"])
def test_attention_switch_changes_the_graph(attention):
    model = ARN(**{**TINY, "attention": attention, "temporal_order_weight": 0.0, "jigsaw_weight": 0.0})
    names = {layer.name for layer in model.layers}
    assert ("spatial_attention" in names) == (attention == "both")
    assert ("temporal_attention" in names) == (attention in ("temporal", "both"))
    assert not any(n.endswith("_head1_conv") for n in names)
    assert model.predict_on_batch(episode()).shape == (1, 2, 3)


@slow_on_jax
def test_mean_pooling_baseline_and_single_frame_run():
    for kwargs in ({"pooling": "mean"}, {"frames": 1, "temporal_order_weight": 0.0}):
        model = ARN(**{**TINY, **kwargs})
        assert model.predict_on_batch(episode(t=5)).shape == (1, 2, 3)


@slow_on_jax
def test_scores_follow_the_labels_not_the_support_order():
    model = ARN(**TINY)
    support, labels, queries = episode(n=4, k=2, q=3)
    order = np.random.default_rng(1).permutation(8)
    a = model.predict_on_batch([support, labels, queries])
    b = model.predict_on_batch([support[:, order], labels[:, order], queries])
    np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(model.predict_on_batch([support, (labels + 1) % 4, queries]), np.roll(a, 1, axis=-1),
                               atol=1e-5)


@slow_on_jax
def test_self_supervised_losses_only_in_training():
    model = ARN(**{**TINY, "n_way": 3})
    x = as_dict(episode(n=3))
    model(x, training=False)
    assert not model.losses
    model(x, training=True)
    # each: weight 0.1 × cross-entropy over 10 permutations; random heads start near log(10)
    assert len(model.losses) == 2 and all(0.05 < float(v) < 0.5 for v in model.losses)
    off = ARN(**{**TINY, "temporal_order_weight": 0.0, "jigsaw_weight": 0.0, "n_way": 3})
    off(x, training=True)
    assert not off.losses


def test_shuffles_are_the_permutations_they_report():
    clips = np.random.default_rng(0).random((6, 8, 4, 4, 1)).astype("float32")
    bank = permutation_bank(10)
    assert (bank[0] == np.arange(4)).all() and len({tuple(p) for p in bank}) == 10
    shuffled, target = ClipShuffle("temporal", seed=3)(clips, training=True)
    shuffled, target = np.asarray(shuffled), np.asarray(target)
    for clip, out, index in zip(clips, shuffled, target):
        np.testing.assert_array_equal(out, clip.reshape(4, 2, 4, 4, 1)[bank[index]].reshape(8, 4, 4, 1))
    tiles, target = ClipShuffle("spatial", seed=3)(clips, training=True)
    tiles, target = np.asarray(tiles), np.asarray(target)
    for clip, out, index in zip(clips, tiles, target):
        pieces = [clip[:, :2, :2], clip[:, :2, 2:], clip[:, 2:, :2], clip[:, 2:, 2:]]
        moved = [pieces[j] for j in bank[index]]
        expected = np.concatenate([np.concatenate(moved[:2], axis=2), np.concatenate(moved[2:], axis=2)], axis=1)
        np.testing.assert_array_equal(out, expected)


def test_frames_are_sampled_uniformly_and_resized():
    clip = np.arange(10, dtype="float32").reshape(1, 1, 10, 1, 1, 1) * np.ones((1, 1, 10, 4, 4, 1), "float32") / 10
    out = np.asarray(EpisodeClips(4, (2, 2), 1)(clip, clip))
    np.testing.assert_allclose(out[0, :, 0, 0, 0], np.array([1, 3, 6, 8]) / 10, atol=1e-6)


@pytest.mark.slow  # the harness already fits; this one checks learning on a ClipEpisodeSampler dataset
def test_fit_on_motion_clip_episodes_lowers_the_loss():
    keras.utils.set_random_seed(0)
    digits = np.random.default_rng(0).integers(0, 255, (12, 28, 28), dtype=np.uint8)
    pool = motion_clip_classes(digits, ["right", "up", "zoom_in"], clips_per_class=4, frames=4, size=16)
    model = ARN(**{**TINY, "attention": "none", "temporal_order_weight": 0.0, "n_way": 3})
    sampler = ClipEpisodeSampler(pool, n_way=3, k_shot=1, queries=1, seed=0)
    losses = model.fit(sampler.dataset(episodes=1).repeat(), steps_per_epoch=3, epochs=2, verbose=0).history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]


def test_bad_episodes_are_refused():
    model = ARN(**TINY)
    support, labels, query = episode()
    with pytest.raises(InvalidEpisodeError, match="support_clips and query_clips must be"):
        model.predict_on_batch([support[:, :, 0], labels, query[:, :, 0]])
    with pytest.raises(InvalidEpisodeError, match="support_clips have values"):
        model.predict_on_batch([support * 255, labels, query])
    with pytest.raises(InvalidEpisodeError, match="3 support clips per episode but 2"):
        check_clip_episode(support, labels[:, :2], query)
    with pytest.raises(InvalidEpisodeError, match="takes 1-channel"):
        model.predict_on_batch([np.repeat(support, 3, -1), labels, np.repeat(query, 3, -1)])
    with pytest.raises(ValueError, match="multiple of 4"):
        ARN(**{**TINY, "frames": 6})
    with pytest.raises(ValueError, match="attention must be one of"):
        ARN(attention="global")


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="SavedModel export needs TF")
def test_export_for_serving_in_a_tf_only_process():
    model = ARN(**{**TINY, "temporal_order_weight": 0.0, "jigsaw_weight": 0.0})
    arrays = as_dict(episode(b=2, n=3, k=2, q=3))
    arrays = {k: (np.round(v * 255).astype(np.uint8) if v.dtype != np.int32 else v) for k, v in arrays.items()}
    served = run_export_test(model, arrays, {
        "inputs": {"support_clips": "uint8", "support_labels": "int32", "query_clips": "uint8"},
        "outputs": {"scores": "float32", "classes": "int32"}}, input_dtype="uint8")
    expected = model.predict_on_batch({k: v / 255.0 if v.dtype == np.uint8 else v for k, v in arrays.items()})
    np.testing.assert_allclose(served["scores"], expected, atol=1e-4)
