"""The paper's Table-1 features: 4 time windows × 3 PC scopes × 10 activity counters per user and day.

Feature ``w * 30 + s * 10 + a`` counts activity ``ACTIVITIES[a]`` in time
window ``WINDOWS[w]`` on PC scope ``SCOPES[s]`` (``papers.md`` §15: "Feature
= time + PC + activity", 120 per user and time unit; the time unit is a day
here). Choices the paper does not publish, with their defaults:

- work hours: 08:00 to 18:00 on weekdays; after hours: the rest of a
  weekday; weekend: Saturday and Sunday (``work_hours``, ``weekend_days``);
- a user's own PC: the PC they log on to most often in ``logon.csv``;
- ``doc_oper_times``: file events on ``DOC_EXTENSIONS``; ``exe_oper_times``:
  on ``.exe``; ``file_oper_times``: every file event;
- job-search and leak websites: the domains of ``JOB_SITES`` and
  ``LEAK_SITES`` (a URL counts when its host is the domain or a subdomain);
- ``e-mail_oper_times``: e-mails the user sends; ``e-mail_mean_size_atts``:
  the mean ``size`` in kB of those of them that carry attachments (0 if none);
- ``usb_oper_times``: ``Connect`` events of ``device.csv``;
- a user-day without a single event is no behaviour and gets no row.

Example:

>>> import tempfile
>>> from hgzoo.anomaly.data import generate_cert
>>> data = extract_features(generate_cert(tempfile.mkdtemp(), users=6, days=28, seed=0), progress=False)
>>> data.features.shape[1], feature_name(0), feature_name(119)
(120, 'work_hours/own_pc/logon_times', 'whole/whole/usb_oper_times')
"""

import collections
import dataclasses
import json
import os
import urllib.parse

import numpy as np

from hgzoo.anomaly.cert import ACTIVITY_FILES, CertLog, InvalidCertError, SkipReport, read_insiders
from hgzoo.files import replace_atomically

WINDOWS = ("work_hours", "after_hours", "weekend", "whole")
SCOPES = ("own_pc", "other_pc", "whole")
ACTIVITIES = ("logon_times", "file_oper_times", "doc_oper_times", "exe_oper_times", "http_oper_times",
              "job_oper_times", "leak_oper_times", "email_oper_times", "email_mean_size_atts", "usb_oper_times")
NUM_FEATURES = len(WINDOWS) * len(SCOPES) * len(ACTIVITIES)
DOC_EXTENSIONS = (".doc", ".docx", ".pdf", ".txt", ".rtf", ".xls", ".xlsx", ".ppt", ".pptx", ".odt")
# Domains seen in the CERT releases' job-search and data-leak scenarios, plus common equivalents.
JOB_SITES = ("careerbuilder.com", "craigslist.org", "indeed.com", "job-hunt.org", "jobhuntersbible.com",
             "linkedin.com", "monster.com", "simplyhired.com", "glassdoor.com", "hotjobs.yahoo.com")
LEAK_SITES = ("wikileaks.org", "dropbox.com", "drive.google.com", "mega.co.nz", "pastebin.com",
              "sendspace.com", "4shared.com")
_A = {name: i for i, name in enumerate(ACTIVITIES)}


def feature_name(index):
    """``window/scope/activity`` of feature ``index`` (0..119)."""
    w, rest = divmod(int(index), len(SCOPES) * len(ACTIVITIES))
    s, a = divmod(rest, len(ACTIVITIES))
    return f"{WINDOWS[w]}/{SCOPES[s]}/{ACTIVITIES[a]}"


@dataclasses.dataclass
class FeatureConfig:
    """What the counters count: work hours, weekend days and the website categories.

    Example:

    >>> import datetime
    >>> config = FeatureConfig(work_hours=(9, 17), job_sites=("monster.com",))
    >>> config.window(datetime.datetime(2010, 1, 4, 18, 30)), config.is_job("http://jobs.monster.com/x")
    ('after_hours', True)
    """

    work_hours: tuple = (8, 18)
    weekend_days: tuple = (5, 6)  # datetime.weekday(): Saturday, Sunday
    job_sites: tuple = JOB_SITES
    leak_sites: tuple = LEAK_SITES
    doc_extensions: tuple = DOC_EXTENSIONS

    def __post_init__(self):
        start, end = self.work_hours
        if not 0 <= start < end <= 24:
            raise ValueError(f"work_hours must be (start, end) hours with 0 <= start < end <= 24, "
                             f"got {self.work_hours}")
        self.work_hours = (float(start), float(end))
        self.weekend_days = tuple(int(d) for d in self.weekend_days)
        self.job_sites = tuple(s.lower() for s in self.job_sites)
        self.leak_sites = tuple(s.lower() for s in self.leak_sites)
        self.doc_extensions = tuple(e.lower() for e in self.doc_extensions)

    def window(self, when):
        if when.weekday() in self.weekend_days:
            return "weekend"
        hour = when.hour + when.minute / 60
        return "work_hours" if self.work_hours[0] <= hour < self.work_hours[1] else "after_hours"

    @staticmethod
    def _host(url):
        host = urllib.parse.urlsplit(url if "//" in url else "//" + url).hostname or ""
        return host.lower()

    def _matches(self, url, sites):
        host = self._host(url)
        return any(host == s or host.endswith("." + s) for s in sites)

    def is_job(self, url):
        return self._matches(url, self.job_sites)

    def is_leak(self, url):
        return self._matches(url, self.leak_sites)

    def as_dict(self):
        return {k: list(v) for k, v in dataclasses.asdict(self).items()}


@dataclasses.dataclass
class UserDayFeatures:
    """Table-1 features, one row per active user-day, with the ground truth where ``answers/`` has it.

    ``labels``: 1 on an insider's malicious days, 0 otherwise, -1 when the
    folder had no ``answers/``. ``meta``: the configuration, the layout found
    and the skip report.

    Example:

    >>> data = UserDayFeatures(np.array(["U1"]), np.array(["2010-01-04"]), np.zeros((1, 120), "float32"),
    ...                        np.array([0]), {})
    >>> len(data), data.user_labels()
    (1, (array(['U1'], dtype='<U2'), array([0])))
    """

    users: np.ndarray
    days: np.ndarray
    features: np.ndarray
    labels: np.ndarray
    meta: dict

    def __len__(self):
        return len(self.users)

    def user_labels(self):
        """``(users, labels)``: each user once, labelled 1 when any of their days is."""
        names, inverse = np.unique(self.users, return_inverse=True)
        labels = np.full(len(names), -1 if len(self) and self.labels.min() < 0 else 0)
        np.maximum.at(labels, inverse, self.labels)
        return names, labels

    def subset(self, mask):
        return UserDayFeatures(self.users[mask], self.days[mask], self.features[mask], self.labels[mask], self.meta)

    def save(self, path):
        """Write a ``.npz`` (no pickles) atomically."""
        def write(tmp):
            with open(tmp, "wb") as f:
                np.savez_compressed(f, users=self.users.astype(str), days=self.days.astype(str),
                                    features=self.features, labels=self.labels, meta=np.array(json.dumps(self.meta)))

        replace_atomically(os.fspath(path), write, suffix=".npz")

    @classmethod
    def load(cls, path):
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path} does not exist: write it with `hgzoo anomaly features`")
        try:
            with np.load(path, allow_pickle=False) as f:
                data = cls(f["users"], f["days"], f["features"].astype("float32"), f["labels"].astype("int64"),
                           json.loads(str(f["meta"])))
        except (ValueError, KeyError, OSError) as e:
            raise InvalidCertError(f"{path} is no features file of `hgzoo anomaly features` ({e})") from None
        if data.features.ndim != 2 or data.features.shape[1] != NUM_FEATURES:
            raise InvalidCertError(f"{path}: features must be (rows, {NUM_FEATURES}), got {data.features.shape}")
        return data


def own_pcs(folder, on_bad_line="raise", skips=None, progress=False):
    """``{user: pc}``: the PC each user logs on to most often (``logon.csv``)."""
    log = CertLog(os.path.join(folder, "logon.csv"), on_bad_line=on_bad_line, skips=skips)
    counts = collections.defaultdict(collections.Counter)
    user, pc, activity = log.index["user"], log.index["pc"], log.index["activity"]
    for chunk in log.chunks(progress=progress):
        for _, _, fields in chunk:
            if fields[activity] == "Logon":
                counts[fields[user]][fields[pc]] += 1
    return {u: c.most_common(1)[0][0] for u, c in counts.items()}


def _activities(kind, fields, index, config):
    """The counters one event increments, and the e-mail size (kB) it adds to the attachment mean."""
    if kind == "logon":
        return (("logon_times",) if fields[index["activity"]] == "Logon" else ()), None
    if kind == "device":
        return (("usb_oper_times",) if fields[index["activity"]] == "Connect" else ()), None
    if kind == "file":
        name = fields[index["filename"]].lower()
        extra = ("doc_oper_times",) if name.endswith(config.doc_extensions) else \
            ("exe_oper_times",) if name.endswith(".exe") else ()
        return ("file_oper_times",) + extra, None
    if kind == "http":
        url = fields[index["url"]]
        return ("http_oper_times",) + (("job_oper_times",) if config.is_job(url) else ()) + \
            (("leak_oper_times",) if config.is_leak(url) else ()), None
    text = fields[index["attachments"]].strip()
    # r4.2 writes a count; r5.2 lists the attachment names, separated by ';'
    attachments = int(text) if text.isdigit() else len([a for a in text.split(";") if a.strip()])
    try:
        size = float(fields[index["size"]])
    except ValueError:
        raise ValueError(f"e-mail size {fields[index['size']]!r} is no number") from None
    return ("email_oper_times",), (size / 1000 if attachments > 0 else None)


def extract_features(folder, config=None, on_bad_line="raise", dataset=None, progress=True, chunk_rows=100_000):
    """Table-1 features of every active user-day of a CERT release folder.

    Args:
        folder: the release folder (``logon.csv``, ``device.csv``, ``file.csv``,
            ``http.csv``, ``email.csv``; ``answers/`` optional, for labels).
        config: a :class:`FeatureConfig` (defaults documented in this module).
        on_bad_line: ``"raise"`` or ``"skip"`` (counted; the report is in ``meta["skipped"]``); this
            covers malformed log lines and insiders of ``answers/`` who appear in no log.
        dataset: the ``answers/insiders.csv`` dataset to label from (``"4.2"``); None reads it from
            a folder named ``r4.2``, else takes every row.
        progress: a progress bar per file.
        chunk_rows: lines per chunk. Memory holds one chunk plus the counters of every active
            user-day seen so far (about 0.6 kB each: some 200 MB for CERT r4.2's 330,000), never a
            whole file.

    Returns:
        :class:`UserDayFeatures`, rows sorted by user then day.
    """
    folder = os.fspath(folder)
    config = config or FeatureConfig()
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder} is no folder: give a CERT release folder (logon.csv, http.csv, ...)")
    logs = {kind: CertLog(os.path.join(folder, f"{kind}.csv"), kind, on_bad_line) for kind in ACTIVITY_FILES}
    skips = SkipReport()
    for log in logs.values():
        log.skips = skips
    own = own_pcs(folder, on_bad_line, SkipReport(), progress=False)  # logon.csv's skips are counted below
    counts = collections.defaultdict(lambda: np.zeros(NUM_FEATURES, np.float32))  # ~0.6 kB a user-day
    sizes = collections.defaultdict(lambda: np.zeros((len(WINDOWS), len(SCOPES), 2)))
    w_index, s_index = {w: i for i, w in enumerate(WINDOWS)}, len(ACTIVITIES)
    whole_w, whole_s = WINDOWS.index("whole"), SCOPES.index("whole")
    for kind, log in logs.items():
        if progress:
            print(f"Reading {log.path} ({log.release} layout)")
        user, pc, index = log.index["user"], log.index["pc"], log.index
        for chunk in log.chunks(chunk_rows, progress=progress):
            for number, when, fields in chunk:
                try:
                    names, size = _activities(kind, fields, index, config)
                except ValueError as e:
                    log._bad(number, str(e), ",".join(fields))
                    continue
                key = (fields[user], when.date())
                row = counts[key]  # an event that increments nothing still makes the day active
                w = w_index[config.window(when)]
                s = 0 if own.get(fields[user]) == fields[pc] else 1
                cells = ((w, s), (w, whole_s), (whole_w, s), (whole_w, whole_s))
                for name in names:
                    a = _A[name]
                    for cw, cs in cells:
                        row[cw * 30 + cs * s_index + a] += 1
                if size is not None:
                    for cw, cs in cells:
                        sizes[key][cw, cs] += (size, 1)
    mean = _A["email_mean_size_atts"]
    for key, total in sizes.items():
        for cw in range(len(WINDOWS)):
            for cs in range(len(SCOPES)):
                if total[cw, cs, 1]:
                    counts[key][cw * 30 + cs * s_index + mean] = total[cw, cs, 0] / total[cw, cs, 1]
    keys = sorted(counts)
    users = np.array([k[0] for k in keys], dtype=str)
    days = np.array([k[1].isoformat() for k in keys], dtype=str)
    features = np.stack([counts[k] for k in keys]).astype("float32") if keys else np.zeros((0, NUM_FEATURES),
                                                                                           "float32")
    if not keys:
        raise InvalidCertError(f"{folder}: the logs hold no event at all; nothing to extract")
    labels, insiders = _labels(folder, dataset, set(users), keys, skips if on_bad_line == "skip" else None)
    meta = {"folder": os.path.abspath(folder), "config": config.as_dict(),
            "layouts": {k: log.release for k, log in logs.items()}, "skipped": skips.as_dict(),
            "skip_summary": skips.summary(), "insiders": insiders, "user_days": len(keys)}
    if progress:
        print(f"{len(keys)} active user-days of {len(set(users))} users; {skips.summary()}")
    return UserDayFeatures(users, days, features, labels, meta)


def _labels(folder, dataset, known_users, keys, skips):
    if not os.path.isdir(os.path.join(folder, "answers")):
        return np.full(len(keys), -1, np.int64), []
    if dataset is None:
        name = os.path.basename(os.path.normpath(folder))
        dataset = name[1:] if name.startswith("r") and name[1:2].isdigit() else None
    insiders = read_insiders(folder, dataset, known_users, skips)
    bad = {(i.user, day) for i in insiders for day in i.days}
    labels = np.array([int(k in bad) for k in keys], np.int64)
    return labels, [{"user": i.user, "scenario": i.scenario, "start": i.start.isoformat(),
                     "end": i.end.isoformat(), "days": len(i.days)} for i in insiders]

