"""Training identities from a DCGAN: an identity is a neighbourhood of a latent code.

gan-face-generate's 64×64 DCGAN (trained on DigiFace-1M) draws one face per
latent code, so a face has no second photo. An *identity* here is a latent
code ``z`` and faces drawn from nearby codes ``z + σ·n``: its members are the
neighbours whose dlib descriptor stays within the same-person threshold
(0.6) of the anchor's; a member's references are the other members. The
descriptor of a face is taken on its known crop (:func:`face_crop`,
upsampled by :meth:`DlibIdentity.embed_crop`), the same place the metrics read
a generated face, so training conditions and measurements agree.

Needs torch and gan-face-generate (``hgzoo generation install-parts``) and
the ``generation`` extra.

Example:

>>> import numpy as np
>>> face_crop(np.zeros((64, 64, 3))).shape
(48, 48, 3)
"""

import importlib.util
import os

import numpy as np

from hgzoo.config import require
from hgzoo.errors import MissingExtraError
from hgzoo.generation.identity import SAME_PERSON_THRESHOLD
from hgzoo.generation.optional_parts import INSTALL_HINT

LATENT_DIM = 100
# the DCGAN's face fills about the middle three quarters of its frame; the rest is hair and backdrop
FACE_FRACTION = 0.75


def face_crop(image):
    """The middle :data:`FACE_FRACTION` of a square face image (or face box): where the face itself is."""
    image = np.asarray(image)
    side = image.shape[0]
    cut = int(round(side * (1.0 - FACE_FRACTION) / 2))
    return image[cut:side - cut, cut:side - cut]


class DCGANFaces:
    """gan-face-generate's DCGAN: ``faces(z)`` -> (N, 64, 64, 3) float32 faces in [0, 1].

    Example:

    >>> DCGANFaces.__name__  # needs torch and gan-face-generate; see tests/generation/test_faces.py
    'DCGANFaces'
    """

    def __init__(self):
        self.torch = require("torch", "text")
        spec = importlib.util.find_spec("gan_face_generate")
        if spec is None:
            raise MissingExtraError(f"this needs gan-face-generate (the DCGAN of training faces): {INSTALL_HINT}")
        from gan_face_generate.models import Generator

        self.generator = Generator(0, 3, LATENT_DIM, 64)
        weights = os.path.join(spec.submodule_search_locations[0], "weights.tar")
        state = self.torch.load(weights, map_location="cpu", weights_only=True)["netG_state_dict"]
        self.generator.load_state_dict(state)
        self.generator.eval()

    def faces(self, z, batch_size=256):
        """(N, 100) latent codes -> (N, 64, 64, 3) float32 faces in [0, 1]."""
        z = np.asarray(z, np.float32).reshape(-1, LATENT_DIM, 1, 1)
        out = []
        with self.torch.no_grad():
            for start in range(0, len(z), batch_size):
                images = self.generator(self.torch.from_numpy(z[start:start + batch_size]))
                out.append(images.permute(0, 2, 3, 1).numpy())
        return np.clip((np.concatenate(out) + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)


def identity_neighbourhoods(encoder, identities, members, sigma=0.2, seed=0, generator=None, tries=3):
    """Identities as latent neighbourhoods: ``(faces, descriptors, labels)``.

    Draws ``identities`` anchor codes; for each, draws neighbours
    ``z + sigma·n`` until ``members`` faces (the anchor first) lie within
    :data:`SAME_PERSON_THRESHOLD` of the anchor's descriptor, giving up on an
    anchor after ``tries · members`` draws (the next anchor code replaces it).

    Args:
        encoder: a :class:`~hgzoo.generation.DlibIdentity`.
        identities, members: how many identities and faces per identity.
        sigma: the latent step of a neighbour.
        seed: of the codes.
        generator: a :class:`DCGANFaces` (built if None).

    Returns:
        ``faces`` (identities·members, 64, 64, 3) in [0, 1], ``descriptors``
        (same rows, 128) dlib descriptors of their :func:`face_crop`, and
        ``labels`` (same rows,) the identity index.
    """
    generator = generator or DCGANFaces()
    rng = np.random.default_rng(seed)
    faces, descriptors, labels = [], [], []
    while len(labels) < identities * members:
        anchor = rng.standard_normal(LATENT_DIM).astype(np.float32)
        codes = np.concatenate([anchor[None], anchor + sigma * rng.standard_normal((tries * members, LATENT_DIM))])
        images = generator.faces(codes)
        kept, kept_codes = [], []
        for image in images:
            descriptor = encoder.embed_crop(face_crop(image))
            if not kept_codes or np.linalg.norm(descriptor - kept_codes[0]) < SAME_PERSON_THRESHOLD:
                kept.append(image)
                kept_codes.append(descriptor)
            if len(kept) == members:
                break
        if len(kept) < members:
            continue
        faces += kept
        descriptors += kept_codes
        labels += [len(labels) // members] * members
    return np.stack(faces), np.stack(descriptors).astype(np.float32), np.asarray(labels, np.int32)


def other_member_references(descriptors, labels):
    """(N, R, 128): for each face, the descriptors of the other members of its identity (R = members − 1)."""
    descriptors, labels = np.asarray(descriptors, np.float32), np.asarray(labels)
    rows = [descriptors[(labels == labels[i]) & (np.arange(len(labels)) != i)] for i in range(len(labels))]
    if len({len(r) for r in rows}) != 1 or not len(rows[0]):
        raise ValueError("every identity needs the same number (at least 2) of members")
    return np.stack(rows)
