"""Extracting articles from saved news pages and from small hand-made ones."""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path

import pytest

from ingest._article import Author
from ingest._decode import decode_html
from ingest._fields import SHANGHAI
from ingest._html import extract_html
from ingest.errors import ParseError

PAGES = Path(__file__).parents[2] / "ingest" / "samples"


def saved(name: str) -> str:
    return decode_html((PAGES / name).read_bytes())


def test_gb2312_page_from_cnr() -> None:
    article = extract_html(saved("cnr-gb2312-2022-02-13.html"))
    assert article.title == "中央军委主席习近平签署命令 发布《军队装备试验鉴定规定》"
    assert article.published_at is not None
    assert article.published_at.date().isoformat() == "2022-02-13"
    assert article.source == "央广网"
    assert article.editor == "李楠"
    assert article.paragraphs[0].startswith("央广网北京2月13日消息")
    assert "编辑" not in article.text


def test_yunnan_daily_fields_and_footer() -> None:
    article = extract_html(saved("yunnan-daily-2022-02-13.html"), url="https://yndaily.yunnan.cn/content/1.html")
    assert article.title == "17种产品、1个园区入选国家绿色制造名单"
    assert article.published_at == datetime(2022, 2, 13, 4, 22, 18, tzinfo=SHANGHAI)
    assert article.source == "云南日报"
    # The byline closes the last paragraph: …推动云南工业高质量发展。（记者 胡晓蓉）
    assert article.authors == [Author("记者", "胡晓蓉")]
    assert article.editor == "孙重远"
    assert len(article.paragraphs) == 4
    assert article.paragraphs[0].startswith("近年来，我省积极把握制造业发展趋势")
    for furniture in ("分享到", "责任编辑", "ICP", "版权所有", "首页 >"):
        assert furniture not in article.text
    # The hotlines are in the page footer, not in the body.
    assert [c.value for c in article.contacts] == ["0871-64166935", "jubao@yunnan.cn"]


def test_byline_in_the_first_paragraph_and_date_above_the_headline() -> None:
    article = extract_html(saved("tibet-2022-02-13.html"))
    assert article.title == "“厕所革命”改善农牧区人居环境"
    assert article.published_at is not None
    assert article.published_at.date().isoformat() == "2022-02-13"
    assert article.authors == [Author("记者", "格桑边觉")]
    assert article.paragraphs[0].startswith("据新华社拉萨电（记者 格桑边觉）")
    assert "4万座" in article.paragraphs[-1]


def test_signature_line_after_the_body() -> None:
    article = extract_html(saved("taiyuan-evening-2021-11-25.html"))
    assert article.title == "居家养老有“医”靠 安宁疗护有温度"
    assert article.authors == [Author("记者", "刘涛")]
    assert article.source == "太原晚报"
    assert article.paragraphs[0].startswith("11月23日，市政府新闻办举行新闻发布会")


PAGE = """<!DOCTYPE html>
<html><head>
<meta charset="utf-8">
<title>{title}</title>
{head}
</head><body>
<div class="nav"><a href="/">首页</a> <a href="/news">新闻</a> <a href="/city">本地</a> <a href="/gov">政务</a></div>
<div class="main">
  <h1>{headline}</h1>
  <div class="info">2023-07-13 10:30 来源: 荆州广播电视台</div>
  <div class="share">分享到：</div>
  <div class="content">
    <p>荆州新闻网消息（记者蒋斌 特约记者候方龙）7月13日，中国共产党荆州市第六届委员会第六次全体会议举行。</p>
    <p><img src="/images/2023/plenary.jpg" alt="会场"></p>
    <p>全会由市委常委会主持。受市委常委会委托，市委书记就实施意见起草情况作了说明并讲话。</p>
    <p>会议强调，要守底线，深入实施流域综合治理，推动底线更加清晰、管控更加精准、发展更加高效。</p>
    <p>编辑: 苏园</p>
  </div>
  <div class="related"><h3>相关新闻</h3>
    <ul><li><a href="/a/1">荆州召开全市安全生产工作会议</a></li>
        <li><a href="/a/2">市政府常务会议研究部署防汛工作</a></li></ul></div>
</div>
<div class="footer">
  <p>荆州新闻网版权与免责声明</p>
  <p>1、凡本网注明“来源:荆州新闻网”的所有作品，版权均属于荆州新闻网，未经本网授权不得转载。</p>
  <p>违法和不良信息举报:0716-8445200</p>
</div>
</body></html>
"""


def make_page(
    title: str = "中共荆州市委六届六次全体会议举行_荆州新闻网",
    headline: str = "中共荆州市委六届六次全体会议举行",
    head: str = "",
) -> str:
    return PAGE.format(title=title, headline=headline, head=head)


def test_hand_made_page() -> None:
    article = extract_html(make_page(), url="https://www.jznews.com.cn/news/2023/0713/1.html")
    assert article.title == "中共荆州市委六届六次全体会议举行"
    assert article.published_at == datetime(2023, 7, 13, 10, 30, tzinfo=SHANGHAI)
    assert article.source == "荆州广播电视台"
    assert article.authors == [Author("记者", "蒋斌"), Author("特约记者", "候方龙")]
    assert article.editor == "苏园"
    assert [c.value for c in article.contacts] == ["0716-8445200"]
    assert article.images == ["https://www.jznews.com.cn/images/2023/plenary.jpg"]
    assert len(article.paragraphs) == 3
    assert article.paragraphs[-1].startswith("会议强调，要守底线")
    for furniture in ("首页", "分享到", "苏园", "相关新闻", "安全生产", "版权", "未经本网授权", "8445200"):
        assert furniture not in article.text


def test_images_stay_relative_without_a_url() -> None:
    assert extract_html(make_page()).images == ["/images/2023/plenary.jpg"]


@pytest.mark.parametrize(
    "title",
    ["中共荆州市委六届六次全体会议举行-人民网", "中共荆州市委六届六次全体会议举行 | 荆州新闻网", "荆州新闻网"],
)
def test_headline_is_the_heading_the_document_title_names(title: str) -> None:
    meta = '<meta property="og:title" content="中共荆州市委六届六次全体会议举行">'
    assert extract_html(make_page(title=title, head=meta)).title == "中共荆州市委六届六次全体会议举行"


def test_site_suffix_is_cut_when_no_heading_matches() -> None:
    article = extract_html(make_page(headline="要闻"))
    assert article.title == "中共荆州市委六届六次全体会议举行"


def test_meta_date_wins_and_utc_becomes_shanghai_time() -> None:
    meta = '<meta property="article:published_time" content="2023-07-12T23:30:00Z">'
    article = extract_html(make_page(head=meta))
    assert article.published_at == datetime(2023, 7, 13, 7, 30, tzinfo=SHANGHAI)


def test_zoneless_json_ld_date_is_shanghai_time() -> None:
    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2023-07-13 09:15"}</script>'
    article = extract_html(make_page(head=ld))
    assert article.published_at == datetime(2023, 7, 13, 9, 15, tzinfo=SHANGHAI)
    assert article.published_at.utcoffset() is not None


def test_xml_declaration_with_an_encoding_is_accepted() -> None:
    html = "<?xml version='1.0' encoding='gbk'?>\n" + make_page()
    assert extract_html(html).title == "中共荆州市委六届六次全体会议举行"


@pytest.mark.parametrize("html", ["", "   ", "<html><body></body></html>", "<div><a href='/'>首页</a></div>"])
def test_no_article_is_a_parse_error(html: str) -> None:
    with pytest.raises(ParseError):
        extract_html(html)


def test_deep_nesting_is_bounded() -> None:
    # libxml2 stops at its depth limit instead of recursing; nothing here may overflow the stack.
    html = "<html><body>" + "<div>" * 50_000 + "<p>正文，很深的一段。</p>" + "</div>" * 50_000 + "</body></html>"
    with contextlib.suppress(ParseError):
        extract_html(html)


def test_oversized_page_is_cut_not_refused() -> None:
    paragraph = "<p>这是一段正文，内容很长很长，足够被当作文章。这里还有更多的文字内容。</p>"
    html = make_page().replace("</body>", paragraph * 200_000 + "</body>")
    article = extract_html(html)
    assert article.title == "中共荆州市委六届六次全体会议举行"
