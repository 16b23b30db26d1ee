"""Identity and layout metrics on real DCGAN faces composed into scenes, and the Fréchet quality proxy
(the generation extra and gan-face-generate; skipped without them)."""

import importlib.util

import numpy as np
import pytest

from hgzoo.errors import InvalidConfigError
from hgzoo.generation.metrics import frechet_distance, layout_errors

needs_faces = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None
        for m in ("dlib", "torch", "gan_face_generate", "face_recognition_models")),
    reason="needs the generation extra and gan-face-generate (hgzoo generation install-parts)")


def test_frechet_distance_is_zero_on_itself_and_grows_with_a_shift():
    a = np.random.default_rng(0).normal(size=(200, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(a, a + 0.5) == pytest.approx(8 * 0.25, rel=1e-6)
    assert frechet_distance(a, a * 2.0) > 1.0
    with pytest.raises(ValueError, match="feature sets"):
        frechet_distance(a, a[:, :4])


def test_layout_errors_measure_size_and_shift():
    # the calibrated dlib box of a full-frame face in a 100-px frame is (15, 23, 85, 93)
    assert layout_errors((15, 23, 85, 93), (1.0, 0.5, 0.5), 100) == (0.0, 0.0)
    size_error, position_error = layout_errors((25, 33, 95, 103), (1.0, 0.5, 0.5), 100)
    assert size_error == 0.0 and position_error == pytest.approx(np.hypot(10, 10) / 100)
    assert layout_errors((15, 23, 50, 58), (1.0, 0.5, 0.5), 100)[0] == pytest.approx(0.5)


@pytest.fixture(scope="module")
def identities():
    from hgzoo.generation import DlibIdentity
    from hgzoo.generation.data.faces import identity_neighbourhoods

    return identity_neighbourhoods(DlibIdentity(), identities=2, members=2, seed=0)


@needs_faces
def test_neighbourhoods_are_one_person_and_references_are_the_others(identities):
    from hgzoo.generation.data.faces import other_member_references

    faces, descriptors, labels = identities
    assert faces.shape == (4, 64, 64, 3) and descriptors.shape == (4, 128) and labels.tolist() == [0, 0, 1, 1]
    assert np.linalg.norm(descriptors[0] - descriptors[1]) < 0.6
    references = other_member_references(descriptors, labels)
    np.testing.assert_array_equal(references[:, 0], descriptors[[1, 0, 3, 2]])


@needs_faces
def test_face_metrics_on_real_composed_scenes(identities):
    from hgzoo.generation.data import compose
    from hgzoo.generation.metrics import FaceMetrics

    faces, descriptors, _ = identities
    layouts = np.array([[1.0, 0.5, 0.5], [0.3, 0.3, 0.7]], "float32")
    scenes = np.stack([compose(faces[0], layout, 1, 64, np.random.default_rng(0)) for layout in layouts])
    metrics = FaceMetrics()
    own = metrics.measure(scenes, layouts, descriptors[[0, 0]])
    other = metrics.measure(scenes, layouts, descriptors[[2, 2]])
    # the known crop keeps the person at close-up; at 0.3 of 64 px (a 14-px face) even the real face drifts
    # towards dlib's threshold, but another identity stays farther
    assert own["crop_distance"][0] < 0.6 and np.all(other["crop_distance"] > own["crop_distance"])
    assert own["detected"][0], "dlib should find this close-up face"
    assert own["size_error"][0] < 0.3 and own["position_error"][0] < 0.1
    summary = FaceMetrics.summary(own)
    assert summary["crop same-person rate"] >= 0.5 and summary["detection rate"] >= 0.5
    with pytest.raises(InvalidConfigError, match="inside the frame"):
        metrics.measure(scenes[:1], [[0.5, 0.9, 0.5]], descriptors[:1])
