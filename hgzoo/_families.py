"""The one list of hgzoo's model families: everything else reads it.

``hgzoo/__init__.py`` imports each family from here, the command line gives
each its ``hgzoo <family> <action>`` group (``hgzoo/cli/<family>.py``), the
meta and architecture tests check every family against it, and
``tools/update_readme.py`` fills each family's README section from it.
Adding a family is one line here plus the steps in ``docs/adding_a_family.md``.

This module imports nothing (not even Keras), so the command line can read it
without starting TensorFlow.

Example:

>>> from hgzoo._families import FAMILIES, family
>>> [f.name for f in FAMILIES]
['deblur', 'fewshot', 'text', 'zeroshot', 'domain', 'anomaly', 'action', 'distill', 'dualpixel', 'generation', 'dialogue']
>>> family("deblur").summary
'image deblurring: DMPHN, StackMPN, event-guided MPN, self-supervision'
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Family:
    """One family of models.

    Attributes:
        name: the package (``hgzoo/<name>/``), the registry task, the CLI word,
            the manifest (``weights/manifests/<name>.json``), the tests folder
            (``tests/<name>/``) and the benchmarks folder (``benchmarks/<name>/``).
        summary: one line for ``hgzoo --help``, ``hgzoo list`` and the docs.
        builds_on: other families whose public API this one may import (an
            arrow of ``docs/architecture.md``; never a cycle).
    """

    name: str
    summary: str
    builds_on: tuple = ()


FAMILIES = (
    Family("deblur", "image deblurring: DMPHN, StackMPN, event-guided MPN, self-supervision"),
    Family("fewshot", "few-shot learning: episodes, the evaluation protocol, SoSN, SalNet", builds_on=("text",)),
    Family("text", "text classification: LLMEmbed heads over frozen language-model layers"),
    Family("zeroshot", "zero-shot learning: ZSKL kernel compatibility, GZSL model selection", builds_on=("text",)),
    Family("domain", "domain adaptation: scatter alignment with SPD divergences (So-HoT, Open MIC)"),
    Family("anomaly", "insider-threat detection: CERT audit logs as behaviour images, IGT"),
    Family("action", "few-shot action recognition on clips: ARN, video readers, UCF101/HMDB51", builds_on=("fewshot",)),
    Family("distill", "dataset distillation: distribution matching with IID's constraints"),
    Family("dualpixel", "dual-pixel defocus: open DP simulator, DDDNet disparity + deblurring", builds_on=("deblur",)),
    Family("generation", "identity-preserving generation: BeyondFacial plug-ins on ID-conditioned diffusion"),
    Family("dialogue", "persuasion-dialogue simulation: MADS agents over pluggable LLM backends", builds_on=("text",)),
)

# Cross-family arrows the template allows for families still to come (the
# issue that created the template fixed them); a family listed above declares
# its own in ``builds_on``.
PLANNED_ARROWS = {}

FAMILY_NAMES = tuple(f.name for f in FAMILIES)


def family(name):
    """The :class:`Family` called ``name``; ValueError listing the known ones otherwise."""
    for f in FAMILIES:
        if f.name == name:
            return f
    raise ValueError(f"unknown family {name!r}; families: {', '.join(FAMILY_NAMES)}")
