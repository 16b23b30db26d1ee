"""Weights: the manifest of presets, the verified store, safe checkpoint reading.

Example:

>>> import hgzoo
>>> sorted(hgzoo.weights.manifest.all_presets())[:1]
['dmphn_1_2_4_8_gopro']
"""

from hgzoo.weights import manifest, store
from hgzoo.weights.torch_pickle import load_torch_state_dict

__all__ = ["load_torch_state_dict", "manifest", "store"]
