"""A reader for the released PersuasionForGood annotations (Wang et al., ACL 2019): CSV or XLSX.

The release (``data/AnnotatedData`` of the authors' repository, a user
download) has one row per sentence: ``B2`` dialogue id, ``B4`` role (0
persuader, 1 persuadee), ``Turn``, ``Unit`` (the sentence) and
``er_label_1`` (the persuader's most salient label). Its label names differ
from the paper's strategy names in four places, mapped here
(``provide-org-facts`` → credibility-appeal, ``have-you-heard-of-the-org``
→ source-related-inquiry, ``provide-donation-procedure`` →
donation-information, ``example-donation`` → self-modeling); its dialogue
acts (greeting, thank, ask-donation-amount, ...) become ``non-strategy``,
counted by name in ``raw_labels``.
"""

import collections
import csv
import os

import numpy as np

from hgzoo.config import require
from hgzoo.dialogue.data.turns import TurnExamples
from hgzoo.dialogue.taxonomy import NON_STRATEGY, STRATEGIES
from hgzoo.errors import InvalidTextDataError

RELEASE_NAMES = {"provide-org-facts": "credibility-appeal", "have-you-heard-of-the-org": "source-related-inquiry",
                 "provide-donation-procedure": "donation-information", "example-donation": "self-modeling"}
COLUMNS = ("B2", "B4", "Unit", "er_label_1")


def _rows(path):
    if str(path).lower().endswith((".xlsx", ".xlsm")):
        openpyxl = require("openpyxl", "dialogue")
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:  # a read-only workbook keeps its file open until closed
            rows = [[("" if v is None else v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
        finally:
            book.close()
    else:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    header = [str(h).strip() for h in rows[0]] if rows else []
    return header, rows[1:]


def read_persuasion_for_good(path):
    """Persuader sentences with strategy labels (``TurnExamples``, ``class_names`` as
    :class:`~hgzoo.dialogue.StrategyClassifier`'s) from a PersuasionForGood CSV or XLSX file.
    The result also has ``raw_labels``: a Counter of the release's labels."""
    if os.path.isdir(path):
        raise InvalidTextDataError(f"{path} is a folder: give the annotations file itself")
    if not os.path.isfile(path):
        raise InvalidTextDataError(f"{path} does not exist: download the annotated PersuasionForGood file "
                                   "(300_dialog.xlsx or a CSV with B2, B4, Unit, er_label_1)")
    try:
        header, rows = _rows(path)
    except Exception as e:  # noqa: BLE001 - zip, XML, CSV and decoding errors all mean "not a readable table"
        raise InvalidTextDataError(f"cannot read {path} as CSV or XLSX: {type(e).__name__}: {e}") from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InvalidTextDataError(f"{path} lacks column(s) {missing} of the PersuasionForGood release "
                                   f"(found {header[:12]})")
    at = {c: header.index(c) for c in COLUMNS}
    names = [NON_STRATEGY, *STRATEGIES]
    index = {n: i for i, n in enumerate(names)}
    texts, labels, dialogues, raw = [], [], [], collections.Counter()
    for row in rows:
        if len(row) <= max(at.values()) or str(row[at["B4"]]).strip() not in ("0", "0.0"):
            continue
        text, label = str(row[at["Unit"]]).strip(), str(row[at["er_label_1"]]).strip()
        if not text or not label:
            continue
        label = RELEASE_NAMES.get(label, label)
        if label not in index:
            raw[label] += 1
            label = NON_STRATEGY
        texts.append(text)
        labels.append(index[label])
        dialogues.append(str(row[at["B2"]]))
    if not texts:
        raise InvalidTextDataError(f"{path} has no labelled persuader (B4 = 0) sentences")
    examples = TurnExamples(texts, np.asarray(labels, "int32"), names, dialogues)
    examples.raw_labels = raw
    return examples
