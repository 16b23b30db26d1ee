"""Data of the anomaly family: the synthetic CERT-format log generator.

Example:

>>> import tempfile
>>> folder = generate_cert(tempfile.mkdtemp(), users=6, days=28, seed=0)
"""

from hgzoo.anomaly.data.synthetic import generate_cert

__all__ = ["generate_cert"]
