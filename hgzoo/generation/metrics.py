"""Identity, layout and quality metrics of generated scenes, read with dlib's face models.

For each generated image, requested layout and reference descriptors:

* **detection**: does dlib's HOG detector find a face in the frame
  (upsampled ``upsample`` times: 3 lets it see faces from about 10 px of a
  64-px frame, at the cost of false negatives on blurry faces; on real
  composed 64×64 scenes it finds about 70 % of close-up faces and a third
  of faces at scale 0.3, measured on the training faces).
* **identity distance on the detected face**: dlib's 128-d descriptor of
  the largest detected face against the references (mean Euclidean
  distance over them; "same person" below
  :data:`~hgzoo.generation.SAME_PERSON_THRESHOLD`, 0.6).
* **identity distance on the known crop**: since dlib misses small faces,
  the same distance on the face box the layout asked for (its middle
  :data:`~hgzoo.generation.data.faces.FACE_FRACTION`, upsampled to dlib's
  150-px chip, no detection): defined for every image, so the small scale
  is measurable at all.
* **size and position error** of the detected face against the layout:
  dlib's box is tighter than hgzoo's face box (it spans brows to chin), so the
  expected dlib box is calibrated on real composed scenes: side
  :data:`DETECTED_SIDE` × the box side, centre :data:`DETECTED_DROP` × the
  side below the box centre (measured on 40 detections at scales 1.0, 0.5,
  0.3: side 0.68–0.72, drop 0.06–0.10). Size error = |side / expected − 1|;
  position error = centre distance / frame side.
* **quality proxy**: :func:`frechet_distance` between the dlib descriptors
  of the generated face crops and those of real faces, a Fréchet distance
  as FID's but on dlib's face-identity features instead of Inception's
  (Inception weights are not reachable offline, and these features look at
  faces only). With fewer samples than the 128 dimensions it is biased
  upwards; compare it only between sets of equal size.

Example:

>>> import numpy as np
>>> layout_errors((15, 23, 85, 93), (1.0, 0.5, 0.5), 100)  # dlib's box where a calibrated face would be
(0.0, 0.0)
>>> a = np.random.default_rng(0).normal(size=(50, 4))
>>> round(frechet_distance(a, a), 6), frechet_distance(a, a + 1.0) > 3.9
(0.0, True)
"""

import numpy as np

from hgzoo.generation.data.faces import face_crop
from hgzoo.generation.data.scenes import face_box
from hgzoo.generation.identity import SAME_PERSON_THRESHOLD, DlibIdentity
from hgzoo.generation.sampler import check_layout, reference_embeddings

# dlib's box relative to hgzoo's face box of the same face (see the module docstring)
DETECTED_SIDE = 0.70
DETECTED_DROP = 0.08


def expected_detection(layout, size):
    """(centre x, centre y, side) in pixels of the dlib box a face at ``layout`` should give."""
    top, left, side = face_box(layout, size)
    return left + side / 2, top + side / 2 + DETECTED_DROP * side, DETECTED_SIDE * side


def layout_errors(box, layout, size):
    """(size error, position error) of a detected (left, top, right, bottom) box against ``layout``."""
    cx, cy, side = expected_detection(layout, size)
    left, top, right, bottom = (float(v) for v in box)
    size_error = abs((right - left) / side - 1.0)
    position_error = float(np.hypot((left + right) / 2 - cx, (top + bottom) / 2 - cy)) / size
    return size_error, position_error


def frechet_distance(a, b):
    """Fréchet distance between Gaussians fitted to feature rows ``a`` (N, D) and ``b`` (M, D) (FID's formula)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"frechet_distance needs two (N >= 2, D) feature sets, got {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # Tr sqrt(Σa Σb) = Σ sqrt(eigenvalues of Σa^½ Σb Σa^½), a symmetric PSD matrix: numpy's eigh, no sqrtm.
    w, u = np.linalg.eigh(cov_a)
    half = (u * np.sqrt(np.clip(w, 0.0, None))) @ u.T
    trace_root = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(half @ cov_b @ half), 0.0, None)))
    # rounding can leave the distance of equal sets a hair below zero
    return max(float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_root), 0.0)


class FaceMetrics:
    """Per-image identity and layout measurements of generated scenes (see the module docstring).

    Needs the ``generation`` extra (dlib and its model files).

    Args:
        upsample: dlib detector upsamplings for finding the face in a frame (3).

    Example:

    >>> import numpy as np
    >>> FaceMetrics.summary({"detected": np.array([True, False]), "detected_distance": np.array([0.4, np.nan]),
    ...                      "crop_distance": np.array([0.5, 0.7]), "size_error": np.array([0.1, np.nan]),
    ...                      "position_error": np.array([0.02, np.nan])})["crop same-person rate"]
    0.5
    """

    def __init__(self, upsample=3):
        self.encoder = DlibIdentity(upsample=upsample, several_faces="largest")

    def crop_descriptors(self, images, layouts):
        """(N, 128) descriptors of the known face crops (the middle of each requested face box)."""
        layouts = check_layout(layouts)
        rows = []
        for image, layout in zip(images, layouts):
            top, left, side = face_box(layout, image.shape[0])
            rows.append(self.encoder.embed_crop(face_crop(image[top:top + side, left:left + side])))
        return np.stack(rows)

    def measure(self, images, layouts, references):
        """Dict of per-image arrays: ``detected`` (bool), ``detected_distance``, ``crop_distance``,
        ``size_error``, ``position_error`` (NaN where no face was detected) and ``crop_descriptors``.

        ``images`` (N, S, S, 3) in [0, 1]; ``layouts`` (N, 3); ``references``
        (N, D) or (N, R, D) descriptors of the requested identity."""
        images = np.asarray(images, np.float32)
        refs = reference_embeddings(references)
        layouts = check_layout(layouts)
        if not len(images) == len(layouts) == len(refs):
            raise ValueError(f"images, layouts and references disagree: {len(images)}, {len(layouts)}, {len(refs)}")
        crops = self.crop_descriptors(images, layouts)
        out = {"detected": np.zeros(len(images), bool), "crop_descriptors": crops,
               "crop_distance": _mean_distance(crops, refs)}
        for key in ("detected_distance", "size_error", "position_error"):
            out[key] = np.full(len(images), np.nan)
        for i, (image, layout) in enumerate(zip(images, layouts)):
            boxes = self.encoder.detect(image, "generated image")
            if not boxes:
                continue
            out["detected"][i] = True
            out["size_error"][i], out["position_error"][i] = layout_errors(boxes[0], layout, image.shape[0])
            code = self.encoder.embed_box(image, boxes[0], "generated image")
            out["detected_distance"][i] = _mean_distance(code[None], refs[i:i + 1])[0]
        return out

    @staticmethod
    def summary(measured):
        """Means and rates of :meth:`measure`'s arrays (NaN where nothing was detected)."""
        def mean(values):
            values = np.asarray(values, np.float64)
            values = values[np.isfinite(values)]
            return float(values.mean()) if len(values) else float("nan")

        detected = np.asarray(measured["detected"], bool)
        found = np.asarray(measured["detected_distance"], np.float64)[detected]
        return {"detection rate": float(detected.mean()),
                "detected distance": mean(found),
                "detected same-person rate": float(np.mean(found < SAME_PERSON_THRESHOLD)) if len(found)
                else float("nan"),
                "crop distance": mean(measured["crop_distance"]),
                "crop same-person rate": float(np.mean(np.asarray(measured["crop_distance"])
                                                       < SAME_PERSON_THRESHOLD)),
                "size error": mean(measured["size_error"]),
                "position error": mean(measured["position_error"])}


def _mean_distance(codes, refs):
    """(N,) mean Euclidean distance of each code (N, D) to its references (N, R, D)."""
    return np.linalg.norm(refs - codes[:, None, :], axis=-1).mean(axis=1)
