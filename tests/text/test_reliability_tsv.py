"""read_tsv: a byte-order mark is not text, and long lines get a clear answer instead of a csv traceback."""

import pytest

from hgzoo.errors import InvalidTextDataError
from hgzoo.text import read_tsv
from hgzoo.text.tsv import MAX_LINE_CHARS


def test_utf8_bom_does_not_hide_the_header(tmp_path):
    path = tmp_path / "bom.tsv"
    path.write_bytes("sentence\tlabel\na fine film\t1\ndull\t0\n".encode("utf-8-sig"))
    data = read_tsv(path)
    assert data.class_names == ["0", "1"] and data.texts == ["a fine film", "dull"]


def test_utf8_bom_is_not_part_of_the_first_text(tmp_path):
    path = tmp_path / "bom.tsv"
    path.write_bytes("first\t1\nsecond\t0\n".encode("utf-8-sig"))
    assert read_tsv(path).texts == ["first", "second"]
    assert read_tsv(path, labelled=False).texts == ["first", "second"]


def test_long_line_within_the_limit_reads(tmp_path):
    long_text = "word " * 60_000  # 300,000 characters: beyond the csv module's 131,072 field limit
    path = tmp_path / "long.tsv"
    path.write_text(f"short\t0\n{long_text.strip()}\t1\n", encoding="utf-8")
    data = read_tsv(path)
    assert len(data.texts[1]) == len(long_text.strip()) and data.labels.tolist() == [0, 1]


def test_absurd_line_is_one_clear_error(tmp_path):
    path = tmp_path / "huge.tsv"
    path.write_text("short\t0\n" + "x" * (10 * 1024 * 1024) + "\t1\nafter\t0\n", encoding="utf-8")
    message = f"line 2 is longer than {MAX_LINE_CHARS:,} characters"
    with pytest.raises(InvalidTextDataError, match=message) as info:
        read_tsv(path)
    assert "\n" not in str(info.value)


def test_line_endings_and_quotes_unchanged(tmp_path):
    path = tmp_path / "crlf.tsv"
    path.write_bytes(b'text\tlabel\r\n"quoted" a\t1\r\nb\t0\r\n\r\n')
    data = read_tsv(path)
    assert data.texts == ['"quoted" a', "b"] and data.labels.tolist() == [1, 0]
