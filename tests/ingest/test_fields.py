"""The Chinese news rules: 来源, bylines, 编辑, contacts, dates."""

from __future__ import annotations

from datetime import datetime

from ingest import Author, Contact, ContactKind
from ingest._fields import (
    SHANGHAI,
    find_authors,
    find_contacts,
    find_date,
    find_editor,
    find_source,
)


def test_source_stops_before_date_and_other_fields() -> None:
    assert find_source("来源: 荆州广播电视台 2023-07-13") == "荆州广播电视台"
    assert find_source("来源：人民网-人民日报 作者：张三") == "人民网-人民日报"
    assert find_source("没有来源的行") is None


def test_bylines() -> None:
    assert find_authors("本报北京5月1日电（记者 王某 李某）今天") == [
        Author("记者", "王某"),
        Author("记者", "李某"),
    ]
    assert find_authors("（本报记者 张三 通讯员 李四、王五）") == [
        Author("记者", "张三"),
        Author("通讯员", "李四"),
        Author("通讯员", "王五"),
    ]
    # 记者从…获悉 is a sentence, not a byline.
    assert find_authors("记者从海口海关获悉：自2025年11月起，购物金额增长。") == []


def test_editor_prefers_responsible_editor() -> None:
    assert find_editor("审核：赵六\n责任编辑：王五") == "王五"
    assert find_editor("编辑: 苏园") == "苏园"
    assert find_editor("无") is None


def test_contacts_kinds() -> None:
    text = "举报邮箱：jubao@example.cn 投诉热线：12345 网上举报入口 举报网站：https://jb.example.cn"
    assert find_contacts(text) == [
        Contact("举报邮箱", "jubao@example.cn", ContactKind.EMAIL),
        Contact("投诉热线", "12345", ContactKind.PHONE),
        Contact("网上举报入口", None, ContactKind.ENTRY),
        Contact("举报网站", "https://jb.example.cn", ContactKind.URL),
    ]


def test_contacts_ignore_prose() -> None:
    assert find_contacts("群众可拨打举报电话12345反映问题，有关部门将及时处理。") == []


def test_dates() -> None:
    assert find_date("2023年7月13日 10:30") == datetime(2023, 7, 13, 10, 30, tzinfo=SHANGHAI)
    assert find_date("发布：2024-02-29") == datetime(2024, 2, 29, tzinfo=SHANGHAI)
    assert find_date("编号2023-13-45，2024/1/2") == datetime(2024, 1, 2, tzinfo=SHANGHAI)
    assert find_date("无日期") is None


def test_editor_does_not_run_across_lines() -> None:
    assert find_editor("责任编辑：\n声明：本文仅代表作者观点") is None


def test_menu_text_is_not_a_byline() -> None:
    assert find_authors("在线荐稿记者博客联系记者") == []
