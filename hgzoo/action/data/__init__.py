"""Data for hgzoo.action: real-image motion clips, and tfds builders for UCF101 and HMDB51 (manual download).

Example:

>>> from hgzoo.action.data import splits
>>> len(splits.UCF101_ARN["train"]), len(splits.UCF101_ARN["val"]), len(splits.UCF101_ARN["test"])
(70, 10, 21)
"""
