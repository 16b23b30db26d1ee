"""The JSONL corpus: one dialogue per line, appended whole, read back for resuming and training.

Each record is written as a single line with one ``write`` followed by a
flush and fsync, so a kill leaves at most one half-written *last* line. On
reading, that unterminated tail is cut off (and counted); any other line that
is not a complete record is *corrupt*: refused by default with its line
number, or skipped and counted with ``on_corrupt="skip"``, in which case its
dialogue index is simply generated again. Either way no dialogue is lost or
present twice.
"""

import json
import os

from hgzoo.errors import ResumeError

REQUIRED = ("index", "run", "persona", "scenario", "turns", "outcome")


class CorpusReadout:
    """What :func:`read_corpus` found: the good records and what it cut or skipped."""

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


def append_record(path, record):
    """Append one record as one line, flushed and synced, so it is either whole or a cut tail."""
    line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())
