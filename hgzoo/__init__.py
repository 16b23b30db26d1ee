"""hgzoo: Keras 3 model zoo of the research systems of Hongguang Zhang, Piotr Koniusz et al.

Importing hgzoo registers every public layer and model with Keras
serialization, so a saved ``.keras`` file loads after only ``import hgzoo``.

Example:

>>> import hgzoo
>>> hgzoo.list_models(task="deblur", pretrained=True)
['dmphn_1_2_4_8_gopro', 'dmphn_1_2_4_gopro', 'dmphn_1_2_synthetic', 'stack_mpn_4_gopro']
"""

from hgzoo import deblur, export, fewshot, layers, metrics, text, tuning, weights
from hgzoo.registry import create_model, get_model_class, list_models, model_classes
from hgzoo.version import __version__

__all__ = ["__version__", "create_model", "deblur", "export", "fewshot", "get_model_class", "layers",
           "list_models", "metrics", "model_classes", "text", "tuning", "weights"]
