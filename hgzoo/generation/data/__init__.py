"""Data for hgzoo.generation: scenes composed from face crops at requested layouts.

Example:

>>> from hgzoo.generation.data import BACKGROUNDS, face_box
>>> BACKGROUNDS, face_box((1.0, 0.5, 0.5), 64)
(('sky', 'grass', 'wall', 'room'), (0, 0, 64))
"""

from hgzoo.generation.data.faces import DCGANFaces, face_crop, identity_neighbourhoods, other_member_references
from hgzoo.generation.data.scenes import (
    BACKGROUNDS,
    background,
    compose,
    face_box,
    head_mask,
    random_layouts,
    scene_set,
)

__all__ = ["BACKGROUNDS", "DCGANFaces", "background", "compose", "face_box", "face_crop", "head_mask",
           "identity_neighbourhoods", "other_member_references", "random_layouts", "scene_set"]
