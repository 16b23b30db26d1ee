"""Data any family uses: image files (:mod:`~hgzoo.data.images`), labelled class pools
(:mod:`~hgzoo.data.image_classes`) and helpers for TensorFlow Datasets builders
(:mod:`~hgzoo.data.tfds_manual`). A family's own pipelines live in the family,
e.g. :mod:`hgzoo.deblur.data`; nothing here imports a family.
"""
