"""StackMPN: Stack(N)-DMPHN, stacked multi-patch networks (Zhang et al., CVPR 2019)."""

from hgzoo.deblur.base import MultiStageDeblurModel, convert_torch_checkpoint
from hgzoo.deblur.dmphn import image_input, shift_in, shift_out
from hgzoo.deblur.hierarchy import Hierarchy, multiple_of, validate_levels
from hgzoo.models.search_space import Choice, Int
from hgzoo.registry import register_model


@register_model(task="deblur", name="stack_mpn")
class StackMPN(MultiStageDeblurModel):
    """Stack(N)-DMPHN: N multi-patch stages, each refining the previous output.

    Stage k runs a DMPHN hierarchy on stage k-1's output and adds stage k-1's
    per-level features to its own. As in the authors' published model (the
    code that trained the weights and produced their results), the residual
    fed into level 1 of every stage k ≥ 2 also gets the *stage-1* output
    added (``papers.md`` §1.5); ``add_first_stage_output=False`` gives the
    clean variant for training from scratch.

    Training follows the paper's deep supervision: in ``fit`` (``training=True``)
    the model returns the list of all stage outputs and the loss is summed
    over stages; metrics and ``predict``/``evaluate`` use the last stage.

    Args:
        num_stages: 2 or more (the authors published 4).
        levels: the hierarchy of each stage, ``(1, 2, 4)`` by default.
        add_first_stage_output: keep the published wiring quirk (default True).
        pretrained: False; True for ``stack_mpn_4_gopro`` (the authors' GoPro
            weights); a preset id; or a ``.weights.h5`` path.

    Example:

    >>> import numpy as np, hgzoo
    >>> model = hgzoo.deblur.StackMPN(num_stages=2)
    >>> tuple(model.predict(np.random.rand(1, 64, 64, 3), verbose=0).shape)
    (1, 64, 64, 3)
    >>> model = hgzoo.deblur.StackMPN(pretrained=True)  # doctest: +SKIP
    """

    converters = {"dmphn_torch": (1, convert_torch_checkpoint)}
    search_space = {"num_stages": Int(2, 4), "levels": Choice([[1, 2], [1, 2, 4]]),
                    "add_first_stage_output": Choice([True, False])}

    def __init__(self, num_stages=4, levels=(1, 2, 4), add_first_stage_output=True,
                 name="stack_mpn", dtype=None, **kwargs):
        num_stages = int(num_stages)
        if num_stages < 1:
            raise ValueError(f"StackMPN needs num_stages >= 1, got {num_stages}")
        levels = validate_levels(levels)
        image = image_input()
        u = shift_in(image, dtype)
        outputs, features, first = [], None, None
        for k in range(1, num_stages + 1):
            stage = Hierarchy(len(levels), tag=f"_s{k}", dtype=dtype)
            extra = first if (k > 1 and add_first_stage_output and len(levels) > 1) else None
            u, features = stage(u, previous=features, level1_extra=extra)
            first = u if k == 1 else first
            name_k = "deblurred" if k == num_stages else f"stage{k}"
            outputs.append(shift_out(u, name_k))
        super().__init__(inputs=image, outputs=outputs, name=name, dtype=dtype, **kwargs)
        self.num_stages = num_stages
        self.levels = levels
        self.add_first_stage_output = bool(add_first_stage_output)
        self.multiple_of = multiple_of(levels)

    def get_config(self):
        return {**super().get_config(), "num_stages": self.num_stages, "levels": list(self.levels),
                "add_first_stage_output": self.add_first_stage_output}
