"""The JSONL corpus: one dialogue per line, appended whole, read back for resuming and training.

Each record is written as a single line with one ``write`` followed by a
flush and fsync, so a kill leaves at most one half-written *last* line. On
reading, that unterminated tail is cut off (and counted); any other line that
is not a complete record is *corrupt*: refused by default with its line
number, or skipped and counted with ``on_corrupt="skip"``, in which case the
simulator rewrites the file without it and generates its dialogue again. Either way no dialogue is lost or
present twice.
"""

import json
import os
import pathlib

from hgzoo.errors import ResumeError
from hgzoo.files import replace_atomically

REQUIRED = ("index", "run", "persona", "scenario", "turns", "outcome")


class CorpusReadout:
    """What :func:`read_corpus` found: the good records, the numbers of the corrupt lines it skipped,
    and whether it cut a half-written last line.

    >>> import os, pathlib, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "c.jsonl")
    >>> _ = pathlib.Path(path).write_text("{not json\\n")
    >>> found = read_corpus(path, on_corrupt="skip")
    >>> found.records, found.corrupt_lines, found.truncated_tail
    ([], [1], False)
    """

    def __init__(self, records, corrupt_lines, truncated_tail):
        self.records, self.corrupt_lines, self.truncated_tail = records, corrupt_lines, truncated_tail


def _valid(record):
    return isinstance(record, dict) and all(k in record for k in REQUIRED) and isinstance(record["turns"], list)


def read_corpus(path, on_corrupt="refuse", repair=False):
    """Records of a corpus file, or a :class:`~hgzoo.errors.ResumeError` naming the first corrupt line.

    Args:
        path: the JSONL file (a missing file has no records).
        on_corrupt: ``"refuse"`` (default) or ``"skip"`` (count and ignore).
        repair: cut a half-written last line off the file (done before appending).

    >>> import tempfile, os
    >>> read_corpus(os.path.join(tempfile.mkdtemp(), "none.jsonl")).records
    []
    """
    if on_corrupt not in ("refuse", "skip"):
        raise ValueError(f"on_corrupt must be 'refuse' or 'skip', got {on_corrupt!r}")
    if not os.path.exists(path):
        return CorpusReadout([], [], False)
    with open(path, "rb") as f:
        data = f.read()
    truncated = bool(data) and not data.endswith(b"\n")
    if truncated:
        keep = data.rfind(b"\n") + 1
        if repair:
            with open(path, "r+b") as f:
                f.truncate(keep)
                os.fsync(f.fileno())
        data = data[:keep]
    records, corrupt, seen = [], [], set()
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not _valid(record) or record["index"] in seen:
            if on_corrupt == "refuse":
                raise ResumeError(f"{path} line {number} is not a complete dialogue record (or repeats index "
                                  f"{record.get('index') if isinstance(record, dict) else '?'}): fix or delete it, "
                                  "or resume with on_corrupt='skip' (--on-corrupt skip) to ignore it and "
                                  "generate that dialogue again")
            corrupt.append(number)
            continue
        seen.add(record["index"])
        records.append(record)
    return CorpusReadout(records, corrupt, truncated)


def _line(record):
    return json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"


def rewrite_corpus(path, records):
    """Replace ``path`` atomically with ``records`` only (drops skipped corrupt lines for good)."""
    replace_atomically(path, lambda tmp: pathlib.Path(tmp).write_text("".join(map(_line, records)),
                                                                      encoding="utf-8"), suffix=".jsonl")


def append_record(path, record):
    """Append one record as one line, flushed and synced, so it is either whole or a cut tail."""
    line = _line(record)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())
