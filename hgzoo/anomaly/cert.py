"""CERT insider-threat dataset files (r4.2 and r5.2 layouts), read line by line with schema checks.

The activity logs (``logon``, ``device``, ``file``, ``http``, ``email``) are
streamed in chunks, so the multi-GB ``http.csv`` is read in bounded memory;
every line is checked (column count, timestamp) and a bad one either stops
the read with an error naming the file, the line and the expected columns
(``on_bad_line="raise"``, the default) or is counted in a :class:`SkipReport`
(``"skip"``). Layouts (``papers.md`` §15): r4.2 files carry the columns of
``REQUIRED``; r5.2 adds the columns of ``LATER`` (e.g. ``file.csv``'s
``activity``, ``to_removable_media``, ``from_removable_media``); a header is
accepted when it holds every required column and nothing outside the two, in
any order, and :attr:`CertLog.release` says which layout was found.

Example:

>>> import tempfile, os
>>> from hgzoo.anomaly.data import generate_cert
>>> folder = generate_cert(tempfile.mkdtemp(), users=6, days=28, seed=0)
>>> log = CertLog(os.path.join(folder, "logon.csv"))
>>> log.release, log.columns
('r4.2', ('id', 'date', 'user', 'pc', 'activity'))
>>> sum(len(chunk) for chunk in log.chunks()) > 0
True
"""

import collections
import csv
import dataclasses
import datetime
import glob
import io
import os

from hgzoo.errors import HgzooError

ACTIVITY_FILES = ("logon", "device", "file", "http", "email")
REQUIRED = {
    "logon": ("id", "date", "user", "pc", "activity"),
    "device": ("id", "date", "user", "pc", "activity"),
    "file": ("id", "date", "user", "pc", "filename", "content"),
    "http": ("id", "date", "user", "pc", "url", "content"),
    "email": ("id", "date", "user", "pc", "to", "cc", "bcc", "from", "size", "attachments", "content"),
}
LATER = {  # columns the r5.x releases add
    "logon": (),
    "device": ("file_tree",),
    "file": ("activity", "to_removable_media", "from_removable_media"),
    "http": ("activity",),
    "email": ("activity",),
}
LDAP_COLUMNS = ("employee_name", "user_id", "email", "role", "business_unit", "functional_unit", "department",
                "team", "supervisor")
LDAP_LATER = ("projects",)
PSYCHOMETRIC_COLUMNS = ("employee_name", "user_id", "O", "C", "E", "A", "N")
INSIDER_COLUMNS = ("dataset", "scenario", "details", "user", "start", "end")
DATE_FORMAT = "MM/DD/YYYY HH:MM:SS"
MAX_LINE_BYTES = 10_000_000  # far beyond any CERT line (email contents are a few kB)


class InvalidCertError(HgzooError, ValueError):
    """A CERT file that is missing columns, has a malformed line or refers to something unknown."""


def parse_date(text):
    """``MM/DD/YYYY HH:MM:SS`` (CERT's timestamp) as a datetime; ValueError when it is not one.

    >>> parse_date("01/02/2010 07:11:45")
    datetime.datetime(2010, 1, 2, 7, 11, 45)
    """
    if len(text) != 19 or text[2] != "/" or text[5] != "/" or text[10] != " " or text[13] != ":" \
            or text[16] != ":":
        raise ValueError(f"{text!r} is not {DATE_FORMAT}")
    try:
        return datetime.datetime(int(text[6:10]), int(text[0:2]), int(text[3:5]), int(text[11:13]),
                                 int(text[14:16]), int(text[17:19]))
    except ValueError:
        raise ValueError(f"{text!r} is not a valid {DATE_FORMAT} date") from None


class SkipReport:
    """Counts of the lines skipped, by file and reason, with the first line number of each.

    >>> report = SkipReport()
    >>> report.add("http.csv", 7, "bad timestamp")
    >>> report.total, report.summary()
    (1, 'skipped 1 line(s): http.csv: 1 bad timestamp (first at line 7)')
    """

    def __init__(self):
        self.counts = collections.Counter()
        self.first = {}

    def add(self, file, line, reason):
        key = (os.path.basename(file), reason)
        self.counts[key] += 1
        self.first.setdefault(key, line)

    @property
    def total(self):
        return sum(self.counts.values())

    def as_dict(self):
        return {f"{f}: {r}": {"count": n, "first_line": self.first[(f, r)]} for (f, r), n in self.counts.items()}

    def summary(self):
        if not self.total:
            return "no lines skipped"
        parts = [f"{f}: {n} {r} (first at line {self.first[(f, r)]})" for (f, r), n in sorted(self.counts.items())]
        return f"skipped {self.total} line(s): " + "; ".join(parts)


def _check_file(path, what):
    if os.path.isdir(path):
        raise InvalidCertError(f"{path} is a folder; expected the CERT {what} file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} does not exist: a CERT release folder (r4.2, r5.2) has {what}")


def _header(path, line, required, later):
    columns = tuple(c.strip() for c in line.lstrip("\ufeff").rstrip("\r\n").split(","))
    known = set(required) | set(later)
    missing = [c for c in required if c not in columns]
    unknown = [c for c in columns if c not in known]
    if missing or unknown or len(set(columns)) != len(columns):
        raise InvalidCertError(
            f"{path}, line 1: header {','.join(columns)[:200]!r} is no CERT header; expected the columns "
            f"{','.join(required)} (r4.2){' plus ' + ','.join(later) + ' (r5.2)' if later else ''}")
    return columns


def _split(line, width, free_text_last):
    """Fields of one line; CERT writes no quotes, but a quoted line is read as CSV, and a last
    ``content`` column that holds commas keeps them (any other extra field is a wrong column count)."""
    fields = next(csv.reader([line])) if '"' in line else line.split(",")
    if free_text_last and len(fields) > width:
        fields = fields[:width - 1] + [",".join(fields[width - 1:])]
    return fields


class CertLog:
    """One CERT activity file (``logon``, ``device``, ``file``, ``http`` or ``email`` ``.csv``).

    Args:
        path: the file; its name (``http.csv``) says which kind it is unless ``kind`` is given.
        kind: one of ``ACTIVITY_FILES``.
        on_bad_line: ``"raise"`` (an :class:`InvalidCertError` naming the file, line and expected
            columns) or ``"skip"`` (counted in ``skips``).
        skips: a :class:`SkipReport` to count into (a new one by default).

    Example:

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "device.csv")
    >>> _ = open(path, "w").write("id,date,user,pc,activity\\n{A1},01/04/2010 09:00:00,AAA0001,PC-0001,Connect\\n")
    >>> [[(line, user, when.hour) for line, when, (_, _, user, _, _) in chunk] for chunk in CertLog(path).chunks()]
    [[(2, 'AAA0001', 9)]]
    """

    def __init__(self, path, kind=None, on_bad_line="raise", skips=None):
        path = os.fspath(path)
        kind = kind or os.path.splitext(os.path.basename(path))[0].lower()
        if kind not in REQUIRED:
            raise ValueError(f"{path}: unknown CERT activity file kind {kind!r}; expected one of {ACTIVITY_FILES}")
        if on_bad_line not in ("raise", "skip"):
            raise ValueError(f"on_bad_line must be 'raise' or 'skip', got {on_bad_line!r}")
        _check_file(path, f"{kind}.csv")
        self.path, self.kind, self.on_bad_line = path, kind, on_bad_line
        self.skips = skips if skips is not None else SkipReport()
        with open(path, "rb") as f:
            first = f.readline(MAX_LINE_BYTES)
        if not first.strip():
            raise InvalidCertError(f"{path} is empty; expected a header line {','.join(REQUIRED[kind])}")
        try:
            first = first.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidCertError(f"{path}, line 1: not UTF-8 text; expected a CSV header "
                                   f"{','.join(REQUIRED[kind])}") from None
        self.columns = _header(path, first, REQUIRED[kind], LATER[kind])
        self.index = {c: i for i, c in enumerate(self.columns)}
        self.release = "r4.2" if len(self.columns) == len(REQUIRED[kind]) else "r5.2"
        self.size = os.path.getsize(path)

    def _bad(self, number, reason, line):
        if self.on_bad_line == "raise":
            raise InvalidCertError(f"{self.path}, line {number}: {reason}; expected {len(self.columns)} columns "
                                   f"{','.join(self.columns)} with date as {DATE_FORMAT} (pass on_bad_line='skip' / "
                                   f"--skip-bad-lines to count and skip such lines); the line starts "
                                   f"{line[:80]!r}")
        self.skips.add(self.path, number, reason)

    def chunks(self, rows=100_000, progress=False):
        """Yield lists of ``(line number, datetime, fields)``, at most ``rows`` per list.

        ``fields`` is the line's values in ``columns`` order. ``progress`` shows a
        bar over the file's bytes (stderr), for the GB-sized ``http.csv``.
        """
        import keras

        bar = keras.utils.Progbar(self.size, unit_name="byte") if progress else None
        width, date = len(self.columns), self.index["date"]
        chunk, done = [], 0
        with open(self.path, "rb") as f:
            done += len(f.readline(MAX_LINE_BYTES))
            number = 1
            while True:
                raw = f.readline(MAX_LINE_BYTES)
                if not raw:
                    break
                number += 1
                done += len(raw)
                try:
                    line = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError:
                    self._bad(number, "not UTF-8 text", raw.decode("latin-1"))
                    continue
                if not line.strip():
                    continue
                fields = _split(line, width, self.columns[-1] == "content")
                if len(fields) != width:
                    self._bad(number, f"{len(fields)} columns", line)
                    continue
                try:
                    when = parse_date(fields[date])
                except ValueError as e:
                    self._bad(number, f"bad timestamp ({e})", line)
                    continue
                chunk.append((number, when, fields))
                if len(chunk) >= rows:
                    if bar is not None:
                        bar.update(done)
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk
        if bar is not None:
            bar.update(self.size, finalize=True)


def _read_table(path, required, later=(), what=None):
    """Rows of a small CSV (LDAP month, psychometric, insiders) as dicts, header checked."""
    _check_file(path, what or os.path.basename(path))
    with open(path, encoding="utf-8-sig", newline="") as f:
        text = f.read()
    if not text.strip():
        raise InvalidCertError(f"{path} is empty; expected a header line {','.join(required)}")
    lines = text.splitlines()
    columns = _header(path, lines[0], required, later)
    rows = []
    for number, fields in enumerate(csv.reader(io.StringIO("\n".join(lines[1:]))), start=2):
        if not fields:
            continue
        if len(fields) != len(columns):
            raise InvalidCertError(f"{path}, line {number}: {len(fields)} columns; expected {len(columns)} "
                                   f"columns {','.join(columns)}")
        rows.append(dict(zip(columns, (v.strip() for v in fields))))
    return rows


def read_ldap(folder):
    """The monthly rosters ``LDAP/YYYY-MM.csv`` as ``{"YYYY-MM": [row dicts]}``.

    >>> import tempfile
    >>> from hgzoo.anomaly.data import generate_cert
    >>> rosters = read_ldap(generate_cert(tempfile.mkdtemp(), users=6, days=28, seed=0))
    >>> sorted(rosters)[0], sorted(rosters["2010-01"][0])[:3]
    ('2010-01', ['business_unit', 'department', 'email'])
    """
    ldap = os.path.join(os.fspath(folder), "LDAP")
    if not os.path.isdir(ldap):
        raise FileNotFoundError(f"{folder} has no LDAP/ folder: a CERT release holds one roster per month, "
                                f"LDAP/YYYY-MM.csv")
    paths = sorted(glob.glob(os.path.join(ldap, "*.csv")))
    if not paths:
        raise FileNotFoundError(f"{ldap} holds no YYYY-MM.csv roster")
    rosters = {}
    for path in paths:
        month = os.path.splitext(os.path.basename(path))[0]
        try:
            datetime.datetime.strptime(month, "%Y-%m")
        except ValueError:
            raise InvalidCertError(f"{path}: an LDAP roster is named YYYY-MM.csv (e.g. 2010-01.csv)") from None
        rosters[month] = _read_table(path, LDAP_COLUMNS, LDAP_LATER)
    return rosters


def read_psychometric(folder):
    """``psychometric.csv`` as ``{user_id: {"O": float, "C": ..., "N": ...}}``."""
    path = os.path.join(os.fspath(folder), "psychometric.csv")
    scores = {}
    for number, row in enumerate(_read_table(path, PSYCHOMETRIC_COLUMNS), start=2):
        try:
            scores[row["user_id"]] = {k: float(row[k]) for k in "OCEAN"}
        except ValueError:
            raise InvalidCertError(f"{path}, line {number}: O,C,E,A,N must be numbers, got "
                                   f"{[row[k] for k in 'OCEAN']}") from None
    return scores


@dataclasses.dataclass
class Insider:
    """One row of ``answers/insiders.csv``: who, which scenario, when, and the malicious days found."""

    dataset: str
    scenario: int
    user: str
    start: datetime.datetime
    end: datetime.datetime
    details: str
    days: set  # dates of the listed malicious events (from the details file), else every day start..end


def read_insiders(folder, dataset=None, known_users=None, skips=None):
    """The ground truth of ``answers/``: the insiders of ``dataset`` (e.g. ``"4.2"``; None: all rows).

    ``answers/insiders.csv`` names each insider's details file
    (``answers/r4.2-1/r4.2-1-AAM0658.csv``: the malicious events, one
    ``kind,id,date,user,pc,...`` line each); the days of those events are
    the insider's malicious days, or every day from start to end where the
    file is absent. Users outside ``known_users`` (e.g. the users seen in the
    logs) are skipped and counted in ``skips`` as ``"unknown user"``.
    """
    answers = os.path.join(os.fspath(folder), "answers")
    path = os.path.join(answers, "insiders.csv")
    insiders = []
    for number, row in enumerate(_read_table(path, INSIDER_COLUMNS, what="answers/insiders.csv"), start=2):
        if dataset is not None and row["dataset"].lstrip("r") != str(dataset).lstrip("r"):
            continue
        if known_users is not None and row["user"] not in known_users:
            if skips is None:
                raise InvalidCertError(f"{path}, line {number}: insider {row['user']!r} appears in no log")
            skips.add(path, number, "unknown user")
            continue
        try:
            start, end, scenario = parse_date(row["start"]), parse_date(row["end"]), int(row["scenario"])
        except ValueError as e:
            raise InvalidCertError(f"{path}, line {number}: {e}; start and end are {DATE_FORMAT}, "
                                   f"scenario an integer") from None
        details = _details_path(answers, row)
        days = _malicious_days(details, row["user"]) if details else None
        if not days:
            days = {(start + datetime.timedelta(days=i)).date() for i in range((end.date() - start.date()).days + 1)}
        insiders.append(Insider(row["dataset"], scenario, row["user"], start, end, row["details"], days))
    return insiders


def _details_path(answers, row):
    name = row["details"]
    for candidate in (os.path.join(answers, name),
                      os.path.join(answers, f"r{row['dataset'].lstrip('r')}-{row['scenario']}", name)):
        if name and os.path.isfile(candidate):
            return candidate
    return None


def _malicious_days(path, user):
    days = set()
    with open(path, encoding="utf-8", newline="") as f:
        for number, fields in enumerate(csv.reader(f), start=1):
            if not fields:
                continue
            dates = [v for v in fields[1:4] if len(v) == 19]
            if not dates:
                raise InvalidCertError(f"{path}, line {number}: expected kind,id,date,user,pc,... with date as "
                                       f"{DATE_FORMAT}")
            try:
                days.add(parse_date(dates[0]).date())
            except ValueError as e:
                raise InvalidCertError(f"{path}, line {number}: {e}") from None
    return days
