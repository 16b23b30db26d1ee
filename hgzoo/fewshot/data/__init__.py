"""Few-shot data: TFDS builders for miniImageNet-style class folders and CSV splits."""
