"""DMPHN: Deep Multi-Patch Hierarchical Network (Zhang et al., CVPR 2019)."""

import keras

from hgzoo.deblur.base import DeblurModel, convert_torch_checkpoint
from hgzoo.deblur.hierarchy import Hierarchy, multiple_of, validate_levels
from hgzoo.models.search_space import Choice
from hgzoo.registry import register_model


def image_input():
    return keras.Input((None, None, 3), name="image")


def shift_in(image, dtype):
    """[0, 1] -> [-0.5, 0.5], the domain the authors' networks work in."""
    return keras.layers.Rescaling(1.0, offset=-0.5, name="shift", dtype=dtype)(image)


def shift_out(y, name):
    """Back to [0, 1] in float32 (also under mixed precision)."""
    return keras.layers.Rescaling(1.0, offset=0.5, name=name, dtype="float32")(y)


@register_model(task="deblur", name="dmphn")
class DMPHN(DeblurModel):
    """DMPHN(1), (1-2), (1-2-4) or (1-2-4-8): multi-patch hierarchical deblurring.

    Each level has its own encoder and decoder; the patches of a level go
    through its encoder in one batched call (:class:`~hgzoo.layers.PatchSplit`).
    The wiring is the authors' exactly (``papers.md`` §1.3-1.4), including
    where level 3's decoder runs on the merged half-image features.

    Args:
        levels: ``(1,)``, ``(1, 2)``, ``(1, 2, 4)`` or ``(1, 2, 4, 8)``.
        pretrained: False; True for the preset of these levels
            (``dmphn_1_2_4_gopro`` or ``dmphn_1_2_4_8_gopro``, the authors'
            GoPro weights); a preset id; or a ``.weights.h5`` path.

    Input (B, H, W, 3) in [0, 1], H and W multiples of :attr:`multiple_of`
    (8 for 1-2-4); output the deblurred image, same shape, float32.

    Example:

    >>> import numpy as np, hgzoo
    >>> model = hgzoo.deblur.DMPHN(levels=(1, 2, 4))
    >>> tuple(model.predict(np.random.rand(1, 64, 96, 3), verbose=0).shape)
    (1, 64, 96, 3)
    >>> model = hgzoo.deblur.DMPHN(pretrained=True)  # doctest: +SKIP
    """

    converters = {"dmphn_torch": (1, convert_torch_checkpoint)}
    search_space = {"levels": Choice([[1], [1, 2], [1, 2, 4], [1, 2, 4, 8]])}

    def __init__(self, levels=(1, 2, 4), name="dmphn", dtype=None, **kwargs):
        levels = validate_levels(levels)
        image = image_input()
        y, _ = Hierarchy(len(levels), dtype=dtype)(shift_in(image, dtype))
        super().__init__(inputs=image, outputs=shift_out(y, "deblurred"), name=name, dtype=dtype, **kwargs)
        self.levels = levels
        self.multiple_of = multiple_of(levels)

    def get_config(self):
        return {**super().get_config(), "levels": list(self.levels)}
