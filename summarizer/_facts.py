"""Key facts of a report: the event date as written, the meeting, people with titles, documents."""

from __future__ import annotations

import re
from datetime import date

from summarizer._summary import Facts

__all__ = ["find_facts"]

_HAN = r"\u4e00-\u9fff"
_DATE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日(?:至(?:\d{1,2}月)?\d{1,2}日)?")
_DAY_ONLY = re.compile(r"(?<![\d月])(\d{1,2})日(?:至\d{1,2}日)?(?=[上下中晚早凌]|在|，|,|召开|举行|\s)")

_MEETING_SUFFIX = (
    "常务会议|全体会议|工作会议|主席会议|委员会会议|座谈会|推进会|部署会|动员会|研讨会|发布会|报告会|"
    "联席会议|专题会议|办公会议|全会|大会|峰会|论坛|会议"
)
# As for titles below: a class of the suffixes' first characters, tried before the suffixes.
_MEETING_END = "[" + "".join(sorted({s[0] for s in _MEETING_SUFFIX.split("|")})) + "]"
_MEETING = re.compile(rf"[^，,。；;：:、\s“”\"（）()]{{2,40}}?(?={_MEETING_END})(?:{_MEETING_SUFFIX})")
# Words after which the meeting name starts: 主持召开X / 出席X / 召开的X.
# 的 too: 农业农村厅召开的全区农牧业工作会议 names 全区农牧业工作会议.
_MEETING_LEAD = re.compile(r".*(?:召开|举行|出席|主持|参加|消息|电|在)的?")
_MEETING_BAD = re.compile(r"^(?:此次|这次|本次|本届|该|各|这个|会上|次)|精神$")

_TITLES = (
    "总书记|国家主席|委员长|总理|副总理|主席|副主席|书记|副书记|省长|副省长|市长|副市长|县长|副县长|"
    "区长|副区长|州长|部长|副部长|局长|主任|厅长|常委|秘书长|组长|院长|委员"
)
# Where a title may start: tried first, this one class spares the 30 titles at most characters.
_TITLE_START = "[" + "".join(sorted({t[0] for t in _TITLES.split("|")})) + "]"
# Title before the name: 市委书记吴锦 / 市委副书记、市长周志红.
_TITLED = re.compile(
    rf"((?:[{_HAN}]{{0,8}}?(?={_TITLE_START})(?:{_TITLES}))(?:、[{_HAN}]{{0,8}}?(?={_TITLE_START})(?:{_TITLES}))*)"
    rf"([{_HAN}]{{2,3}})"
)
# Name before the title, the wire-service style: 赵乐际委员长主持.
_NAME_TITLE = re.compile(rf"(?:^|(?<=[。，,；;\s]))([{_HAN}]{{2,3}})(委员长|总书记|总理|副总理|主席|副主席)")
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫"
    "孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童"
    "凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连"
    "芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖"
    "巩明佘池查麻苑迟邝蔺李"
)
# A third character that is a word of the sentence, not part of the name: 吴锦就… / 周志红，
_NOT_NAME_END = frozenset("就在作出主持和与及等同在对为向说指强表会到的了是并讲率带一")
_NOT_PERSON_CONTEXT = re.compile(r"^在[^，。]{0,20}?讲话|^的?重要")
# A title holds an organisation and a post, never a verb or a preposition.
_TITLE_BAD = re.compile(r"贯彻|落实|学习|关于|视察|考察|调研|[的由受在和对是与及任将从向为]")

_DOC_VERBS = r"(?:审议通过|审议并通过|表决通过|审议|通过|印发|出台|发布|签署|制定|修订)了?"
# A title stays within its paragraph: 《 at the end of one and 》 in the next enclose no title.
_DOCS = re.compile(rf"{_DOC_VERBS}((?:[^《》，。；\n]{{0,6}}《[^《》\n]{{1,80}}》[、和及与]?)+)")
_TITLE_IN = re.compile(r"《([^《》\n]{1,80})》")


# Who attended is said early; past this a report lists people it only mentions.
_OPENING = 800
# The meeting is named in the opening sentence.
_LEAD = 300


def _event_date(text: str, published: date | None) -> str | None:
    if m := _DATE.search(text):
        return m.group(0)
    if published and (m := _DAY_ONLY.search(text)):
        return f"{published.month}月{m.group(0)}"
    return None


def _meeting(texts: list[str]) -> str | None:
    for text in texts:
        for m in _MEETING.finditer(text):
            name = _MEETING_LEAD.sub("", m.group(0))
            name = _DATE.sub("", name).strip()
            if len(name) >= 4 and not _MEETING_BAD.search(name):
                return name
    return None


def _people(text: str) -> list[str]:
    people: list[str] = []
    for m in _TITLED.finditer(text):
        title, name = m.group(1), m.group(2)
        if _TITLE_BAD.search(title):
            continue
        if len(name) == 3 and name[2] in _NOT_NAME_END:
            name = name[:2]
        after = text[m.start(2) + len(name) :]
        if name[0] not in _SURNAMES or after.startswith("、") or _NOT_PERSON_CONTEXT.match(after):
            continue
        # 常委严冀钢、李水彬… is a roll call, and 委员 alone is a member, not a title worth listing.
        if title.endswith("委员") and not title.endswith("副主任委员"):
            continue
        person = title + name
        if person not in people and len(title) >= 2:
            people.append(person)
    for m in _NAME_TITLE.finditer(text):
        name, title = m.group(1), m.group(2)
        person = name + title
        if name[0] in _SURNAMES and not any(name in p for p in people):
            people.append(person)
    return people


def _documents(text: str) -> list[str]:
    docs: list[str] = []
    for m in _DOCS.finditer(text):
        for title in _TITLE_IN.findall(m.group(1)):
            if title not in docs:
                docs.append(title)
    return docs


def find_facts(title: str, paragraphs: list[str], published: date | None = None) -> Facts:
    """Return the event date, meeting, people and documents a report states."""
    lead = paragraphs[0] if paragraphs else ""
    # People and documents usually stand in the opening paragraphs; a roll call closes the report.
    opening = "\n".join(paragraphs[:3])[:_OPENING]
    return Facts(
        date=_event_date(lead, published) or _event_date(title, published),
        meeting=_meeting([lead[:_LEAD], title]),
        people=_people(opening),
        documents=_documents("\n".join(paragraphs)),
    )
