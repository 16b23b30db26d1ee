"""Labelled text from TSV files: ``text<TAB>label`` rows, checked line by line."""

import dataclasses
import os

import numpy as np

from hgzoo.errors import InvalidTextDataError

HEADER_TEXT = ("sentence", "text")
HEADER_LABEL = ("label",)
MAX_LINE_CHARS = 1_000_000  # far beyond what a text backbone reads (it truncates to its token limit)


@dataclasses.dataclass
class TextDataset:
    """Texts with integer labels indexing ``class_names`` (labels is None for unlabelled text).

    Example:

    >>> data = TextDataset(["good", "bad"], np.array([1, 0]), ["0", "1"])
    >>> len(data), data.num_classes
    (2, 2)
    """

    texts: list
    labels: np.ndarray
    class_names: list

    def __len__(self):
        return len(self.texts)

    @property
    def num_classes(self):
        return len(self.class_names)


def _sort_key(name):
    # Numeric labels ("0", "1", "10") in numeric order, names alphabetically after them.
    try:
        return (0, float(name), name)
    except ValueError:
        return (1, 0.0, name)


def _rows(path):
    """Tab-split lines; utf-8-sig drops a byte-order mark (else the header becomes a class).

    Lines are read with a length bound rather than by the csv module, whose
    field limit (131,072) ends in a traceback and which offers nothing here:
    quotes are text.
    """
    with open(path, encoding="utf-8-sig") as f:
        number = 0
        while True:
            line = f.readline(MAX_LINE_CHARS + 2)  # + the line ending
            if not line:
                return
            number += 1
            text = line.rstrip("\r\n")
            if len(text) > MAX_LINE_CHARS:
                raise InvalidTextDataError(
                    f"{path}, line {number} is longer than {MAX_LINE_CHARS:,} characters; split or "
                    "shorten the text (models read only its first few hundred tokens)")
            yield text.split("\t")


def read_tsv(path, class_names=None, labelled=True):
    """Read a ``text<TAB>label`` file (a ``sentence/text  label`` header line is skipped).

    Args:
        path: the file (UTF-8, with or without a byte-order mark). Quotes are
            literal text (no CSV quoting); a line may hold up to
            :data:`MAX_LINE_CHARS` (1,000,000) characters.
        class_names: the label vocabulary, in index order. ``None`` takes
            the labels found, numbers in numeric order then names
            alphabetically; a label outside a given vocabulary raises.
        labelled: False reads the first column only (rows may have one).

    Returns:
        A :class:`TextDataset`.

    Raises:
        InvalidTextDataError: naming the line for a missing label column, an
            empty text, an unknown label, a line over :data:`MAX_LINE_CHARS`,
            or a file that is not UTF-8 text.
        FileNotFoundError: when ``path`` does not exist.

    Example:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "train.tsv"
    >>> _ = path.write_text("sentence\\tlabel\\na fine film\\t1\\ndull\\t0\\n")
    >>> data = read_tsv(path)
    >>> data.texts, data.labels.tolist(), data.class_names
    (['a fine film', 'dull'], [1, 0], ['0', '1'])
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a folder, not a TSV file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such text file: {path}")
    texts, names = [], []
    try:
        for number, row in enumerate(_rows(path), start=1):
            if not any(cell.strip() for cell in row):
                continue
            if number == 1 and row[0].strip().lower() in HEADER_TEXT and (
                    len(row) < 2 or row[1].strip().lower() in HEADER_LABEL):
                continue
            text = row[0].strip()
            if not text:
                raise InvalidTextDataError(f"{path}, line {number}: the text column is empty")
            if labelled:
                if len(row) < 2 or not row[1].strip():
                    raise InvalidTextDataError(
                        f"{path}, line {number}: expected 'text<TAB>label', found no label column "
                        f"(is the file comma-separated? pass labelled=False for unlabelled text)")
                if len(row) > 2:
                    raise InvalidTextDataError(
                        f"{path}, line {number}: {len(row)} tab-separated columns, expected 2 "
                        "(text<TAB>label); a tab inside the text must be removed")
                names.append(row[1].strip())
            texts.append(text)
    except UnicodeDecodeError as e:
        raise InvalidTextDataError(f"{path} is not UTF-8 text ({e})") from None
    if not texts:
        raise InvalidTextDataError(f"{path} has no rows of text")
    if not labelled:
        return TextDataset(texts, None, list(class_names) if class_names is not None else None)
    vocabulary = sorted(set(names), key=_sort_key) if class_names is None else [str(c) for c in class_names]
    index = {name: i for i, name in enumerate(vocabulary)}
    unknown = sorted(set(names) - set(index), key=_sort_key)
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise InvalidTextDataError(f"{path}: label(s) {shown} are not among the model's classes {vocabulary}")
    return TextDataset(texts, np.array([index[n] for n in names], dtype="int32"), vocabulary)
