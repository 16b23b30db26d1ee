"""Data for supervised domain adaptation: the digit domains and the paired-batch pipeline.

Example:

>>> from hgzoo.domain.data import DIGIT_DOMAINS
>>> DIGIT_DOMAINS
('mnist', 'uci')
"""

from hgzoo.domain.data.digits import DIGIT_DOMAINS, load_digit_domain, load_mnist_digits, load_uci_digits
from hgzoo.domain.data.pipeline import check_domains, few_shot_split, supervised_da_dataset

__all__ = ["DIGIT_DOMAINS", "check_domains", "few_shot_split", "load_digit_domain", "load_mnist_digits",
           "load_uci_digits", "supervised_da_dataset"]
