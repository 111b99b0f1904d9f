"""Traditional Chinese: the conversion of a rendered message, and who starts in which script."""

from __future__ import annotations

import re

import pytest

from bot.emulator import parse_html
from bot.script import markup_to_script, to_script
from bot.texts import _TEXTS, HANS, HANT, ZH, script_of


@pytest.mark.parametrize(
    ("simplified", "traditional"),
    [
        ("经济发展", "經濟發展"),
        ("基层干部", "基層幹部"),
        ("干净", "乾淨"),
        ("干涉", "干涉"),
        ("以后", "以後"),
        ("皇后", "皇后"),  # a phrase: the empress keeps her 后
        ("头发", "頭髮"),
        ("发布会", "發佈會"),  # not s2twp's 釋出會: quoted words stay the speaker's
        ("这里", "這裡"),  # Taiwan's standard form, not s2t's 裏
    ],
)
def test_phrases_convert_in_context(simplified: str, traditional: str) -> None:
    assert to_script(simplified, HANT) == traditional


def test_tags_and_links_stay_as_they_are() -> None:
    html = '<b>发展</b>：<a href="http://news.cn/后台/发展.html?q=干部&amp;x=1">干部会议</a> &lt;后&gt;'
    converted = to_script(html, HANT)
    assert converted == '<b>發展</b>：<a href="http://news.cn/后台/发展.html?q=干部&amp;x=1">幹部會議</a> &lt;後&gt;'
    assert parse_html(converted) == "發展：幹部會議 <後>"


def test_simplified_is_left_alone() -> None:
    assert to_script("发展干部", HANS) == "发展干部"
    with pytest.raises(ValueError, match="unknown script"):
        to_script("发展", "latn")


def test_buttons_labels_convert_and_their_data_does_not() -> None:
    markup = {
        "inline_keyboard": [
            [{"text": "返回摘要", "callback_data": "b:1"}, {"text": "原文链接", "url": "http://x.cn/发"}]
        ]
    }
    assert markup_to_script(markup, HANT) == {
        "inline_keyboard": [
            [{"text": "返回摘要", "callback_data": "b:1"}, {"text": "原文鏈接", "url": "http://x.cn/发"}]
        ]
    }
    assert markup_to_script(markup, HANS) is markup


def test_every_bot_text_has_a_traditional_version_with_the_same_markup() -> None:
    tags = re.compile(r"<[^>]*>|\{\w+\}")
    changed = 0
    for key, texts in _TEXTS.items():
        simplified = texts[ZH]
        traditional = to_script(simplified, HANT)
        assert tags.findall(traditional) == tags.findall(simplified), key
        changed += traditional != simplified
    assert changed > len(_TEXTS) // 2  # most texts hold a character that differs


@pytest.mark.parametrize(
    ("code", "script"),
    [
        ("zh-hant", HANT),
        ("zh-Hant-TW", HANT),
        ("zh-tw", HANT),
        ("zh_HK", HANT),
        ("zh-mo", HANT),
        ("zh-hans", HANS),
        ("zh-cn", HANS),
        ("zh", HANS),
        ("zh-twx", HANS),
        ("en", HANS),
        (None, HANS),
    ],
)
def test_traditional_language_codes_start_in_traditional(code: str | None, script: str) -> None:
    assert script_of(code) == script
