"""Zero-shot data pipelines (TensorFlow allowed here): the tfds builder of a GBU dataset.

Example:

>>> from hgzoo.zeroshot import data
>>> data.__name__
'hgzoo.zeroshot.data'
"""
