"""Bylines, datelines and credits: what a news page prints before or around the news.

A wire or party-media report opens with who filed it, from where and when, before the first
word of news: 新华社北京7月13日电（记者…）, 本报讯（记者… 通讯员…）, 荆州新闻网消息(记者…),
央视网消息（新闻联播）：, 人民网北京2月2日电. Portals copy pages with their furniture in line:
a time stamp and 显示图片, 【环球网综合报道】, 点击上方…订阅. Photo credits and reprint notices
stand as sentences of their own: 新华社发（刘满仓摄）, 图为…, 本作品为…原创，转载时务请注明出处.

None of this is news. `strip_dateline` cuts such an opening off a sentence, `is_credit` tells a
sentence that is furniture through and through; the stored article keeps its text as it was.
"""

from __future__ import annotations

import re

__all__ = ["clean_sentence", "is_credit", "strip_dateline"]

_HAN = r"\u4e00-\u9fff"
# An outlet's name: the wires by name, else a short name ending as outlets' names end.
_OUTLET = (
    rf"(?:新华社|本报|本刊|中新社|中新网|[{_HAN}A-Za-z]{{1,10}}?"
    r"(?:网|报|台|社|刊|日报|晚报|晨报|商报|时报|新闻|电视台|广播电视台|融媒体中心|之声|客户端|频道))"
)
_DATE = r"\d{1,2}月\d{1,2}日"
# 新华社北京7月13日电 / 人民网北京2月2日电 / 央广网郑州8月15日消息 / 参考消息网8月8日报道: with a date;
# 本报讯 / 新华社电 / 荆州新闻网消息 / 本报南宁讯: without one, a place of at most three characters
# (据…消息 is an attribution, part of the news);
# 南都讯 / 温州网讯 / 凤凰娱乐讯 / 新京报快讯: a short name and 讯.
_WIRE = re.compile(
    rf"^(?!据)(?:{_OUTLET}[{_HAN}]{{0,6}}?{_DATE}(?:电|讯|快讯|消息|报道)"
    rf"|{_OUTLET}[{_HAN}]{{0,3}}?(?:讯|快讯|消息)|(?:新华社|中新社)电"
    rf"|[{_HAN}]{{1,6}}(?:网|报|都|台|站)讯|[{_HAN}]{{2,6}}(?:娱乐|体育|科技|财经|手机)讯)"
)
# What a dateline's parentheses hold: reporters, a programme (新闻联播), names; short.
_BRACKET = re.compile(r"^\s*[(（][^()（）]{1,40}[)）]")
# A byline without an outlet: （记者… 通讯员…）, 记者张东红任晓莉报道：, 文/记者…, 本报记者 王某.
_CREDIT_OPENING = re.compile(
    rf"^(?:[(（](?:本报|特约|见习|实习)?(?:记者|通讯员|实习生|编辑|文|图|摄影)[^()（）]{{0,40}}[)）]"
    rf"|(?:本报)?(?:记者|通讯员)[{_HAN}、\s]{{2,16}}?报道[:：]"
    rf"|文/[^，,。\s]{{1,20}}\s*"
    rf"|本报(?:特约)?记者\s*[{_HAN}\s、]{{2,12}}(?=\s)"
    r")"
)
# 【环球网综合报道】 / [泉州新闻-闽南网] / 【摘要】: a tag before the text.
_TAG = re.compile(r"^[【\[][^】\]]{1,20}(?:网|报道|消息|新闻|摘要|提要|编者按)[^】\]]{0,10}[】\]]")
# A portal's time stamp and widgets: 2015-06-02 12:12 金华新闻网 显示图片, 光明网04-2113:27, A+A-.
_STAMP = re.compile(
    rf"^(?:[{_HAN}A-Za-z]{{2,10}}?)?\s*(?:\d{{4}}[-/])?\d{{2}}[-/]\d{{2}}\s*\d{{2}}:\d{{2}}(?::\d{{2}})?"
    rf"(?:\s*(?:[{_HAN}A-Za-z]{{0,10}}?(?:网|报|台|新闻|体育|科技|娱乐|财经))?\s*(?:显示图片|A\+A-))?"
)
_CREDIT_LENGTH = 60
_SEPARATORS = " \t\u00a0\u3000:：，,"

# Sentences that are furniture through and through.
_CREDIT_SENTENCE = re.compile(
    r"^[(（]?(?:新华社|中新社|人民网|本报)?(?:记者)?[发]?[(（][^()（）]{1,30}摄[)）][。.]?$"
    r"|^[(（][^()（）]{0,30}(?:摄|供图|制图|图片来源[^()（）]*)[)）][。.]?$"
    r"|^图为|^(?:图片|视频|资料图)(?:来源|来自)?[:：]"
    r"|转载[^。]{0,20}注明出处|谢绝转载|版权所有|未经授权[^。]{0,10}转载"
    r"|加载中[，,]?请稍候|^点击(?:上方|下方|关注|订阅|查看|阅读原文)|扫(?:描)?(?:二维)?码关注"
    r"|^(?:责任编辑|责编|编辑|校对|审核|来源|原标题)[:：]|^[(（]完[)）]$|您的浏览器不支持"
)


# A line that is only the dateline: 央视网消息（新闻联播）： standing above the text.
_ALONE = re.compile(rf"^(?:{_WIRE.pattern[1:]})\s*(?:[(（][^()（）]{{1,40}}[)）])?\s*[:：]?$")


def strip_dateline(sentence: str) -> str:
    """Return the sentence without the byline, dateline, tag or time stamp it opens with."""
    text = sentence
    for _ in range(4):  # 中国新闻网2014-08-18 11:59 中新网义乌8月18日电(记者…): stamps and lines in a row
        before = text
        for pattern in (_STAMP, _TAG, _WIRE, _CREDIT_OPENING):
            if m := pattern.match(text):
                text = text[m.end() :]
                if pattern is _WIRE and (b := _BRACKET.match(text)):
                    text = text[b.end() :]
                text = text.lstrip(_SEPARATORS)
        if text == before:
            break
    # A cut that leaves no sentence was no byline (记者节: a word, not a credit): keep it whole.
    return text if len(text) >= 4 else sentence


def is_credit(sentence: str) -> bool:
    """Tell whether a sentence is a credit or page furniture, not news."""
    text = sentence.strip()
    # A long sentence that opens like a caption carries news after it (pages run captions in).
    return len(text) <= _CREDIT_LENGTH and bool(_CREDIT_SENTENCE.search(text))


def clean_sentence(sentence: str) -> str | None:
    """Return the sentence as shown (its byline cut off), or None for a credit or furniture."""
    if is_credit(sentence) or _ALONE.match(sentence.strip()):
        return None
    return strip_dateline(sentence)
