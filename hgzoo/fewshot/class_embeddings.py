"""Class semantic embeddings for absolute-relative learning: one row per training class.

Three sources, in the order ARL prefers them: a dataset's attribute vectors
(pass the matrix), sentence embeddings of the class names from the packaged
MiniLM (:func:`sentence_embeddings`, the ``text`` extra), or any user matrix;
for Omniglot the alphabet structure (:func:`alphabet_embeddings`).

Example:

>>> alphabet_embeddings(["Greek/alpha", "Greek/beta", "Latin/a"]).round(2).tolist()[0]
[0.71, 0.0, 0.71, 0.0, 0.0]
"""

import numpy as np

from hgzoo.fewshot.omniglot import alphabet_of


def check_class_embeddings(matrix, num_classes, what="class_embeddings"):
    """``matrix`` as float32 (num_classes, D); a wrong row count is refused with the expected shape."""
    m = np.asarray(matrix, dtype=np.float32)
    if m.ndim != 2:
        raise ValueError(
            f"{what} must be a (num_classes, D) matrix, one row per training class; got shape {m.shape}"
        )
    if num_classes is not None and m.shape[0] != int(num_classes):
        raise ValueError(
            f"{what} has {m.shape[0]} rows but there are {num_classes} training classes: expected "
            f"shape ({num_classes}, {m.shape[1]}), one row per class in the pool's order"
        )
    if not np.isfinite(m).all():
        raise ValueError(f"{what} has NaN or infinite values")
    return m


def alphabet_embeddings(names):
    """Omniglot: [one-hot alphabet, one-hot character] / √2 for names ``alphabet/character`` (any prefix).

    Characters of one alphabet then have cosine similarity 0.5, of different
    alphabets 0: the only class structure Omniglot has.
    """
    alphabets = [alphabet_of(n) for n in names]
    index = {a: i for i, a in enumerate(dict.fromkeys(alphabets))}
    m = np.zeros((len(names), len(index) + len(names)), np.float32)
    m[np.arange(len(names)), [index[a] for a in alphabets]] = 1.0
    m[np.arange(len(names)), len(index) + np.arange(len(names))] = 1.0
    return m / np.sqrt(2.0)


def sentence_embeddings(names, backbone=None, cache_dir=None):
    """(len(names), 384) embeddings of the class names by the packaged all-MiniLM-L6-v2 (last layer, mean).

    Folder-style names (``.../n01440764`` or ``alphabet/character``) are used
    as given; pass readable names for meaningful similarities.
    """
    from hgzoo.text import DEFAULT_BACKBONE, FeatureExtractor

    extractor = FeatureExtractor(backbone or DEFAULT_BACKBONE, layers=(-1,), cache_dir=cache_dir)
    return np.asarray(extractor.extract([str(n) for n in names])[:, 0], np.float32)


EMBEDDING_SOURCES = ("alphabet", "names")


def class_embeddings_from(source, names):
    """One row per class of ``names`` from ``source``: ``"alphabet"`` (Omniglot's structure), ``"names"``
    (MiniLM sentence embeddings of the names) or a matrix file (``.npy``, or text: ``.csv``/``.txt``, one
    row per class in the pool's order, e.g. a dataset's attribute vectors)."""
    if source == "alphabet":
        return alphabet_embeddings(names)
    if source == "names":
        return sentence_embeddings(names)
    path = str(source)
    if path.endswith(".npy"):
        matrix = np.load(path)
    else:
        matrix = np.loadtxt(path, delimiter="," if path.endswith(".csv") else None, ndmin=2)
    return check_class_embeddings(matrix, len(names), what=f"class embeddings {path}")
