"""EventMPN and its layers: harness, DMPHN equivalence at initialisation, fallback, stacking, export."""

import keras
import numpy as np
import pytest

import hgzoo
from hgzoo.deblur import DMPHN, EventDropout, EventEncoder, EventMPN
from hgzoo.testing import run_export_test, run_layer_test, run_model_test

pytestmark = pytest.mark.jax  # backend-agnostic: CI runs this file under JAX too

SMALL = {"levels": (1, 2), "event_bins": 3}


def batch(b=2, h=16, w=16, bins=3, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.random((b, h, w, 3), dtype=np.float32), rng.normal(size=(b, h, w, bins)).astype(np.float32)]


def test_event_mpn_harness():
    run_model_test(EventMPN, SMALL, batch(), expected_output_shape=(2, 16, 16, 3), expected_num_trainable_weights=132,
                   expected_num_non_trainable_weights=0, other_input_data=batch(1, 24, 8), target=batch(seed=1)[0],
                   float32_outputs=True, mixed_precision_fit=False, atol=1e-4,
                   reason="its image blocks are fitted under mixed_float16 by test_dmphn_harness and its EventEncoder "
                   "by test_event_layers_harness; half-precision steps take minutes on CPU")


def test_stacked_event_mpn_harness_and_deep_supervision():
    model = run_model_test(EventMPN, {**SMALL, "num_stages": 2}, batch(), expected_output_shape=(2, 16, 16, 3),
                           expected_num_trainable_weights=264, expected_num_non_trainable_weights=0,
                           target=batch(seed=1)[0], atol=1e-4, mixed_precision=False, subprocess_checks=False,
                           reason="test_event_mpn_harness runs these for EventMPN; a second stage adds "
                           "layers of the same kinds, no dtype or saved state of its own")
    outputs = model(batch(), training=True)
    assert isinstance(outputs, list) and len(outputs) == 2
    assert "event_encoder_s2_lv2" in [layer.name for layer in model.layers]


def test_event_layers_harness():
    rng = np.random.default_rng(0)
    run_layer_test(EventEncoder, {"zero_init": False}, [rng.normal(size=(2, 16, 12, 3)).astype(np.float32)],
                   expected_output_shape=(2, 4, 3, 128), expected_num_trainable_weights=6,
                   expected_num_non_trainable_weights=0, atol=1e-4)
    run_layer_test(EventDropout, {"rate": 0.5, "seed": 1}, [rng.normal(size=(2, 8, 8, 3)).astype(np.float32)],
                   expected_output_shape=(2, 8, 8, 3), expected_num_trainable_weights=0,
                   expected_num_non_trainable_weights=0)


def test_event_dropout_hides_whole_samples_in_training_only():
    x = np.ones((64, 4, 4, 2), np.float32)
    layer = EventDropout(0.5, seed=0)
    kept = keras.ops.convert_to_numpy(layer(x, training=True)).reshape(64, -1)
    assert set(np.unique(kept.min(1))) <= {0.0, 1.0} and np.all(kept.min(1) == kept.max(1))
    assert 10 < kept[:, 0].sum() < 54
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)


def test_starts_as_the_image_model_it_is_initialised_from(tmp_path):
    dmphn = DMPHN(levels=(1, 2))
    path = tmp_path / "dmphn.weights.h5"
    dmphn.save_weights(path)
    model = EventMPN(**SMALL, init_from=str(path))
    image, events = batch()
    np.testing.assert_allclose(model.predict([image, events], verbose=0), dmphn.predict(image, verbose=0), atol=1e-5)
    stacked = EventMPN(**SMALL, num_stages=2, init_from=str(path))
    assert np.allclose(keras.ops.convert_to_numpy(stacked.get_layer("encoder_s2_lv1").weights[0]),
                       keras.ops.convert_to_numpy(dmphn.get_layer("encoder_lv1").weights[0]))


def test_authors_weights_initialise_the_image_path(weights_dir):
    model = EventMPN(init_from="dmphn_1_2_4_gopro")
    image, events = batch(1, 32, 32, bins=6)
    reference = DMPHN(pretrained="dmphn_1_2_4_gopro").predict(image, verbose=0)
    np.testing.assert_allclose(model.predict({"image": image, "events": events}, verbose=0), reference, atol=1e-5)


def test_missing_events_fall_back_to_empty_voxels():
    model = EventMPN(**SMALL)
    image, _ = batch()
    zeros = model.predict([image, np.zeros((2, 16, 16, 3), np.float32)], verbose=0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.deblur_image(image)), zeros, atol=1e-6)


def test_wrong_event_bins_and_arguments():
    model = EventMPN(**SMALL)
    image, _ = batch()
    with pytest.raises(ValueError, match="3"):
        model.predict([image, np.zeros((2, 16, 16, 5), np.float32)], verbose=0)
    with pytest.raises(ValueError, match="event_bins and num_stages must be positive"):
        EventMPN(event_bins=0)
    with pytest.raises(ValueError, match="EventDropout rate"):
        EventDropout(1.5)


def test_registered_and_listed():
    assert "event_mpn" in hgzoo.list_models(task="deblur")
    assert isinstance(hgzoo.create_model("event_mpn", **SMALL), EventMPN)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="SavedModel export needs TensorFlow")
def test_export_for_serving():
    model = EventMPN(**SMALL)
    image, events = batch(1, 18, 22)  # not multiples of 8: padded inside, cropped back
    served = run_export_test(model, {"image": image, "events": events},
                             {"inputs": {"image": "float32", "events": "float32"}, "outputs": {"deblurred": "float32"}})
    padded = [np.pad(image, ((0, 0), (0, 6), (0, 2), (0, 0)), mode="symmetric"),
              np.pad(events, ((0, 0), (0, 6), (0, 2), (0, 0)))]
    expected = np.clip(model.predict(padded, verbose=0)[:, :18, :22], 0, 1)
    np.testing.assert_allclose(served["deblurred"], expected, atol=1e-4)


def test_deblur_helper_feeds_events_and_tiles():
    model = EventMPN(**SMALL)
    image, events = batch(1, 30, 44)
    whole = hgzoo.deblur.deblur(model, image[0], events=events[0], tile=None)
    assert model.multiple_of == (8, 4)  # 30 x 44 is padded to 32 x 44
    padded = model.predict([np.pad(image, ((0, 0), (0, 2), (0, 0), (0, 0)), mode="symmetric"),
                            np.pad(events, ((0, 0), (0, 2), (0, 0), (0, 0)))], verbose=0)
    np.testing.assert_allclose(whole, np.clip(padded[0, :30, :44], 0, 1), atol=1e-4)
    assert hgzoo.deblur.deblur(model, image[0], events=events[0], tile=24, overlap=4).shape == (30, 44, 3)
    assert hgzoo.deblur.deblur(model, image[0]).shape == (30, 44, 3)  # no events: empty voxels
    with pytest.raises(ValueError, match=r"events must be a \(30, 44, 3\) voxel grid"):
        hgzoo.deblur.deblur(model, image[0], events=events[0, :10])
    with pytest.raises(ValueError, match="DMPHN takes no events"):
        hgzoo.deblur.deblur(DMPHN(levels=(1,)), image[0], events=events[0])
