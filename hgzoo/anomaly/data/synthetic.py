"""A synthetic organisation's audit logs in the exact CERT r4.2 / r5.2 file formats, insiders included.

The CERT datasets may not be redistributed, so hgzoo's readers, features and
models are tested and benchmarked on this stand-in: users with a department,
role, supervisor and own PC; daily routines (logon at arrival, web browsing,
e-mail, file work, occasional USB drives and shared PCs, rare late or weekend
work); monthly LDAP rosters that drop the users who left; psychometric
scores; and the three CERT r4.2 insider scenarios, each with its
``answers/`` entry and details file:

1. a user who never worked after hours nor used removable drives starts
   logging on after hours, connecting a thumb drive and uploading to
   wikileaks.org, then leaves;
2. a user surfs job websites, then, before leaving, copies files to a thumb
   drive far more than before;
3. a system administrator downloads a keylogger, plants it on the
   supervisor's PC with a thumb drive, the next day logs on to that PC as
   the supervisor and sends a mass e-mail, then leaves.

Only the file formats follow CERT; the rates and routines are hgzoo's own,
so numbers measured on these logs say nothing about CERT itself.

Example:

>>> import os, tempfile
>>> folder = generate_cert(tempfile.mkdtemp(), users=6, days=28, seed=1)
>>> sorted(os.listdir(folder))
['LDAP', 'answers', 'device.csv', 'email.csv', 'file.csv', 'http.csv', 'logon.csv', 'psychometric.csv']
"""

import datetime
import os
import string

import numpy as np

from hgzoo.anomaly.cert import INSIDER_COLUMNS, LATER, LDAP_COLUMNS, PSYCHOMETRIC_COLUMNS, REQUIRED

START = datetime.date(2010, 1, 4)  # a Monday
NORMAL_SITES = ("google.com", "bing.com", "yahoo.com", "cnn.com", "bbc.co.uk", "nytimes.com", "wikipedia.org",
                "espn.go.com", "weather.com", "amazon.com", "ebay.com", "facebook.com", "twitter.com",
                "stackoverflow.com", "github.com", "reuters.com", "msn.com", "aol.com")
JOB_SITES = ("monster.com", "careerbuilder.com", "indeed.com", "simplyhired.com", "jobhuntersbible.com",
             "linkedin.com")
KEYLOGGER_SITES = ("actualkeylogger.com", "best-spy-soft.com", "refog.com")
WORDS = ("report", "quarter", "budget", "meeting", "project", "design", "review", "schedule", "client", "team",
         "update", "plan", "status", "sales", "draft", "notes", "data", "test", "release", "travel")
FILE_EXTENSIONS = (".doc", ".pdf", ".txt", ".jpg", ".zip", ".exe")
FILE_WEIGHTS = (0.35, 0.2, 0.2, 0.12, 0.1, 0.03)
ROLES = ("Salesman", "Engineer", "Technician", "ProductionLineWorker", "Scientist")
FIRST = ("Ava", "Ben", "Cara", "Dean", "Eve", "Finn", "Gia", "Hugo", "Ira", "Jade", "Kai", "Lena", "Milo", "Nia",
         "Otto", "Pia", "Quin", "Rosa", "Saul", "Tess", "Uma", "Vic", "Wes", "Xena", "Yara", "Zeke")
LAST = ("Hines", "Flynn", "Pratt", "Heath", "Gage", "Cantu", "Stokes", "Macias", "Jensen", "Raymond", "Kennedy",
        "Parks", "Lucas", "Ortega", "Wolf", "Fisher", "Oneill", "Becker", "Baker", "Hunter")


def _pick(rng, options):
    """One of ``options`` (``rng.choice`` costs ten times more per call, and the generator makes many)."""
    return options[int(rng.integers(len(options)))]


def _fmt(when):
    return when.strftime("%m/%d/%Y %H:%M:%S")


class _Org:
    """Users, PCs and rosters of one synthetic organisation."""

    def __init__(self, rng, users):
        self.ids, self.names, self.roles, self.pcs, self.teams = [], [], [], [], []
        for i in range(users):
            first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
            letters = "".join(rng.choice(list(string.ascii_uppercase), 3))
            self.ids.append(f"{letters}{1000 + i:04d}")
            self.names.append(f"{first} {chr(65 + i % 26)} {last}")
            self.pcs.append(f"PC-{rng.integers(1000, 9999):04d}")
            self.teams.append(i // 6)
        # each team of six: its first member manages it; one IT administrator per organisation
        self.roles = ["Manager" if i % 6 == 0 else str(_pick(rng, ROLES)) for i in range(users)]
        self.roles[1 % users] = "ITAdmin"
        self.supervisor = [self.ids[(self.teams[i] * 6)] if i % 6 else self.ids[0] for i in range(users)]
        self.shared_pcs = [f"PC-{rng.integers(1000, 9999):04d}" for _ in range(max(2, users // 10))]

    def email(self, i):
        return self.names[i].replace(" ", ".") + "@dtaa.com"


class _Writer:
    """Collects events per file and writes them sorted by time, with CERT ids."""

    def __init__(self, rng, release):
        self.rng, self.release = rng, release
        self.rows = {kind: [] for kind in REQUIRED}
        self._ids = []

    def _id(self):
        # ids are drawn in blocks: one draw per character would dominate the generation time
        if not self._ids:
            letters = np.array(list(string.ascii_uppercase + string.digits))
            self._ids = [f"{{{''.join(c[:4])}-{''.join(c[4:12])}-{''.join(c[12:])}}}"
                         for c in letters[self.rng.integers(0, len(letters), (4096, 20))]][::-1]
        return self._ids.pop()

    def add(self, kind, when, user, pc, **values):
        """Append one event; returns its CERT line prefixed by the kind (the answers/ details format)."""
        columns = REQUIRED[kind] + (LATER[kind] if self.release == "r5.2" else ())
        values.update(id=self._id(), date=_fmt(when), user=user, pc=pc)
        if "content" not in values:
            values["content"] = " ".join(WORDS[j] for j in self.rng.integers(0, len(WORDS), 6))
        values.setdefault("file_tree", "R:\\;R:\\data")
        row = [str(values.get(c, "")) for c in columns]
        self.rows[kind].append((when, row))
        return ",".join([kind] + row)

    def write(self, folder):
        for kind, rows in self.rows.items():
            columns = REQUIRED[kind] + (LATER[kind] if self.release == "r5.2" else ())
            rows.sort(key=lambda r: r[0])
            with open(os.path.join(folder, f"{kind}.csv"), "w", newline="") as f:
                f.write(",".join(columns) + "\n")
                f.writelines(",".join(row) + "\n" for _, row in rows)


def _at(day, hours):
    return datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(hours=float(hours))


class _Routine:
    """One user's ordinary habits, drawn once."""

    def __init__(self, rng):
        self.arrive, self.leave = rng.normal(8.3, 0.35), rng.normal(17.2, 0.4)
        self.http, self.email, self.files = rng.uniform(8, 30), rng.uniform(2, 10), rng.uniform(1, 8)
        self.usb = rng.uniform(0.2, 1.0) if rng.random() < 0.25 else 0.0
        self.late = 0.08 if rng.random() < 0.15 else 0.0
        self.jobs = 0.05 if rng.random() < 0.2 else 0.0
        self.weekend = 0.05 if rng.random() < 0.2 else 0.0


def _workday(w, rng, org, i, day, routine, start, end, pc, wide=1.0):
    """An ordinary stretch of work on ``pc`` from ``start`` to ``end`` hours; returns nothing."""
    user = org.ids[i]
    w.add("logon", _at(day, start), user, pc, activity="Logon")
    w.add("logon", _at(day, end), user, pc, activity="Logoff")
    span = lambda n: np.sort(rng.uniform(start + 0.05, end - 0.05, rng.poisson(n * wide)))
    for t in span(routine.http):
        site = _pick(rng, JOB_SITES) if rng.random() < routine.jobs else _pick(rng, NORMAL_SITES)
        w.add("http", _at(day, t), user, pc, url=f"http://{site}/{_pick(rng, WORDS)}", activity="WWW Visit")
    for t in span(routine.email):
        j = int(rng.integers(len(org.ids)))
        attachments = int(rng.random() < 0.3) * int(rng.integers(1, 3))
        w.add("email", _at(day, t), user, pc, to=org.email(j), cc="", bcc="", **{"from": org.email(i)},
              size=int(rng.integers(10_000, 60_000)) + 200_000 * attachments, attachments=attachments,
              activity="Send")
    for t in span(routine.files):
        ext = rng.choice(FILE_EXTENSIONS, p=FILE_WEIGHTS)
        w.add("file", _at(day, t), user, pc, filename=f"C:\\{_pick(rng, WORDS)}\\{_pick(rng, WORDS)}{ext}",
              activity="File Open", to_removable_media="False", from_removable_media="False")
    for t in span(routine.usb):
        w.add("device", _at(day, t), user, pc, activity="Connect")
        w.add("device", _at(day, min(t + 0.3, end - 0.01)), user, pc, activity="Disconnect")


def _scenario_1(w, rng, org, i, days):
    """After-hours logons, thumb drive, uploads to wikileaks.org."""
    user, pc, lines = org.ids[i], org.pcs[i], []
    for day in days:
        start = float(rng.uniform(21, 23))
        lines.append(w.add("logon", _at(day, start), user, pc, activity="Logon"))
        lines.append(w.add("device", _at(day, start + 0.2), user, pc, activity="Connect"))
        for k in range(int(rng.integers(3, 8))):
            lines.append(w.add("file", _at(day, start + 0.3 + 0.05 * k), user, pc,
                               filename=f"R:\\{_pick(rng, WORDS)}{k}.doc", activity="File Copy",
                               to_removable_media="True", from_removable_media="False"))
        for k in range(int(rng.integers(2, 5))):
            lines.append(w.add("http", _at(day, start + 0.6 + 0.05 * k), user, pc,
                               url=f"http://wikileaks.org/upload/{_pick(rng, WORDS)}", activity="WWW Upload"))
        lines.append(w.add("device", _at(day, start + 0.9), user, pc, activity="Disconnect"))
        lines.append(w.add("logon", _at(day, start + 1.0), user, pc, activity="Logoff"))
    return lines


def _scenario_2(w, rng, org, i, search_days, theft_days):
    """Job search, then heavy thumb-drive copying before leaving."""
    user, pc, lines = org.ids[i], org.pcs[i], []
    for day in search_days:
        for t in np.sort(rng.uniform(9, 17, int(rng.integers(6, 15)))):
            lines.append(w.add("http", _at(day, t), user, pc,
                               url=f"http://{_pick(rng, JOB_SITES)}/jobs/{_pick(rng, WORDS)}", activity="WWW Visit"))
    for day in theft_days:
        for t in np.sort(rng.uniform(10, 16, int(rng.integers(3, 6)))):
            lines.append(w.add("device", _at(day, t), user, pc, activity="Connect"))
            for k in range(int(rng.integers(5, 12))):
                lines.append(w.add("file", _at(day, t + 0.01 * (k + 1)), user, pc,
                                   filename=f"R:\\{_pick(rng, WORDS)}{k}{_pick(rng, FILE_EXTENSIONS[:3])}",
                                   activity="File Copy", to_removable_media="True", from_removable_media="False"))
            lines.append(w.add("device", _at(day, t + 0.2), user, pc, activity="Disconnect"))
    return lines


def _scenario_3(w, rng, org, i, days):
    """Keylogger download and planting on the supervisor's PC, then a mass e-mail as the supervisor."""
    user, pc, lines = org.ids[i], org.pcs[i], []
    boss = org.ids.index(org.supervisor[i]) if org.supervisor[i] != user else 0
    boss_pc = org.pcs[boss]
    first, second = days
    lines.append(w.add("http", _at(first, 10.5), user, pc,
                       url=f"http://{_pick(rng, KEYLOGGER_SITES)}/download/keylogger.exe", activity="WWW Download"))
    lines.append(w.add("file", _at(first, 10.6), user, pc, filename="R:\\keylogger.exe", activity="File Copy",
                       to_removable_media="True", from_removable_media="False"))
    lines.append(w.add("logon", _at(first, 12.2), user, boss_pc, activity="Logon"))
    lines.append(w.add("device", _at(first, 12.3), user, boss_pc, activity="Connect"))
    lines.append(w.add("file", _at(first, 12.35), user, boss_pc, filename="C:\\keylogger.exe",
                       activity="File Copy", to_removable_media="False", from_removable_media="True"))
    lines.append(w.add("device", _at(first, 12.4), user, boss_pc, activity="Disconnect"))
    lines.append(w.add("logon", _at(first, 12.5), user, boss_pc, activity="Logoff"))
    lines.append(w.add("logon", _at(second, 19.5), user, boss_pc, activity="Logon"))
    everyone = ";".join(org.email(j) for j in range(len(org.ids)))
    for k in range(3):
        lines.append(w.add("email", _at(second, 19.6 + 0.1 * k), user, boss_pc, to=everyone, cc="", bcc="",
                           **{"from": org.email(boss)}, size=int(rng.integers(20_000, 40_000)), attachments=0,
                           activity="Send"))
    lines.append(w.add("logon", _at(second, 20.2), user, boss_pc, activity="Logoff"))
    return lines


def generate_cert(folder, users=30, days=60, seed=0, release="r4.2", start=START):
    """Write a CERT-format release folder with the three insider scenarios; returns ``folder``.

    Args:
        folder: where to write (created; existing CERT files in it are replaced).
        users: employees (at least 6: three of them become insiders, one per scenario).
        days: calendar days from ``start`` (at least 28, so every scenario has room).
        seed: the random seed; the same arguments give the same files.
        release: ``"r4.2"`` or ``"r5.2"`` (the later file layouts, e.g. ``file.csv``'s removable-media columns).
        start: the first day (a Monday by default, 2010-01-04).
    """
    if release not in ("r4.2", "r5.2"):
        raise ValueError(f"release must be 'r4.2' or 'r5.2', got {release!r}")
    if users < 6 or days < 28:
        raise ValueError(f"generate_cert needs users >= 6 and days >= 28 (three insiders, a month of routine); "
                         f"got users={users}, days={days}")
    folder = os.fspath(folder)
    os.makedirs(os.path.join(folder, "LDAP"), exist_ok=True)
    rng = np.random.default_rng(seed)
    org = _Org(rng, users)
    writer = _Writer(rng, release)
    calendar = [start + datetime.timedelta(days=d) for d in range(days)]
    workdays = [d for d in calendar if d.weekday() < 5]
    # insiders: one per scenario; scenario 3 is the IT administrator; their acts fall in the last third (at least 12 workdays)
    admin = org.roles.index("ITAdmin")
    others = [i for i in range(users) if org.roles[i] not in ("Manager", "ITAdmin")]
    chosen = rng.choice(others, 2, replace=False)
    insiders = {int(chosen[0]): 1, int(chosen[1]): 2, admin: 3}
    late = workdays[-max(12, len(workdays) // 3):]
    plans, last_day = {}, {}
    for i, scenario in insiders.items():
        offset = int(rng.integers(0, max(1, len(late) - 12)))
        if scenario == 1:
            plans[i] = (late[offset:offset + 4],)
        elif scenario == 2:
            plans[i] = (late[offset:offset + 8], late[offset + 8:offset + 11])
        else:
            plans[i] = (late[offset:offset + 2],)
        last_day[i] = max(max(p) for p in plans[i])
    routines = [_Routine(rng) for _ in range(users)]
    for i, scenario in insiders.items():
        if scenario == 1:  # the scenario's premise: no after-hours work, no thumb drive before
            routines[i].late, routines[i].usb = 0.0, 0.0
        routines[i].jobs = 0.0
    for i in range(users):
        r = routines[i]
        for day in calendar:
            if i in last_day and day > last_day[i]:
                break
            if day.weekday() >= 5:
                if rng.random() < r.weekend:
                    _workday(writer, rng, org, i, day, r, rng.uniform(10, 12), rng.uniform(13, 15), org.pcs[i], 0.3)
                continue
            arrive, leave = r.arrive + rng.normal(0, 0.2), r.leave + rng.normal(0, 0.25)
            if rng.random() < r.late:
                leave = rng.uniform(19, 22)
            _workday(writer, rng, org, i, day, r, arrive, leave, org.pcs[i])
            if rng.random() < 0.05:  # a short stint on a shared PC
                hour = rng.uniform(arrive + 1, leave - 1)
                _workday(writer, rng, org, i, day, r, hour, hour + 0.5, _pick(rng, org.shared_pcs), 0.1)
    answers = os.path.join(folder, "answers")
    os.makedirs(answers, exist_ok=True)
    dataset = release[1:]
    table = [",".join(INSIDER_COLUMNS)]
    for i, scenario in sorted(insiders.items(), key=lambda kv: kv[1]):
        lines = {1: _scenario_1, 2: _scenario_2, 3: _scenario_3}[scenario](writer, rng, org, i, *plans[i])
        details = f"{release}-{scenario}-{org.ids[i]}.csv"
        os.makedirs(os.path.join(answers, f"{release}-{scenario}"), exist_ok=True)
        with open(os.path.join(answers, f"{release}-{scenario}", details), "w") as f:
            f.writelines(line + "\n" for line in lines)
        when = sorted(line.split(",")[2] for line in lines)
        first = min(when, key=lambda s: (s[6:10], s[0:5], s[11:]))
        final = max(when, key=lambda s: (s[6:10], s[0:5], s[11:]))
        table.append(f"{dataset},{scenario},{details},{org.ids[i]},{first},{final}")
    with open(os.path.join(answers, "insiders.csv"), "w") as f:
        f.write("\n".join(table) + "\n")
    writer.write(folder)
    _write_rosters(folder, org, calendar, last_day)
    with open(os.path.join(folder, "psychometric.csv"), "w") as f:
        f.write(",".join(PSYCHOMETRIC_COLUMNS) + "\n")
        for i in range(users):
            f.write(f"{org.names[i]},{org.ids[i]}," + ",".join(str(int(v)) for v in rng.integers(10, 50, 5)) + "\n")
    return folder


def _write_rosters(folder, org, calendar, last_day):
    months = sorted({(d.year, d.month) for d in calendar})
    for year, month in months:
        with open(os.path.join(folder, "LDAP", f"{year:04d}-{month:02d}.csv"), "w") as f:
            f.write(",".join(LDAP_COLUMNS) + "\n")
            for i, user in enumerate(org.ids):
                if i in last_day and (last_day[i].year, last_day[i].month) < (year, month):
                    continue  # left the organisation
                team = org.teams[i]
                f.write(f"{org.names[i]},{user},{org.email(i)},{org.roles[i]},1,1 - Operations,"
                        f"{team // 2 + 1} - Department,{team + 1} - Team,{org.names[org.ids.index(org.supervisor[i])]}"
                        "\n")
