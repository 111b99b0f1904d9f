"""Chinese news-page rules no library knows: 来源, bylines, 编辑, 举报 contacts and dates."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from ingest._article import Author, Contact

__all__ = [
    "SHANGHAI",
    "find_authors",
    "find_contacts",
    "find_date",
    "find_editor",
    "find_source",
    "is_contact_line",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
_HAN = r"\u4e00-\u9fff"
_SPACES = r"\s\u00a0\u3000"
_SP = f"[{_SPACES}]"

_SOURCE = re.compile(rf"(?:来源|来自|稿源|出处|文章来源|信息来源)\s*[:：]{_SP}*([^\s\u00a0\u3000|｜丨/]+)")
# Dates and times in a source line are not part of the source's name.
_SOURCE_TAIL = re.compile(r"\d{4}[-/.年].*$|(?:作者|编辑|责任编辑|记者|发布时间|时间|日期).*$")

# Longest roles first, so 特约记者 is not read as 记者.
_ROLES = (
    "特约记者|见习记者|实习记者|融媒体记者|全媒体记者|本报记者|本台记者|本网记者|首席记者|记者"
    "|特约通讯员|通讯员|实习生|摄影记者|摄影|摄像|作者|撰稿"
)
_ROLE = re.compile(rf"({_ROLES})")
_NAME = re.compile(rf"^[{_HAN}·]{{2,4}}$")
_BYLINE_PAREN = re.compile(rf"^[^（(]{{0,30}}[（(]([^（）()]{{0,80}}?(?:{_ROLES})[^（）()]{{1,80}})[)）]")
_NOT_NAME = re.compile(r"报道|获悉|了解|采访|发自|从|日电|消息|编辑|博客|联系|荐稿|投稿|摄$")
_PLAIN_ROLE = {"本报记者": "记者", "本台记者": "记者", "本网记者": "记者", "首席记者": "记者"}

_EDITOR = re.compile(
    rf"(?P<role>责任编辑|责编|编辑|编审|审核|校对|终审|监制)[ \t\u00a0\u3000]*[:：][ \t\u00a0\u3000]*"
    rf"(?P<name>[{_HAN}·]{{2,4}})"
)
_EDITOR_ROLES = ("责任编辑", "责编", "编辑")

_CONTACT_LABEL = (
    r"[A-Za-z" + _HAN + r"]{0,24}?"
    r"(?:举报入口|举报电话|举报邮箱|举报平台|举报网站|举报中心|投诉电话|投诉热线|短信通道|信息举报|举报|热线|通道|信箱|邮箱|入口)"
    r"(?:入口|电话|邮箱|平台|热线)?"  # 举报 + 入口: take the longest label
)
_CONTACT_VALUE = (
    r"(?:[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail
    r"|https?://[^\s，,。；;]+"  # web address
    r"|\d{3,4}-\d{7,8}(?:-\d{1,6})?|400-?\d{3}-?\d{4}|1[3-9]\d{9}|\d{5,12})"  # phone / SMS number
)
_CONTACT = re.compile(rf"({_CONTACT_LABEL})(?:{_SP}*[:：]{_SP}*({_CONTACT_VALUE}))?")
_CONTACT_WORDS = re.compile(r"举报|投诉|热线|短信通道|监督电话|违法和不良信息")

_DATE = re.compile(
    r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[T\s\u00a0]*(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2}))?)?"
)


def find_source(text: str) -> str | None:
    """Return the publisher named by 来源 (来源: 荆州广播电视台 2023-07-13 → 荆州广播电视台)."""
    m = _SOURCE.search(text)
    if not m:
        return None
    source = _SOURCE_TAIL.sub("", m.group(1)).strip(" :：,，")
    return source or None


def _byline_names(span: str) -> list[Author]:
    authors: list[Author] = []
    parts = _ROLE.split(span)
    # parts: [before, role, names, role, names, …]
    for role, names in zip(parts[1::2], parts[2::2], strict=False):
        for name in re.split(rf"[{_SPACES}、，,/]+", names.strip()):
            name = name.strip("：: ")
            if _NAME.match(name) and not _NOT_NAME.search(name):
                authors.append(Author(_PLAIN_ROLE.get(role, role), name))
    return authors


def find_authors(text: str) -> list[Author]:
    """Return the byline's reporters: a paragraph's opening parenthesis or a short byline line."""
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _BYLINE_PAREN.match(line)
        if m and (found := _byline_names(m.group(1))):
            return found
        if len(line) <= 60 and _ROLE.search(line) and (found := _byline_names(line)):
            return found
    return []


def find_editor(text: str) -> str | None:
    """Return the editor's name (编辑: 苏园 → 苏园), preferring 责任编辑 and 编辑 to 审核."""
    found: dict[str, str] = {}
    for m in _EDITOR.finditer(text):
        found.setdefault(m.group("role"), m.group("name"))
    for role in _EDITOR_ROLES:
        if role in found:
            return found[role]
    return next(iter(found.values()), None)


def is_contact_line(line: str) -> bool:
    """Tell whether a line is a bar of reporting contacts rather than prose."""
    return bool(_CONTACT_WORDS.search(line)) and (len(line) <= 120 and not re.search(r"[。！？]", line))


def find_contacts(text: str) -> list[Contact]:
    """Return the reporting contacts printed in text (违法和不良信息举报:0716-8445200 …)."""
    contacts: list[Contact] = []
    for line in text.splitlines():
        if not is_contact_line(line):
            continue
        for m in _CONTACT.finditer(line.strip()):
            label, value = m.group(1), m.group(2)
            if len(label) < 4 or (value is None and not _CONTACT_WORDS.search(label)):
                continue
            contact = Contact.of(label, value)
            if contact not in contacts:
                contacts.append(contact)
    return contacts


def find_date(text: str, tz: tzinfo = SHANGHAI) -> datetime | None:
    """Return the first full date in text (2023-07-13, 2023年7月13日 10:30) as an aware datetime."""
    for m in _DATE.finditer(text):
        year, month, day, hour, minute, second = (int(g) if g else 0 for g in m.groups())
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=tz)
        except ValueError:
            continue  # 2023-13-45 is a number, not a date
    return None
