"""Show articles and summaries in a terminal, readably (rich)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table
from rich.text import Text

from bot.render import shown_head
from ingest import Article, Contact
from summarizer import Summary

if TYPE_CHECKING:
    from bot.config import SourceSettings
    from bot.pipeline import IngestTally

__all__ = [
    "IngestProgress",
    "render_article",
    "render_articles",
    "render_sources",
    "render_summary",
    "render_tallies",
]


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
            # The head in bold where the text says it, so it is read once.
            at, head = shown_head(d.text, d.head)
            line = Text()
            if at < 0:
                line.append(head, style="bold")
                line.append("：" + d.text)
            else:
                line.append(d.text[:at])
                line.append(head, style="bold")
                line.append(d.text[at + len(head) :])
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


class IngestProgress:
    """A live progress line per source while articles are ingested."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("[dim]{task.completed} 篇"),
            TextColumn("[dim]{task.fields[last]}"),
            console=console,
            transient=True,
        )

    def __enter__(self) -> IngestProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def callback(self, name: str) -> Callable[[str, str], None]:
        """Return the per-article callback for one source."""
        task = self._progress.add_task(name, total=None, last="")

        def advance(url: str, outcome: str) -> None:
            self._progress.update(task, advance=1, last=f"{outcome}: {url[-60:]}")

        return advance


def render_tallies(console: Console, tallies: Mapping[str, IngestTally]) -> None:
    """Print new/updated/duplicate/unchanged/not_article/failed per source, then the errors."""
    from bot.pipeline import FAILED, OUTCOMES

    table = Table(title="ingest", title_justify="left")
    table.add_column("source")
    for outcome in OUTCOMES:
        table.add_column(outcome, justify="right", style="red" if outcome == FAILED else None)
    for name, tally in tallies.items():
        table.add_row(name, *(str(tally.counts[o]) for o in OUTCOMES))
    console.print(table)
    errors = [e for tally in tallies.values() for e in tally.errors]
    for error in errors[:10]:
        console.print(f"[red]✗[/] {escape(error)}", soft_wrap=True)
    if len(errors) > 10:
        console.print(f"[red]… and {len(errors) - 10} more errors[/]")


def _when(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else "—"


def render_sources(
    console: Console,
    configured: Sequence[SourceSettings],
    health: Sequence[Any],
    counts: Mapping[str, int],
    tz: tzinfo,
) -> None:
    """Print each configured source with its stored health; failing ones stand out."""
    from bot.pipeline import FAILURES_BEFORE_BACKOFF

    by_name = {row.name: row for row in health}
    table = Table(title="sources", title_justify="left")
    for column in ("source", "kind", "articles", "last success", "failures", "next run", "last error"):
        table.add_column(column, overflow="fold")
    for source in configured:
        row = by_name.get(source.name)
        failures = row.consecutive_failures if row else 0
        style = "bold red" if failures >= FAILURES_BEFORE_BACKOFF else "yellow" if failures else ""
        note = f"{failures} (backing off)" if failures >= FAILURES_BEFORE_BACKOFF else str(failures)
        table.add_row(
            source.name,
            str(source.kind),
            str(counts.get(source.name, 0)),
            _when(row.last_success_at, tz) if row else "never run",
            Text(note, style=style),
            _when(row.next_run_at, tz) if row else "—",
            (row.last_error or "")[:200] if row else "",
        )
    console.print(table)


def render_articles(console: Console, rows: Sequence[Any], tz: tzinfo) -> None:
    """Print stored articles one per line: id, date (in `tz`), title, source."""
    table = Table(title="articles", title_justify="left")
    for column in ("id", "date", "title", "source"):
        table.add_column(column, overflow="fold")
    for row in rows:
        when = row.published_at.astimezone(tz).strftime("%Y-%m-%d") if row.published_at else "—"
        table.add_row(str(row.id), when, Text(row.title or "（无标题）"), Text(row.outlet))
    console.print(table)
