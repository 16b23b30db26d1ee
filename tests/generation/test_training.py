"""IDDiffusion's training: condition dropout in training only, and DDPM's ε-MSE learnt with fit.

TensorFlow pass only (the JAX pass runs the harness on the same model, within its time budget).
"""

import keras
import numpy as np

from hgzoo.generation import IDDiffusion, NoiseSchedule

from .conftest import TINY, inputs


def test_condition_dropout_is_training_only():
    model = IDDiffusion(**TINY, condition_dropout=1.0, seed=1)
    x = inputs(2)
    dropped = model(x, training=True)
    nothing = list(x)
    nothing[2:] = [np.zeros((2, 8), "float32"), np.zeros((2, 3), "float32"), np.array([4, 4], "int32")]
    np.testing.assert_allclose(np.asarray(dropped), model.predict_on_batch(nothing), atol=1e-5)
    assert not np.allclose(model.predict_on_batch(x), model.predict_on_batch(nothing), atol=1e-6)


def test_fit_learns_the_noise_of_a_fixed_image():
    # DDPM's ε-MSE with host-drawn noise: fitting one clean image lowers the loss on fresh noise draws.
    model = IDDiffusion(**TINY, condition_dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    schedule, rng = NoiseSchedule(), np.random.default_rng(0)
    x0 = np.tile(np.linspace(-1, 1, 16, dtype="float32")[None, :, None, None], (32, 1, 16, 3))
    cond = inputs(32)[2:]

    def batch():
        noisy, t, noise = schedule.noised(x0, rng)
        return [noisy, t, *cond], noise

    before = model.evaluate(*batch(), verbose=0)
    for _ in range(20):
        model.train_on_batch(*batch())
    assert model.evaluate(*batch(), verbose=0) < 0.8 * before


def test_scenes_train_with_fit_resumable(tmp_path):
    from hgzoo.generation import NoisedScenes
    from hgzoo.generation.data import scene_set
    from hgzoo.training import fit_resumable

    faces = np.random.default_rng(0).uniform(size=(3, 32, 32, 3))
    images, identities, layouts, backgrounds = scene_set(faces, np.eye(3, 8), (1.0, 0.5), size=16, copies=2)
    assert images.shape == (6, 16, 16, 3) and identities.shape == (6, 8)
    np.testing.assert_array_equal(identities[::2], np.eye(3, 8))
    model = IDDiffusion(**TINY)
    batches = NoisedScenes(images, identities, layouts, backgrounds, model.schedule, batch_size=4)
    history = fit_resumable(model, batches, str(tmp_path / "run"), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all() and (tmp_path / "run" / "last.weights.h5").exists()
    # batch i of epoch e draws the same noise in any run
    fresh = NoisedScenes(images, identities, layouts, backgrounds, model.schedule, batch_size=4)
    assert batches.epoch > 0 and not np.array_equal(batches[1][1], fresh[1][1])
    fresh.epoch = batches.epoch
    np.testing.assert_array_equal(batches[1][1], fresh[1][1])
