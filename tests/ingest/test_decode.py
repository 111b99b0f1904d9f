"""Decoding page bytes: labels are trusted only as far as the bytes agree."""

from __future__ import annotations

import codecs
import random
from pathlib import Path

import pytest

from ingest._decode import decode_html
from ingest.errors import DecodeError

TEXT = "荆州市委召开全体会议，研究部署下半年工作。会议强调，要守底线、稳基础、强引擎。"
# 镕 and 嘉 are outside GB2312: pages labelled gb2312 use them all the same.
BEYOND_GB2312 = "朱镕基 嘉兴 𠮷"


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>新闻</title></head><body><p>{body}</p></body></html>"


def test_gbk_with_meta_charset() -> None:
    data = page(TEXT, '<meta charset="gbk">').encode("gbk")
    assert TEXT in decode_html(data)


def test_gbk_with_http_equiv_meta() -> None:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    data = page(TEXT, head).encode("gb2312")
    assert TEXT in decode_html(data)


def test_gbk_without_any_label_is_detected() -> None:
    data = page(TEXT * 3).encode("gbk")
    assert TEXT in decode_html(data)


def test_gb2312_label_decodes_as_gb18030() -> None:
    data = page(BEYOND_GB2312, '<meta charset="gb2312">').encode("gb18030")
    assert BEYOND_GB2312 in decode_html(data)


@pytest.mark.parametrize("label", ["GB2312", "gb_2312-80", "x-gbk", "cp936", "GBK", "csGB2312"])
def test_gb_aliases_in_the_http_header(label: str) -> None:
    data = page(TEXT + BEYOND_GB2312).encode("gb18030")
    assert TEXT + BEYOND_GB2312 in decode_html(data, declared=label)


def test_wrong_declared_charset_falls_through_to_meta() -> None:
    data = page(TEXT, '<meta charset="gbk">').encode("gbk")
    assert TEXT in decode_html(data, declared="utf-8")


def test_server_default_latin1_does_not_win_over_meta() -> None:
    data = page(TEXT, '<meta charset="gbk">').encode("gbk")
    assert TEXT in decode_html(data, declared="ISO-8859-1")


def test_utf8_under_a_stale_gb2312_meta() -> None:
    data = page(TEXT, '<meta charset="gb2312">').encode("utf-8")
    assert TEXT in decode_html(data)


def test_meta_inside_a_script_is_not_the_page_charset() -> None:
    # An archive's toolbar script carries charset="utf-8"; the page's own <meta> says gb2312.
    head = '<script src="/bundle.js" charset="utf-8"></script><meta charset="gb2312">'
    data = page(TEXT, head).encode("gbk")
    assert TEXT in decode_html(data)


def test_utf8_with_bom() -> None:
    data = codecs.BOM_UTF8 + page(TEXT).encode("utf-8")
    text = decode_html(data)
    assert text.startswith("<html>")
    assert TEXT in text


def test_utf16_with_bom() -> None:
    data = codecs.BOM_UTF16_LE + page(TEXT).encode("utf-16-le")
    assert TEXT in decode_html(data)


def test_mostly_valid_gbk_keeps_its_text() -> None:
    # A truncated last character must not turn the whole page into another encoding.
    data = page(TEXT * 3, '<meta charset="gbk">').encode("gbk") + "新".encode("gbk")[:1]
    text = decode_html(data)
    assert TEXT in text


def test_empty_input() -> None:
    assert decode_html(b"") == ""


def test_nul_bytes_are_binary() -> None:
    with pytest.raises(DecodeError):
        decode_html(b"\x00\x01\x02\x00" * 512)


def test_random_bytes_are_binary() -> None:
    data = random.Random(7).randbytes(4096)
    with pytest.raises(DecodeError):
        decode_html(data)


def test_saved_gb2312_page() -> None:
    data = (Path(__file__).parents[2] / "ingest" / "samples" / "cnr-gb2312-2022-02-13.html").read_bytes()
    text = decode_html(data)
    assert "中央军委主席习近平签署命令" in text
    assert "\ufffd" not in text
