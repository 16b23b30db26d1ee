"""dlib's identity encoder on DCGAN faces: one face embeds, none or several are clear errors, and a face
stays the same person under small latent moves (the generation extra: dlib-bin, face-recognition-models,
gan-face-generate; skipped without them)."""

import importlib.util
import os

import numpy as np
import pytest

from hgzoo.errors import InvalidImageError
from hgzoo.generation.identity import SAME_PERSON_THRESHOLD, DlibIdentity, identity_distance

pytest.importorskip("dlib", reason="dlib is not installed (pip install \"hgzoo[generation]\")")
torch = pytest.importorskip("torch")
if importlib.util.find_spec("gan_face_generate") is None or importlib.util.find_spec("face_recognition_models") \
        is None:
    pytest.skip("gan-face-generate / face-recognition-models are not installed (hgzoo generation install-parts; "
                "the generation extra)", allow_module_level=True)


@pytest.fixture(scope="module")
def faces():
    """Six 128-px DCGAN faces: three latent codes and a small move (σ 0.2) of each."""
    from gan_face_generate.models import Generator

    generator = Generator(0, 3, 100, 64)
    weights = os.path.join(importlib.util.find_spec("gan_face_generate").submodule_search_locations[0],
                           "weights.tar")
    generator.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True)["netG_state_dict"])
    generator.eval()
    rng = np.random.default_rng(0)
    z = rng.standard_normal((3, 100, 1, 1))
    z = np.concatenate([z, z + 0.2 * rng.standard_normal(z.shape)])
    with torch.no_grad():
        images = (generator(torch.from_numpy(z).float()).permute(0, 2, 3, 1).numpy() + 1) / 2
    return np.repeat(np.repeat(np.clip(images, 0, 1), 2, axis=1), 2, axis=2)


@pytest.fixture(scope="module")
def encoder():
    return DlibIdentity()


def test_a_small_latent_move_keeps_the_person(encoder, faces):
    codes = [encoder.embed(f) for f in faces]
    assert all(c.shape == (128,) for c in codes)
    for i in range(3):
        assert identity_distance(codes[i], codes[i + 3]) < SAME_PERSON_THRESHOLD
    # a known crop needs no detection and agrees with the detected face's descriptor
    assert identity_distance(encoder.embed_crop(faces[0][16:112, 16:112]), codes[0]) < SAME_PERSON_THRESHOLD


def test_no_face_and_several_faces_are_clear_errors(encoder, faces):
    with pytest.raises(InvalidImageError, match="no face found"):
        encoder.embed(np.full((128, 128, 3), 0.5))
    pair = np.concatenate([faces[0], faces[1]], axis=1)
    with pytest.raises(InvalidImageError, match="2 faces found"):
        encoder.embed(pair)
    largest = DlibIdentity(several_faces="largest").embed(pair)
    assert largest.shape == (128,)
    with pytest.raises(InvalidImageError, match="RGB"):
        encoder.embed(np.zeros((128, 128)))
