"""Table-1 features on hand-written logs with known counts, labels on generated logs, behaviour images."""

import numpy as np
import pytest

from hgzoo.anomaly import (
    BehaviourImageEncoder,
    FeatureConfig,
    UserDayFeatures,
    extract_features,
    feature_name,
)
from hgzoo.anomaly.features import ACTIVITIES, SCOPES, WINDOWS

pytestmark = pytest.mark.jax


def F(window, scope, activity):
    """Feature index of the paper's layout, written out independently of the code under test."""
    return WINDOWS.index(window) * 30 + SCOPES.index(scope) * 10 + ACTIVITIES.index(activity)


def write_logs(folder, http_extra=""):
    folder.mkdir()
    (folder / "logon.csv").write_text(
        "id,date,user,pc,activity\n"
        "{1},01/04/2010 09:00:00,AAA0001,PC-1,Logon\n"   # Monday, work hours, own PC
        "{2},01/04/2010 17:30:00,AAA0001,PC-1,Logoff\n"
        "{3},01/05/2010 09:00:00,AAA0001,PC-1,Logon\n"
        "{4},01/05/2010 20:15:00,AAA0001,PC-9,Logon\n"   # Tuesday, after hours, another PC
        "{5},01/09/2010 11:00:00,AAA0001,PC-1,Logon\n")  # Saturday
    (folder / "device.csv").write_text(
        "id,date,user,pc,activity\n"
        "{6},01/09/2010 11:05:00,AAA0001,PC-1,Connect\n"
        "{7},01/09/2010 11:10:00,AAA0001,PC-1,Disconnect\n")
    (folder / "file.csv").write_text(
        "id,date,user,pc,filename,content\n"
        "{8},01/04/2010 10:00:00,AAA0001,PC-1,C:\\a\\report.doc,x y\n"
        "{9},01/04/2010 10:01:00,AAA0001,PC-1,C:\\a\\tool.exe,x y\n"
        "{10},01/04/2010 10:02:00,AAA0001,PC-1,C:\\a\\photo.jpg,x y\n")
    (folder / "http.csv").write_text(
        "id,date,user,pc,url,content\n"
        "{11},01/05/2010 20:20:00,AAA0001,PC-9,http://www.monster.com/jobs,x\n"
        "{12},01/05/2010 20:25:00,AAA0001,PC-9,http://wikileaks.org/upload,x\n"
        "{13},01/04/2010 11:00:00,AAA0001,PC-1,http://notmonster.com/x,x\n" + http_extra)
    (folder / "email.csv").write_text(
        "id,date,user,pc,to,cc,bcc,from,size,attachments,content\n"
        "{14},01/04/2010 12:00:00,AAA0001,PC-1,b@x.com;c@x.com,,,a@x.com,5000,2,x\n"
        "{15},01/04/2010 12:30:00,AAA0001,PC-1,b@x.com,,,a@x.com,3000,1,x\n"
        "{16},01/04/2010 13:00:00,AAA0001,PC-1,b@x.com,,,a@x.com,99999,0,x\n")
    return folder


def test_counts_follow_table_1(tmp_path):
    data = extract_features(write_logs(tmp_path / "logs"), progress=False)
    assert data.days.tolist() == ["2010-01-04", "2010-01-05", "2010-01-09"]
    assert data.labels.tolist() == [-1, -1, -1]  # no answers/ folder: unknown
    monday, tuesday, saturday = data.features
    expected = {F("work_hours", "own_pc", "logon_times"): 1, F("work_hours", "own_pc", "file_oper_times"): 3,
                F("work_hours", "own_pc", "doc_oper_times"): 1, F("work_hours", "own_pc", "exe_oper_times"): 1,
                F("work_hours", "own_pc", "http_oper_times"): 1, F("work_hours", "own_pc", "email_oper_times"): 3,
                F("work_hours", "own_pc", "email_mean_size_atts"): 4.0}  # (5000 + 3000) / 2 bytes, in kB
    for index, value in expected.items():
        for window in ("work_hours", "whole"):
            for scope in ("own_pc", "whole"):
                i = index - F("work_hours", "own_pc", "logon_times") + F(window, scope, "logon_times")
                assert monday[i] == value, feature_name(i)
    assert monday.sum() == pytest.approx(4 * sum(expected.values()))
    assert tuesday[F("after_hours", "other_pc", "logon_times")] == 1
    assert tuesday[F("work_hours", "own_pc", "logon_times")] == 1
    assert tuesday[F("after_hours", "other_pc", "job_oper_times")] == 1
    assert tuesday[F("after_hours", "other_pc", "leak_oper_times")] == 1
    assert tuesday[F("whole", "whole", "http_oper_times")] == 2
    assert tuesday[F("after_hours", "own_pc", "http_oper_times")] == 0
    assert saturday[F("weekend", "own_pc", "usb_oper_times")] == 1
    assert saturday[F("weekend", "own_pc", "logon_times")] == 1
    assert saturday[F("work_hours", "whole", "logon_times")] == 0


def test_work_hours_and_sites_are_configurable(tmp_path):
    config = FeatureConfig(work_hours=(7, 21), job_sites=("notmonster.com",), leak_sites=())
    _, tuesday, _ = extract_features(write_logs(tmp_path / "logs"), config, progress=False).features
    assert tuesday[F("work_hours", "other_pc", "logon_times")] == 1
    assert tuesday[F("after_hours", "whole", "logon_times")] == 0
    assert tuesday[F("whole", "whole", "job_oper_times")] == 0
    assert tuesday[F("whole", "whole", "leak_oper_times")] == 0
    with pytest.raises(ValueError, match="work_hours"):
        FeatureConfig(work_hours=(18, 8))


def test_bad_lines_raise_or_are_counted(tmp_path):
    folder = write_logs(tmp_path / "logs", http_extra="{17},01/05/2010 25:61:00,AAA0001,PC-1,http://a.com,x\n")
    with pytest.raises(ValueError, match="http.csv, line 5"):
        extract_features(folder, progress=False)
    data = extract_features(folder, on_bad_line="skip", progress=False)
    assert data.meta["skip_summary"].startswith("skipped 1 line") and len(data) == 3


def test_generated_insiders_are_labelled_and_visible(features_r42):
    data = features_r42
    assert data.meta["layouts"]["http"] == "r4.2" and len(data.meta["insiders"]) == 3
    _, labels = data.user_labels()
    assert labels.sum() == 3 and data.labels.sum() >= 3 + 8
    bad, good = data.features[data.labels == 1], data.features[data.labels == 0]
    # the scenarios leave their traces in the features they are about
    assert bad[:, F("after_hours", "whole", "usb_oper_times")].mean() > good[:, F("after_hours", "whole",
                                                                                  "usb_oper_times")].mean()
    assert bad[:, F("whole", "whole", "leak_oper_times")].max() > 0 == good[:, F("whole", "whole",
                                                                                 "leak_oper_times")].max()
    assert bad[:, F("whole", "other_pc", "logon_times")].max() > 0
    assert (data.features.sum(axis=1) > 0).all()  # no row without activity


def test_r52_layout_gives_the_same_kind_of_features(cert_r52):
    data = extract_features(cert_r52, progress=False)
    assert data.meta["layouts"]["file"] == "r5.2" and data.labels.sum() > 0


def test_save_load_round_trip(features_r42, tmp_path):
    features_r42.save(tmp_path / "f.npz")
    loaded = UserDayFeatures.load(tmp_path / "f.npz")
    np.testing.assert_array_equal(loaded.features, features_r42.features)
    assert loaded.users.tolist() == features_r42.users.tolist() and loaded.meta == features_r42.meta
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(ValueError, match="no features file"):
        UserDayFeatures.load(tmp_path / "bad.npz")


def test_behaviour_image_layout_and_scaling():
    features = np.zeros((2, 120))
    features[0, F("after_hours", "other_pc", "usb_oper_times")] = 7
    features[1, F("work_hours", "own_pc", "logon_times")] = 3
    encoder = BehaviourImageEncoder().fit(features)
    images = encoder.transform(features)
    assert images.shape == (2, 12, 12, 1) and images.dtype == np.float32
    row = WINDOWS.index("after_hours") * 3 + SCOPES.index("other_pc")
    assert images[0, row, -1, 0] == 1.0 and images[0].sum() == 1.0  # usb: the last of 10 -> the last column
    assert images[1, 0, 0, 0] == 1.0 and images[1, 0, 1, 0] == 1.0  # logon: the first column, widened to two
    half = encoder.transform(features * 0.5)
    assert 0 < half[0, row, -1, 0] < 1  # log scaling: log1p(3.5) / log1p(7)
    assert half[0, row, -1, 0] == pytest.approx(np.log1p(3.5) / np.log1p(7))
    with pytest.raises(ValueError, match="120"):
        encoder.transform(np.zeros((1, 119)))
