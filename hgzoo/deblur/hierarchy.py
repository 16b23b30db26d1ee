"""The multi-patch hierarchy shared by DMPHN, StackMPN and later deblurring models.

Level 1 sees the whole image; level 2 splits it by height into 2 halves;
level 3 splits each half by width (4 quadrants); level 4 splits each quadrant
by height (8 patches). Patches of a level are stacked on the batch axis and go
through that level's encoder in one call. Going from the finest level to the
coarsest, each level adds the residual decoded from the finer level to its
patches and the finer level's features to its own (``papers.md`` §1.3-1.5):

    s_l = E_l(P_l + r_{l+1}) + merge(s_{l+1})  [+ s_l of the previous stage]
    r_l = D_l(merge(s_l)),   y = D_1(s_1)
"""

import math

from hgzoo.deblur.blocks import DMPHNDecoder, DMPHNEncoder
from hgzoo.layers import PatchMerge, PatchSplit

# How level l+1 cuts each patch of level l: (rows, cols).
SPLITS = ((2, 1), (1, 2), (2, 1))
SUPPORTED_LEVELS = ((1,), (1, 2), (1, 2, 4), (1, 2, 4, 8))


def validate_levels(levels):
    levels = tuple(int(v) for v in levels)
    if levels not in SUPPORTED_LEVELS:
        raise ValueError(f"levels must be one of {SUPPORTED_LEVELS}, got {levels}")
    return levels


def multiple_of(levels):
    """(height, width) multiples an input needs: 4 per patch side (two stride-2 convs)."""
    cuts = SPLITS[: len(levels) - 1]
    return 4 * math.prod(r for r, _ in cuts), 4 * math.prod(c for _, c in cuts)


class Hierarchy:
    """The layers of one multi-patch stage, applied to symbolic tensors.

    Encoders and decoders are named ``encoder{tag}_lv{l}`` / ``decoder{tag}_lv{l}``,
    the file stems of the authors' checkpoints.
    """

    def __init__(self, num_levels, tag="", dtype=None):
        self.encoders = [DMPHNEncoder(name=f"encoder{tag}_lv{i + 1}", dtype=dtype) for i in range(num_levels)]
        self.decoders = [DMPHNDecoder(name=f"decoder{tag}_lv{i + 1}", dtype=dtype) for i in range(num_levels)]
        cuts = SPLITS[: num_levels - 1]
        self.splits = [PatchSplit(r, c, name=f"split{tag}_lv{i + 2}") for i, (r, c) in enumerate(cuts)]
        self.merges = [PatchMerge(r, c, name=f"merge{tag}_lv{i + 2}") for i, (r, c) in enumerate(cuts)]

    def split_all(self, x):
        """``x`` cut into every level's patches: [whole, halves, quadrants, ...], patches on the batch axis."""
        patches = [x]
        for split in self.splits:
            patches.append(split(patches[-1]))
        return patches

    def __call__(self, image, previous=None, level1_extra=None, guidance=None):
        """Run the stage on ``image`` (shifted domain).

        Args:
            previous: the previous stage's per-level features, added to this
                stage's (StackMPN's feature skips).
            level1_extra: added to the residual fed into level 1 (the
                published StackMPN adds the stage-1 output there).
            guidance: per-level features added to each level's encoder
                output (EventMPN's encoded events), patches as ``split_all``.

        Returns:
            (output image in the shifted domain, list of per-level features).
        """
        patches = self.split_all(image)
        features = [None] * len(self.encoders)
        residual = merged = None
        for i in reversed(range(len(self.encoders))):
            x = patches[i] if residual is None else patches[i] + residual
            s = self.encoders[i](x)
            if guidance is not None:
                s = s + guidance[i]
            if merged is not None:
                s = s + merged
            if previous is not None:
                s = s + previous[i]
            features[i] = s
            if i == 0:
                return self.decoders[0](s), features
            merged = self.merges[i - 1](s)
            residual = self.decoders[i](merged)
            if i == 1 and level1_extra is not None:
                residual = residual + level1_extra
        raise AssertionError("unreachable")

    def layers(self):
        return self.encoders + self.decoders
