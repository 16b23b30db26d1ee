"""Scenes from face crops: the face lands in its layout box, backgrounds are told apart, layouts stay in frame."""

import numpy as np
import pytest

from hgzoo.generation import check_layout
from hgzoo.generation.data import BACKGROUNDS, background, compose, face_box, head_mask, random_layouts

pytestmark = pytest.mark.jax


def test_the_face_is_in_its_box_and_nowhere_else():
    face = np.zeros((64, 64, 3), "float32")
    face[..., 0] = 1.0  # a pure red "face"
    for layout in [(1.0, 0.5, 0.5), (0.3, 0.2, 0.8), (0.25, 0.875, 0.125)]:
        scene = compose(face, layout, 0, size=64, rng=np.random.default_rng(1))
        plain = background(0, 64, np.random.default_rng(1))
        top, left, side = face_box(layout, 64)
        changed = np.abs(scene - plain).max(axis=-1) > 1e-6
        assert not changed[:top].any() and not changed[top + side:].any()
        assert not changed[:, :left].any() and not changed[:, left + side:].any()
        centre = scene[top + side // 2, left + side // 2]
        np.testing.assert_allclose(centre, [1.0, 0.0, 0.0], atol=0.02)


def test_background_classes_differ_and_unknown_ones_are_refused():
    rng = np.random.default_rng(0)
    means = np.array([background(k, 32, rng).mean(axis=(0, 1)) for k in range(len(BACKGROUNDS))])
    distances = np.linalg.norm(means[:, None] - means[None], axis=-1)
    assert distances[~np.eye(len(BACKGROUNDS), dtype=bool)].min() > 0.05
    with pytest.raises(ValueError, match="background class 7"):
        background(7, 32, rng)


def test_random_layouts_lie_in_the_frame():
    layouts = random_layouts(200, (1.0, 0.5, 0.3), np.random.default_rng(0))
    check_layout(layouts)
    assert set(np.round(layouts[:, 0].astype(float), 2).tolist()) == {1.0, 0.5, 0.3}
    assert head_mask(16)[8, 8, 0] == 1.0 and head_mask(16)[0, 0, 0] == 0.0
