"""A synthetic Chinese local-news site on 127.0.0.1 for `bench/ingest.py` and `bench/soak.py`.

    python bench/_site.py --pages 2000 [--corpus articles.jsonl] [--port 0]

prints the site's base URL (``http://127.0.0.1:PORT``) on one line once it is listening, then
serves until its standard input ends (`bench._harness.SiteProcess` runs it so). Every page is
built once at start-up, deterministically (a seeded RNG per page), so the benchmark process can
rebuild any page byte for byte with `site_page`:

    /news/list_{k}.html            list page k: up to 100 article links, plus nav and pagination links
    /news/2024/{mm}/{dd}/{i}.html  article i: nav, <h1>, 来源/作者/date line, share bar, body,
                                   责任编辑, 上一篇/下一篇, 相关新闻, 热点推荐, 版权声明 and 举报电话 footer

Bodies are made of real sentences: those of the sample articles in ``ingest/samples`` and, with
``--corpus``, of ``govnews/articles.jsonl``. Each page draws its own sentences, recombines clauses
of others, puts its own place, people and numbers in, and adds a few sentences of facts, so that
no two pages are near-duplicates by SimHash. One page in four is GBK: half of those say so in the
Content-Type header and in ``<meta charset>``, half only in the ``<meta>``.

With ``--sources N`` (`bench/soak.py`) the site is N sites that publish: source k is served on a
loopback address of its own (127.0.0.{k+1}, so that the fetcher's per-host politeness applies per
source, as with real sites), all base URLs printed on one line, and list page k shows the
``--links`` newest of source k's articles (article j·N + k is its j-th). Each starts with
``--initial`` articles; a ``publish`` line on stdin adds ``--per-publish`` to every source and
is answered with the number of articles published in all, until ``--pages`` runs out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import json
import random
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest import parse
from summarizer import split_sentences

__all__ = [
    "LINKS_PER_LIST",
    "LINK_PATTERN",
    "SITE_NAME",
    "Growth",
    "Page",
    "Pool",
    "article_path",
    "build_pool",
    "list_count",
    "list_path",
    "serve",
    "site_charset",
    "site_page",
]

ROOT = Path(__file__).resolve().parent.parent

SAMPLES = ROOT / "ingest" / "samples"
SITE_NAME = "清河新闻网"
LINKS_PER_LIST = 100
LINK_PATTERN = r"/news/\d{4}/\d\d/\d\d/\d+\.html$"
GBK_EVERY = 4  # one page in this many is GBK
_START = datetime(2024, 1, 1, 7, 30)

_PLACES = (
    "清河县", "石门县", "桃源县", "临江区", "安平县", "青山区", "白沙镇", "东湖区", "南岭县", "北塘区",
    "长乐县", "永宁镇", "金川县", "玉泉区", "凤凰县", "双溪乡", "龙泉市", "平阳县", "望城区", "柳林县",
)  # fmt: skip
# Places in the sample texts that a page replaces by its own, so that pages differ in more 3-grams.
_SAMPLE_PLACES = re.compile(r"荆州|云南|太原|西藏|我省|全市|全区|全省|昆明")
_DIGITS = re.compile(r"\d+")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国志文斌海燕晓东云峰宇鹏辉"
_OUTLETS = ("清河日报", "清河广播电视台", "清河新闻网", "市融媒体中心", "新华社", "人民网", "县委宣传部")
_TITLE_HEADS = (
    "召开", "部署", "推进", "启动", "举行", "开展", "扎实推进", "全力推进", "专题研究", "调研督导",
)  # fmt: skip
_TITLE_TAILS = (
    "乡村振兴重点项目建设", "农村人居环境整治工作", "安全生产大检查", "防汛抗旱工作会议", "营商环境优化提升行动",
    "文明城市创建工作", "基层党建工作推进会", "秋冬季森林防火工作", "民生实事项目落实情况", "招商引资项目集中签约",
    "生态环境保护督察整改", "老旧小区改造工程", "高标准农田建设", "医养结合服务试点", "义务教育优质均衡发展",
)  # fmt: skip
_FACTS = (
    "截至{m}月底，{place}累计完成固定资产投资{a}.{b}亿元，同比增长{c}.{d}%。",
    "今年以来，{place}共实施重点项目{n}个，其中新开工项目{k}个，完成年度计划的{c}%。",
    "{place}{m}月{day}日召开的会议要求，各乡镇要在{k}月底前完成排查整改，确保不留死角。",
    "据统计，全{kind}已建成村级综合服务站{n}个，覆盖人口{a}万人，群众满意度达到{c}.{d}%。",
    "{person}表示，下一步将重点抓好{n}项工作，力争全年新增就业岗位{a}00个。",
    "记者从{place}{bureau}获悉，{m}月{day}日至{day2}日，{place}共检查企业{n}家，发现并整改隐患{k}处。",
    "{place}{bureau}负责人介绍，目前已有{n}户群众签约家庭医生，签约率提高到{c}.{d}%。",
    "{m}月{day}日上午，{person}带队深入{k}个乡镇，实地察看{n}个项目进展情况。",
    "全年计划改造老旧小区{k}个、惠及居民{n}户，目前已完工{c}%，其余项目将于{k}月底前完工。",
    "{place}今年新增高标准农田{a}.{b}万亩，粮食播种面积稳定在{n}万亩以上。",
)  # fmt: skip
_BUREAUS = ("发展和改革局", "农业农村局", "住房和城乡建设局", "应急管理局", "生态环境分局", "教育局", "卫生健康局")
_NAV = ("首页", "本地新闻", "时政要闻", "乡镇动态", "部门动态", "民生热线", "图片新闻", "视频", "专题", "数字报")

_SCRIPT = """var _hmt = _hmt || [];
(function() { var hm = document.createElement("script"); hm.src = "https://hm.example.cn/hm.js?5f3c";
  var s = document.getElementsByTagName("script")[0]; s.parentNode.insertBefore(hm, s); })();
function setFontSize(size) { document.getElementById("content").style.fontSize = size + "px"; }"""


@dataclass(frozen=True, slots=True)
class Pool:
    """The material pages are made of: whole sentences, their clauses, and headlines."""

    sentences: tuple[str, ...]
    clauses: tuple[str, ...]
    titles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Page:
    """One served page: its bytes, Content-Type header and the charset that header declares."""

    path: str
    body: bytes
    content_type: str
    charset: str | None  # what an HTTP client reads from the header (None: only the <meta> says)


_FURNITURE = re.compile(r"责任编辑|编辑[:：]|来源[:：]|举报|版权|记者|通讯员|网消息|电（|讯（|分享|扫一扫")


@cache
def build_pool(corpus: Path | None = None) -> Pool:
    """Return the sentences, clauses and headlines of the samples and, if given, the corpus file."""
    texts: list[tuple[str, list[str]]] = []
    for path in sorted(SAMPLES.iterdir()):
        if path.suffix in {".html", ".txt"}:
            article = parse(path.read_bytes())
            texts.append((article.title, article.paragraphs))
    if corpus is not None:
        with corpus.open(encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                texts.append((row["title"], [p for p in row["text"].split("\n") if p.strip()]))
    sentences: list[str] = []
    for _title, paragraphs in texts:
        for paragraph in paragraphs:
            for sentence in split_sentences(paragraph):
                sentence = sentence.strip()
                if 12 <= len(sentence) <= 160 and sentence[-1] in "。！？" and not _FURNITURE.search(sentence):
                    sentences.append(sentence)
    sentences = list(dict.fromkeys(sentences))
    pieces = (c.strip() for s in sentences for c in re.split(r"[，；,;]", s.rstrip("。！？")))
    clauses = [c for c in pieces if 6 <= len(c) <= 40]
    titles = [t.strip() for t, _ in texts if 6 <= len(t.strip()) <= 40]
    return Pool(tuple(sentences), tuple(dict.fromkeys(clauses)), tuple(dict.fromkeys(titles)))


def list_count(pages: int) -> int:
    """Return how many list pages link `pages` articles."""
    return -(-pages // LINKS_PER_LIST)


def list_path(k: int) -> str:
    """Return the path of list page k."""
    return f"/news/list_{k}.html"


def _published(i: int) -> datetime:
    return _START + timedelta(hours=3 * i, minutes=(i * 37) % 60)


def article_path(i: int) -> str:
    """Return the path of article i."""
    when = _published(i)
    return f"/news/{when:%Y/%m/%d}/{i}.html"


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


def article_title(i: int, pool: Pool) -> str:
    """Return the headline of article i."""
    rng = random.Random(f"newsbot-bench-title:{i}")
    place = _PLACES[i % len(_PLACES)]
    if pool.titles and rng.random() < 0.3:
        return rng.choice(pool.titles)
    return f"{place}{rng.choice(_TITLE_HEADS)}{rng.choice(_TITLE_TAILS)}"


def _sentence(rng: random.Random, pool: Pool) -> str:
    """Return a sentence of the pool, or one recombined from clauses of several."""
    if rng.random() < 0.3:
        return rng.choice(pool.sentences)
    return "，".join(rng.sample(pool.clauses, rng.randint(2, 4))) + "。"


def _fact(rng: random.Random, place: str, person: str, i: int) -> str:
    when = _published(i)
    day = rng.randint(1, 20)
    return rng.choice(_FACTS).format(
        place=place, person=person, m=when.month, day=day, day2=day + rng.randint(1, 8), kind=place[-1],
        a=rng.randint(2, 980), b=rng.randint(0, 9), c=rng.randint(3, 99), d=rng.randint(0, 9),
        n=rng.randint(12, 480), k=rng.randint(2, 11), bureau=rng.choice(_BUREAUS),
    )  # fmt: skip


def _body(i: int, pool: Pool) -> tuple[list[str], dict[str, str]]:
    """Return article i's paragraphs and the names and places on its page."""
    rng = random.Random(f"newsbot-bench-body:{i}")
    place = _PLACES[i % len(_PLACES)]
    people = {
        "place": place,
        "reporter": _name(rng),
        "correspondent": _name(rng),
        "editor": _name(rng),
        "official": _name(rng),
        "outlet": rng.choice(_OUTLETS),
    }
    when = _published(i)
    lead = f"本报讯（记者 {people['reporter']} 通讯员 {people['correspondent']}）{when.month}月{when.day}日，"
    paragraphs = [lead + _sentence(rng, pool) + _sentence(rng, pool)]
    person = f"{place}{rng.choice(('县长', '区长', '副县长', '副区长', '党委书记'))}{people['official']}"
    facts = [_fact(rng, place, person, i) for _ in range(rng.randint(4, 6))]
    for _ in range(rng.randint(4, 8)):
        paragraphs.append("".join(_sentence(rng, pool) for _ in range(rng.randint(2, 4))))
    for fact in facts:
        where = rng.randrange(1, len(paragraphs) + 1)
        paragraphs[where - 1] += fact
    # The page's own place and numbers in borrowed sentences: fewer 3-grams shared with other pages.
    paragraphs = [_SAMPLE_PLACES.sub(place[:-1], p) for p in paragraphs]
    paragraphs = [paragraphs[0], *(_DIGITS.sub(lambda m: str(rng.randint(2, 99)), p) for p in paragraphs[1:])]
    return paragraphs, people


def _links(items: list[tuple[str, str]], extra: str = "") -> str:
    return "\n".join(f'<li><a href="{url}" target="_blank">{html.escape(text)}</a>{extra}</li>' for url, text in items)


def _nav() -> str:
    items = [("/", _NAV[0])] + [(list_path(k % 20), name) for k, name in enumerate(_NAV[1:])]
    return f'<div class="nav"><ul>{_links(items)}</ul></div>'


def _header() -> str:
    return f"""<div class="top"><div class="wrap"><span>今天是 欢迎访问{SITE_NAME}</span>
<a href="/login.html">登录</a> | <a href="/register.html">注册</a> | <a href="/app.html">客户端下载</a></div></div>
<div class="header"><a href="/"><img src="/static/images/logo.png" alt="{SITE_NAME}"></a>
<form action="/search" method="get"><input type="text" name="q"><button type="submit">搜索</button></form></div>
{_nav()}"""


def _footer(i: int) -> str:
    return f"""<div class="footer">
<p><a href="/about.html">关于我们</a> | <a href="/contact.html">联系我们</a> | <a href="/ads.html">广告服务</a> |
<a href="/copyright.html">版权声明</a></p>
<p>版权声明：本网站所刊登的各种新闻、信息和各种专题专栏资料，均为{SITE_NAME}版权所有，未经协议授权，禁止下载使用。</p>
<p>违法和不良信息举报电话：0716-8445200　举报邮箱：jubao@qhnews.example.cn　网络谣言和虚假信息举报入口</p>
<p>Copyright © 2008-2024 {SITE_NAME} All Rights Reserved　备案号：鄂ICP备{10000000 + i % 97}号</p></div>"""


def _article_html(i: int, pages: int, pool: Pool, charset: str) -> str:
    paragraphs, people = _body(i, pool)
    rng = random.Random(f"newsbot-bench-page:{i}")
    title = article_title(i, pool)
    when = _published(i)
    k = i // LINKS_PER_LIST
    related = [(article_path(j), article_title(j, pool)) for j in rng.sample(range(pages), min(6, pages))]
    hot = [(article_path(j), article_title(j, pool)) for j in rng.sample(range(pages), min(8, pages))]
    prev_i, next_i = (i - 1) % pages, (i + 1) % pages
    meta_date = f'<meta name="publishdate" content="{when:%Y-%m-%d %H:%M:%S}">' if i % 2 else ""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    image = f'<p style="text-align:center"><img src="/uploads/2024/{i}.jpg" alt=""></p>' if i % 3 == 0 else ""
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="{charset}">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<title>{html.escape(title)}_{SITE_NAME}</title>
<meta name="keywords" content="{people["place"]},{SITE_NAME},本地新闻">
<meta name="description" content="{html.escape(paragraphs[0][:60])}">
{meta_date}
<link rel="stylesheet" href="/static/css/main.css" type="text/css">
<script type="text/javascript" src="/static/js/jquery.min.js"></script>
<script type="text/javascript">{_SCRIPT}</script>
</head>
<body>
{_header()}
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="{list_path(k)}">本地新闻</a> &gt; 正文</div>
<div class="main"><div class="left">
<div class="article">
<h1>{html.escape(title)}</h1>
<div class="info">来源：{people["outlet"]}　作者：{people["reporter"]}　发布时间：{when:%Y-%m-%d %H:%M}
<span id="hits">浏览次数：{rng.randint(80, 9000)}</span>
<span class="font">字号：<a href="javascript:setFontSize(18)">大</a> <a href="javascript:setFontSize(16)">中</a>
<a href="javascript:setFontSize(14)">小</a></span></div>
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a> <a href="#">QQ空间</a></div>
<div class="content" id="content">
{image}
{body}
<p class="editor">责任编辑：{people["editor"]}</p>
</div>
<div class="pages"><p>上一篇：<a href="{article_path(prev_i)}">{html.escape(article_title(prev_i, pool))}</a></p>
<p>下一篇：<a href="{article_path(next_i)}">{html.escape(article_title(next_i, pool))}</a></p></div>
<div class="tools"><a href="javascript:window.print()">【打印本页】</a>
<a href="javascript:window.close()">【关闭窗口】</a></div>
</div>
<div class="related"><h3>相关新闻</h3><ul>
{_links(related, f"<span>{when:%m-%d}</span>")}
</ul></div>
</div>
<div class="right"><div class="box"><h3>热点推荐</h3><ul>
{_links(hot)}
</ul></div>
<div class="box"><h3>扫一扫 关注{SITE_NAME}</h3><img src="/static/images/qrcode.png" alt="二维码"></div></div>
</div>
{_footer(i)}
</body>
</html>
"""


def _list_html(k: int, articles: Sequence[int], count: int, pool: Pool) -> str:
    """Return list page k of `count`, linking `articles` in that order."""
    items = "\n".join(
        f'<li><a href="{article_path(i)}" target="_blank">{html.escape(article_title(i, pool))}</a>'
        f"<span>{_published(i):%Y-%m-%d}</span></li>"
        for i in articles
    )
    pager = " ".join(f'<a href="{list_path(j)}">{j + 1}</a>' for j in range(count))
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>本地新闻 第{k + 1}页_{SITE_NAME}</title>
<link rel="stylesheet" href="/static/css/main.css" type="text/css"></head>
<body>
{_header()}
<div class="position">当前位置：<a href="/">首页</a> &gt; 本地新闻</div>
<div class="list"><ul>
{items}
</ul></div>
<div class="pager">{pager} <a href="{list_path((k + 1) % count)}">下一页</a></div>
{_footer(k)}
</body></html>
"""


def site_charset(i: int) -> str | None:
    """Return the charset the server declares for article i: utf-8, gbk, or None (only the <meta> says gbk)."""
    if i % GBK_EVERY != GBK_EVERY - 1:
        return "utf-8"
    # Half of the GBK pages are labelled by the server, half only by their <meta>.
    return "gbk" if (i // GBK_EVERY) % 2 == 0 else None


def site_page(i: int, pages: int, pool: Pool) -> Page:
    """Return article i of a site of `pages` articles, exactly as the server sends it."""
    charset = site_charset(i)
    if charset == "utf-8":
        body = _article_html(i, pages, pool, "utf-8").encode()
        return Page(article_path(i), body, "text/html; charset=utf-8", charset)
    body = _article_html(i, pages, pool, "gbk").encode("gbk", errors="xmlcharrefreplace")
    return Page(article_path(i), body, "text/html; charset=gbk" if charset else "text/html", charset)


def site_pages(pages: int, pool: Pool) -> dict[str, Page]:
    """Return every page of the site, list pages included, by path."""
    served = {page.path: page for page in (site_page(i, pages, pool) for i in range(pages))}
    count = list_count(pages)
    for k in range(count):
        body = _list_html(k, range(k * LINKS_PER_LIST, min((k + 1) * LINKS_PER_LIST, pages)), count, pool).encode()
        served[list_path(k)] = Page(list_path(k), body, "text/html; charset=utf-8", "utf-8")
    return served


@dataclass(slots=True)
class Growth:
    """Sources whose list pages gain articles on each ``publish`` (see the module docstring)."""

    sources: int
    initial: int  # articles each source has at start
    per_publish: int  # articles each source gains at each publish
    links: int  # the newest articles a list page shows
    capacity: int  # articles built in all (--pages)
    published: int = 0  # articles each source has now

    def __post_init__(self) -> None:
        self.published = min(self.initial, self.capacity // self.sources)

    def publish(self) -> int:
        """Add an article batch to every source, as far as the built pages go; return the total now."""
        self.published = min(self.published + self.per_publish, self.capacity // self.sources)
        return self.published * self.sources

    def list_page(self, k: int, pool: Pool) -> bytes:
        """Return source k's list page now: its newest articles first."""
        newest = range(self.published - 1, max(self.published - self.links, 0) - 1, -1)
        return _list_html(k, [j * self.sources + k for j in newest], self.sources, pool).encode()


async def _until_end_of_input(growth: Growth | None) -> None:
    """Read stdin until it ends; with `growth`, answer each ``publish`` line with the number of
    articles published in all."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while (line := (await reader.readline()).decode().strip()) not in ("", "quit"):
        if line == "publish" and growth is not None:
            print(growth.publish(), flush=True)


async def serve(pages: int, corpus: Path | None, port: int, growth: Growth | None = None) -> None:
    """Serve the site on 127.0.0.1 (one address per source with `growth`) until stdin ends,
    printing its base URLs on one line once listening."""
    from aiohttp import web

    pool = build_pool(corpus)
    served = site_pages(pages, pool)
    lists = {list_path(k): k for k in range(growth.sources)} if growth else {}

    async def handle(request: web.Request) -> web.Response:
        if growth is not None and request.path in lists:
            body = growth.list_page(lists[request.path], pool)
            return web.Response(body=body, headers={"Content-Type": "text/html; charset=utf-8"})
        page = served.get(request.path)
        if page is None:
            raise web.HTTPNotFound()
        return web.Response(body=page.body, headers={"Content-Type": page.content_type})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    hosts = [f"127.0.0.{k + 1}" for k in range(growth.sources)] if growth else ["127.0.0.1"]
    for host in hosts:
        await web.TCPSite(runner, host, port).start()
    print(" ".join(f"http://{address[0]}:{address[1]}" for address in runner.addresses), flush=True)
    try:
        await _until_end_of_input(growth)
    finally:
        await runner.cleanup()


def main() -> None:
    """Serve the synthetic site (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--corpus", type=Path, default=None, help="govnews/articles.jsonl, for more sentences")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--sources", type=int, default=0, help="publishing sources, one address each (0: none)")
    parser.add_argument("--initial", type=int, default=20, help="articles each source has at start")
    parser.add_argument("--per-publish", type=int, default=2, help="articles each source gains at each publish")
    parser.add_argument("--links", type=int, default=20, help="newest articles on a source's list page")
    args = parser.parse_args()
    if not 0 <= args.sources <= 254:
        parser.error("--sources must be 0-254 (one loopback address each)")
    growth = Growth(args.sources, args.initial, args.per_publish, args.links, args.pages) if args.sources else None
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.pages, args.corpus, args.port, growth))


if __name__ == "__main__":
    main()
