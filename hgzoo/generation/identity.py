"""dlib's face identity: detection, 5-point alignment and the 128-d ResNet descriptor, with clear errors.

Needs ``dlib-bin`` and ``face-recognition-models`` (the ``generation``
extra). The model files are found without importing
``face_recognition_models``, whose ``__init__`` needs ``pkg_resources``
(gone from recent setuptools). The 5-point landmark model is used: the
68-point one's training data is non-commercial.

Example:

>>> import numpy as np
>>> round(identity_distance(np.ones(128) * 0.1, np.ones(128) * 0.1), 3)
0.0
>>> SAME_PERSON_THRESHOLD
0.6
"""

import importlib.util
import os

import numpy as np

from hgzoo.config import require
from hgzoo.data.images import quantise, to_float_rgb
from hgzoo.errors import InvalidImageError, MissingExtraError

# dlib's own threshold for "the same person" on its 128-d descriptors
SAME_PERSON_THRESHOLD = 0.6


def identity_distance(a, b):
    """Euclidean distance between 128-d descriptors (dlib's metric; < 0.6 is the same person)."""
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


def face_models_dir():
    """The folder of face-recognition-models' ``.dat`` files."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError("this needs face_recognition_models (dlib's model files): "
                                "pip install \"hgzoo[generation]\"")
    return os.path.join(spec.submodule_search_locations[0], "models")


class DlibIdentity:
    """dlib's face identity encoder: ``embed(image)`` -> the 128-d descriptor of its one face.

    Args:
        upsample: times dlib's HOG detector upsamples the image (1: faces
            from about 40 px; more finds smaller faces, slower).
        several_faces: what to do with several faces: ``"error"`` (default)
            or ``"largest"``.

    Example:

    >>> DlibIdentity.__name__  # needs dlib; see tests/generation/test_identity.py
    'DlibIdentity'
    """

    def __init__(self, upsample=1, several_faces="error"):
        if several_faces not in ("error", "largest"):
            raise ValueError(f"several_faces must be 'error' or 'largest', got {several_faces!r}")
        dlib = require("dlib", "generation")
        models = face_models_dir()
        self.detector = dlib.get_frontal_face_detector()
        self.landmarks = dlib.shape_predictor(os.path.join(models, "shape_predictor_5_face_landmarks.dat"))
        self.encoder = dlib.face_recognition_model_v1(os.path.join(models, "dlib_face_recognition_resnet_model_v1.dat"))
        self._rectangle = dlib.rectangle
        self.upsample, self.several_faces = int(upsample), several_faces

    @staticmethod
    def _pixels(image, what):
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[-1] != 3:
            raise InvalidImageError(f"{what}: expected an (H, W, 3) RGB image, got shape {image.shape}")
        pixels, _ = to_float_rgb(image, what)  # the shared checks: empty, NaN, range, dtype
        return quantise(pixels)

    def detect(self, image, what="image"):
        """Face boxes as (left, top, right, bottom) tuples, largest first."""
        boxes = self.detector(self._pixels(image, what), self.upsample)
        boxes = sorted(boxes, key=lambda r: -r.area())
        return [(r.left(), r.top(), r.right(), r.bottom()) for r in boxes]

    def embed(self, image, what="image"):
        """The 128-d descriptor of the one face in ``image``; InvalidImageError for none or (by default) several."""
        pixels = self._pixels(image, what)
        boxes = sorted(self.detector(pixels, self.upsample), key=lambda r: -r.area())
        if not boxes:
            raise InvalidImageError(f"{what}: no face found (dlib's detector finds faces from about "
                                    f"{40 // 2 ** max(self.upsample - 1, 0)} px)")
        if len(boxes) > 1 and self.several_faces == "error":
            raise InvalidImageError(f"{what}: {len(boxes)} faces found; give an image of one face, or "
                                    "several_faces='largest'")
        return self._descriptor(pixels, boxes[0])

    def embed_crop(self, image, what="face crop"):
        """The descriptor of a known face crop (the whole image is the face box; no detection).

        For faces too small for the detector, e.g. a generated face at a
        requested layout: the crop is upsampled to 150 px first, dlib's chip size.
        """
        pixels = self._pixels(image, what)
        h, w = pixels.shape[:2]
        if min(h, w) < 150:
            factor = int(np.ceil(150 / min(h, w)))
            pixels = np.ascontiguousarray(np.repeat(np.repeat(pixels, factor, axis=0), factor, axis=1))
            h, w = h * factor, w * factor
        return self._descriptor(pixels, self._rectangle(0, 0, w - 1, h - 1))

    def embed_box(self, image, box, what="image"):
        """The descriptor of the face in ``box`` (left, top, right, bottom), e.g. one :meth:`detect` gave."""
        return self._descriptor(self._pixels(image, what), self._rectangle(*(int(v) for v in box)))

    def _descriptor(self, pixels, box):
        return np.asarray(self.encoder.compute_face_descriptor(pixels, self.landmarks(pixels, box)), np.float32)
