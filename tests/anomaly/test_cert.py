"""CERT readers on generated files: layouts, chunked streaming, bad lines, LDAP, psychometric, answers."""

import os
import shutil

import pytest

from hgzoo.anomaly import CertLog, InvalidCertError, SkipReport, read_insiders, read_ldap, read_psychometric
from hgzoo.anomaly.cert import ACTIVITY_FILES, LATER, REQUIRED

pytestmark = pytest.mark.jax  # no model inside: cheap, and CI's JAX pass runs it too


def _rows(log, rows=100_000):
    return [r for chunk in log.chunks(rows) for r in chunk]


@pytest.mark.parametrize("kind", ACTIVITY_FILES)
def test_layouts_are_recognised(cert_r42, cert_r52, kind):
    old, new = CertLog(os.path.join(cert_r42, f"{kind}.csv")), CertLog(os.path.join(cert_r52, f"{kind}.csv"))
    assert old.columns == REQUIRED[kind] and old.release == "r4.2"
    assert set(new.columns) == set(REQUIRED[kind] + LATER[kind])
    assert new.release == ("r5.2" if LATER[kind] else "r4.2")
    assert _rows(old) and _rows(new)


def test_chunks_are_bounded_and_lossless(cert_r42):
    log = CertLog(os.path.join(cert_r42, "http.csv"))
    chunks = list(log.chunks(rows=37))
    assert max(len(c) for c in chunks) == 37
    with open(log.path) as f:
        lines = sum(1 for _ in f) - 1
    flat = [r for c in chunks for r in c]
    assert len(flat) == lines and [r[0] for r in flat] == list(range(2, lines + 2))
    assert flat == _rows(log)


def _corrupt(folder, tmp_path, kind, line_number, new_line):
    target = tmp_path / "release"
    shutil.copytree(folder, target)
    path = target / f"{kind}.csv"
    lines = path.read_text().splitlines(keepends=True)
    lines[line_number - 1] = new_line + "\n"
    path.write_text("".join(lines))
    return str(path)


@pytest.mark.parametrize("bad,reason", [
    ("{X},01/05/2010 10:00:00,AAA0001,PC-1", "4 columns"),
    ("{X},01/05/2010 10:00:00,AAA0001,PC-1,Logon,extra", "6 columns"),
    ("{X},2010-01-05 10:00:00,AAA0001,PC-1,Logon", "bad timestamp"),
    ("{X},13/45/2010 10:00:00,AAA0001,PC-1,Logon", "bad timestamp"),
])
def test_bad_line_names_file_line_and_columns(cert_r42, tmp_path, bad, reason):
    path = _corrupt(cert_r42, tmp_path, "logon", 5, bad)
    with pytest.raises(InvalidCertError) as e:
        _rows(CertLog(path))
    message = str(e.value)
    assert "logon.csv, line 5" in message and reason in message and "id,date,user,pc,activity" in message
    skips = SkipReport()
    good = _rows(CertLog(path, on_bad_line="skip", skips=skips))
    assert skips.total == 1 and 5 not in [r[0] for r in good]
    assert "first at line 5" in skips.summary()


def test_content_with_commas_is_kept(tmp_path):
    path = tmp_path / "http.csv"
    path.write_text("id,date,user,pc,url,content\n{A},01/04/2010 09:00:00,AAA0001,PC-1,http://a.com,one, two\n")
    [[(_, _, fields)]] = list(CertLog(path).chunks())
    assert fields[4:] == ["http://a.com", "one, two"]


def test_bad_header_and_missing_files(cert_r42, tmp_path):
    path = _corrupt(cert_r42, tmp_path, "http", 1, "id,date,user,pc,address,content")
    with pytest.raises(InvalidCertError, match="id,date,user,pc,url,content"):
        CertLog(path)
    with pytest.raises(FileNotFoundError, match="device.csv"):
        CertLog(tmp_path / "device.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="LDAP"):
        read_ldap(tmp_path / "empty")


def test_ldap_drops_insiders_after_they_leave(cert_r42):
    rosters = read_ldap(cert_r42)
    insiders = read_insiders(cert_r42, "4.2")
    assert sorted(i.scenario for i in insiders) == [1, 2, 3]
    first = {r["user_id"] for r in rosters["2010-01"]}
    assert {i.user for i in insiders} <= first
    admin = next(i for i in insiders if i.scenario == 3)
    assert next(r for r in rosters["2010-01"] if r["user_id"] == admin.user)["role"] == "ITAdmin"
    for month, roster in rosters.items():
        if month > "2010-01":
            assert not {i.user for i in insiders} & {r["user_id"] for r in roster}
    assert set(read_psychometric(cert_r42)) == first


def test_insider_days_come_from_details_files(cert_r42):
    for insider in read_insiders(cert_r42, "4.2"):
        assert insider.days and all(insider.start.date() <= d <= insider.end.date() for d in insider.days)
    assert read_insiders(cert_r42, "5.2") == []


def test_unknown_insider_is_counted_or_refused(cert_r42):
    skips = SkipReport()
    assert read_insiders(cert_r42, "4.2", known_users={"NOBODY"}, skips=skips) == []
    assert skips.total == 3 and "unknown user" in skips.summary()
    with pytest.raises(InvalidCertError, match="appears in no log"):
        read_insiders(cert_r42, "4.2", known_users={"NOBODY"})
