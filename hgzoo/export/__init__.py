"""Export models as SavedModels laid out for TensorFlow Serving.

Example:

>>> import hgzoo
>>> model = hgzoo.deblur.DMPHN(levels=(1,))
>>> path = hgzoo.export.export_for_serving(model, "/tmp/models/dmphn", version=1)  # doctest: +SKIP
>>> body = hgzoo.export.predict_request({"image": image[None]})  # doctest: +SKIP
"""

from hgzoo.export.serving import export_for_serving, predict_request

__all__ = ["export_for_serving", "predict_request"]
