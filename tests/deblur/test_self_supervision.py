"""Self-supervision: exact zeros for equivariant models, the noise term's size, compile round trip."""

import keras
import numpy as np
import pytest

from hgzoo.deblur import DMPHN, EventMPN, SelfSupervision
from hgzoo.deblur.base import DeblurModel

pytestmark = pytest.mark.jax  # backend-agnostic: CI runs this file under JAX too


class Shift(DeblurModel):
    """y = x + c·ramp: identity when c = 0 (equivariant to everything), position-dependent otherwise."""

    def __init__(self, ramp=0.0, **kwargs):
        image = keras.Input((None, None, 3), name="image")
        y = keras.layers.Lambda(lambda x: x + ramp * keras.ops.linspace(0.0, 1.0, keras.ops.shape(x)[2])[
            None, None, :, None], output_shape=lambda shape: shape)(image)
        super().__init__(inputs=image, outputs=y, **kwargs)
        self.multiple_of = (4, 4)


def images(b=2, size=16, seed=0):
    return np.random.default_rng(seed).random((b, size, size, 3)).astype(np.float32)


def test_identity_has_no_equivariance_loss_and_noise_loss_sigma_squared():
    model = Shift()
    x = images(8, 32)
    only_equivariance = SelfSupervision(noise_weight=0.0, seed=0)
    model.compile(self_supervision=only_equivariance)
    for _ in range(4):  # several draws of rotation and scale
        assert float(only_equivariance.loss(model, x, model(x))) == pytest.approx(0.0, abs=1e-10)
    only_noise = SelfSupervision(equivariance_weight=0.0, noise_weight=2.0, noise_std=0.1, seed=0)
    model.compile(self_supervision=only_noise)
    assert float(only_noise.loss(model, x, model(x))) == pytest.approx(2.0 * 0.1**2, rel=0.1)


def test_a_position_dependent_model_is_penalised():
    model = Shift(ramp=0.3)
    ss = SelfSupervision(noise_weight=0.0, scales=(1.0,), seed=3)
    model.compile(self_supervision=ss)
    values = [float(ss.loss(model, images(2, 16), model(images(2, 16)))) for _ in range(12)]
    assert max(values) > 1e-3  # a 90° turn moves the ramp to the other axis


def test_fit_with_the_compile_flag_and_reload(tmp_path):
    model = DMPHN(levels=(1, 2))
    model.compile(self_supervision=True)
    x = images(2, 16)
    model.fit(x, x, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.self_supervision.get_config() == SelfSupervision().get_config()


def test_event_model_transforms_both_inputs():
    model = EventMPN(levels=(1, 2), event_bins=2)
    model.compile(self_supervision={"scales": [0.5, 1.0], "seed": 1})
    x = {"image": images(2, 16), "events": np.random.default_rng(1).normal(size=(2, 16, 16, 2)).astype(np.float32)}
    history = model.fit(x, images(2, 16, 1), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    as_list = model.self_supervision.loss(model, [x["image"], x["events"]], model([x["image"], x["events"]]))
    assert np.isfinite(float(as_list)) and float(as_list) > 0


def test_bad_settings():
    with pytest.raises(ValueError, match=r"scales must be factors in \(0, 1\]"):
        SelfSupervision(scales=(2.0,))
    with pytest.raises(ValueError, match="non-negative"):
        SelfSupervision(noise_std=-1)
    with pytest.raises(TypeError, match="self_supervision must be"):
        DMPHN(levels=(1,)).compile(self_supervision="yes")
    model = DMPHN(levels=(1, 2))
    model.compile(self_supervision=True)
    with pytest.raises(ValueError, match="fixed size"):
        SelfSupervision().loss(model, keras.KerasTensor((None, None, None, 3)), keras.KerasTensor((None, None, None, 3)))
