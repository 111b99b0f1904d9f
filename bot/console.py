"""Show articles and summaries in a terminal, readably (rich)."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ingest import Article, Contact
from summarizer import Summary

__all__ = ["render_article", "render_summary"]


def _list(rows: list[tuple[str, Text | str]]) -> Table:
    """Lay out marker + text rows so long Chinese lines wrap under the text, not the marker."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, style="dim")
    grid.add_column(overflow="fold")
    for marker, text in rows:
        grid.add_row(marker, text)
    return grid


def _header(article: Article) -> list[RenderableType]:
    when = article.published_at.strftime("%Y-%m-%d") if article.published_at else "日期不详"
    meta = " · ".join(x for x in (when, article.source) if x)
    parts: list[RenderableType] = [
        Text(article.title or "（无标题）", style="bold"),
        Text(meta, style="dim"),
    ]
    if article.authors:
        parts.append(Text(" ".join(f"{a.role}{a.name}" for a in article.authors), style="dim"))
    return parts


def _section(name: str) -> Text:
    return Text(f"\n{name}", style="bold cyan")


def _contacts(contacts: list[Contact]) -> Table:
    return _list([("☎", f"{c.label}：{c.value or '（见原网页）'}") for c in contacts])


def render_summary(console: Console, article: Article, summary: Summary) -> None:
    """Print title, date and source, key sentences, numbered directives, keywords and facts."""
    parts = _header(article)
    parts += [_section("要点"), _list([("•", s) for s in summary.key_sentences])]
    if summary.directives:
        rows: list[tuple[str, Text | str]] = []
        for n, d in enumerate(summary.directives, 1):
            line = Text()
            line.append(d.head, style="bold")
            line.append("：" + d.text)
            rows.append((f"{n}.", line))
        parts += [_section(f"部署要求（{len(summary.directives)} 条）"), _list(rows)]
    if summary.keywords:
        parts += [_section("关键词"), Text("、".join(summary.keywords))]
    facts = summary.facts
    found = [
        (k, v)
        for k, v in (
            ("时间", facts.date),
            ("会议", facts.meeting),
            ("人物", "、".join(facts.people)),
            ("文件", "、".join(f"《{d}》" for d in facts.documents)),
        )
        if v
    ]
    if found:
        parts += [_section("要素"), _list(found)]
    if article.contacts:
        parts += [_section("举报方式"), _contacts(article.contacts)]
    console.print(Panel(Group(*parts), expand=False))


def render_article(console: Console, article: Article) -> None:
    """Print the parsed article: header, body paragraphs, editor and contacts."""
    parts = _header(article)
    parts += [Text(""), _list([("", p) for p in article.paragraphs])]
    if article.editor:
        parts.append(Text(f"\n编辑：{article.editor}", style="dim"))
    if article.contacts:
        parts += [_section("举报方式"), _contacts(article.contacts)]
    console.print(Panel(Group(*parts), expand=False))
