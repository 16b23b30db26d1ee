"""read_tsv: real SST-2 / AG News files and clear errors for malformed ones."""

import pytest

from hgzoo.errors import InvalidTextDataError
from hgzoo.text import read_tsv


def write(tmp_path, text, name="data.tsv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_real_files(shared_data):
    sst2 = read_tsv(shared_data / "text" / "sst2" / "test.tsv")
    assert len(sst2) == 872 and sst2.class_names == ["0", "1"]
    agnews = read_tsv(shared_data / "text" / "agnews" / "test.tsv")
    assert len(agnews) == 7600 and agnews.class_names == ["Business", "Sci/Tech", "Sports", "World"]
    assert sorted(agnews.labels.tolist().count(c) for c in range(4)) == [1900] * 4


def test_header_numeric_order_and_given_vocabulary(tmp_path):
    path = write(tmp_path, "sentence\tlabel\nx\t10\ny\t2\nz\t2\n")
    data = read_tsv(path)
    assert data.class_names == ["2", "10"] and data.labels.tolist() == [1, 0, 0]
    assert read_tsv(path, class_names=["10", "2", "7"]).labels.tolist() == [0, 1, 1]


def test_quotes_are_text(tmp_path):
    assert read_tsv(write(tmp_path, '"quoted" words\tpos\n'), ).texts == ['"quoted" words']


@pytest.mark.parametrize("content, message", [
    ("fine\t1\nno label here\n", r"line 2: expected 'text<TAB>label', found no label column"),
    ("fine\t1\n\t0\n", "line 2: the text column is empty"),
    ("fine\t1\ta\tb\n", "line 1: 4 tab-separated columns"),
    ("fine,1\n", "line 1: expected 'text<TAB>label'.*comma-separated"),
    ("\n\n", "has no rows of text"),
])
def test_malformed_files(tmp_path, content, message):
    with pytest.raises(InvalidTextDataError, match=message):
        read_tsv(write(tmp_path, content))


def test_unknown_label_and_encoding(tmp_path):
    with pytest.raises(InvalidTextDataError, match=r"label\(s\) 'maybe' are not among the model's classes \['0', '1'\]"):
        read_tsv(write(tmp_path, "a\t0\nb\tmaybe\n"), class_names=["0", "1"])
    path = tmp_path / "latin1.tsv"
    path.write_bytes("caf\xe9\t1\n".encode("latin-1"))
    with pytest.raises(InvalidTextDataError, match="is not UTF-8"):
        read_tsv(path)
    with pytest.raises(FileNotFoundError, match="no such text file"):
        read_tsv(tmp_path / "missing.tsv")


def test_unlabelled(tmp_path):
    data = read_tsv(write(tmp_path, "first text\nsecond text\n"), labelled=False)
    assert data.texts == ["first text", "second text"] and data.labels is None
