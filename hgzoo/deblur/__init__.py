"""Deblurring: DMPHN and StackMPN with the authors' weights, event-guided EventMPN, self-supervision.

Example:

>>> import hgzoo
>>> model = hgzoo.deblur.StackMPN(pretrained=True)  # doctest: +SKIP
>>> sharp = hgzoo.deblur.deblur(model, "blurry.png")  # doctest: +SKIP
"""

from hgzoo.deblur.blocks import DMPHNDecoder, DMPHNEncoder
from hgzoo.deblur.dmphn import DMPHN
from hgzoo.deblur.event_mpn import EventDropout, EventEncoder, EventMPN
from hgzoo.deblur.inference import deblur
from hgzoo.deblur.self_supervision import SelfSupervision
from hgzoo.deblur.stack_mpn import StackMPN

__all__ = ["DMPHN", "DMPHNDecoder", "DMPHNEncoder", "EventDropout", "EventEncoder", "EventMPN", "SelfSupervision",
           "StackMPN", "deblur"]
