"""Identity-preserving generation: BeyondFacial's plug-ins on an ID-conditioned diffusion model.

``IDDiffusion`` is a small DiT that denoises images conditioned on a face
identity embedding (dlib's 128-d descriptor), a face layout (scale and
position in the frame) and a background class; ``IDUNet`` is a small conv
U-Net with the same inputs and hook interface (cross-attention at the low
resolutions), which learns image structure sooner on a CPU budget. Facts of the paper:
``papers.md`` §16 (no code was released; the plug-ins' docstrings say what
had to be chosen). :func:`sample` runs DDIM with classifier-free guidance and
any subset of the three plug-ins (:class:`DualLineInference`,
:class:`IdentityAdaptiveFusion`, :class:`IdentityAggregationPrepending`)
through the hook interface of :mod:`hgzoo.generation.hooks`; the same
plug-ins run on keras-hub's Stable Diffusion 3 through :class:`SD3Denoiser`.
:class:`DlibIdentity` gives the identity embedding of a face image (dlib's
128-d descriptor; the ``generation`` extra) and :class:`FaceMetrics` measures
generated scenes with it (identity distance, face size and position against
the layout; :func:`frechet_distance` for a quality proxy).

Example:

>>> import numpy as np, hgzoo
>>> model = hgzoo.generation.IDDiffusion(image_size=(16, 16), width=16, depth=1, heads=2)
>>> eps = model.predict_on_batch([np.zeros((1, 16, 16, 3), "float32"), np.array([999.0], "float32"),
...                               np.ones((1, 128), "float32"), np.array([[0.3, 0.5, 0.5]], "float32"),
...                               np.array([2], "int32")])
>>> eps.shape
(1, 16, 16, 3)
>>> plugins = [hgzoo.generation.DualLineInference(), hgzoo.generation.IdentityAdaptiveFusion(),
...            hgzoo.generation.IdentityAggregationPrepending()]
>>> hgzoo.generation.sample(model, np.ones((1, 3, 128), "float32"), [[0.3, 0.2, 0.8]], [2], steps=2,
...                         plugins=plugins).shape
(1, 16, 16, 3)
"""

from hgzoo.generation.hooks import GuidancePlan, PlugIn, combine
from hgzoo.generation.id_diffusion import IDDiffusion
from hgzoo.generation.id_unet import IDUNet
from hgzoo.generation.identity import SAME_PERSON_THRESHOLD, DlibIdentity, identity_distance
from hgzoo.generation.metrics import FaceMetrics, frechet_distance
from hgzoo.generation.plugins import (
    PLUGIN_SETS,
    DualLineInference,
    IdentityAdaptiveFusion,
    IdentityAggregationPrepending,
)
from hgzoo.generation.sampler import check_layout, sample
from hgzoo.generation.schedule import NoiseSchedule
from hgzoo.generation.sd3 import FlowMatchSchedule, SD3Denoiser
from hgzoo.generation.training import NoisedScenes

__all__ = [
    "PLUGIN_SETS",
    "SAME_PERSON_THRESHOLD",
    "DlibIdentity",
    "DualLineInference",
    "FaceMetrics",
    "FlowMatchSchedule",
    "GuidancePlan",
    "IDDiffusion",
    "IDUNet",
    "IdentityAdaptiveFusion",
    "IdentityAggregationPrepending",
    "NoiseSchedule",
    "NoisedScenes",
    "PlugIn",
    "SD3Denoiser",
    "check_layout",
    "combine",
    "frechet_distance",
    "identity_distance",
    "sample",
]
