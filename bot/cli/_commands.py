"""The `newsbot` command line: summarise and extract articles; ingest, list and search them."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from bot.config import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from bot.services import Services
    from ingest import Article

__all__ = ["app", "main"]

T = TypeVar("T")

app = typer.Typer(
    help="newsbot: 读懂本地新闻 — summarise Chinese local news.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(shown: bool) -> None:
    if shown:
        typer.echo(f"newsbot {version('newsbot')}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the installed version and exit."),
    ] = False,
) -> None:
    """newsbot: 读懂本地新闻 — summarise Chinese local news."""


db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")

ConfigOption = Annotated[Path | None, typer.Option("--config", help="TOML settings file (default: $NEWSBOT_CONFIG).")]
Target = Annotated[str, typer.Argument(help="A file (text dump or HTML page), - for stdin, or a URL.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a readable view.")]


def _fail(message: str) -> NoReturn:
    """Print a one-line error and exit non-zero: bad input never shows a traceback."""
    line = " ".join(message.split())  # driver messages carry their own line breaks
    Console(stderr=True, soft_wrap=True).print(f"[bold red]newsbot:[/] {escape(line)}", highlight=False)
    raise typer.Exit(1)


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        _fail(str(exc))


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine, turning the errors users cause (bad input, database down) into one line."""
    from ingest import IngestError
    from storage import StorageError

    try:
        return asyncio.run(coro)
    except (IngestError, StorageError) as exc:
        _fail(str(exc))


def _with_services(settings: Settings, use: Callable[[Services], Awaitable[T]], urls: Sequence[str] = ()) -> T:
    """Open the database (migrated) and a fetcher (which may reach `urls`), run `use`, close them."""
    from bot.services import open_services

    async def go() -> T:
        async with open_services(settings, urls) as services:
            return await use(services)

    return _run(go())


async def _read_target(target: str, settings: Settings) -> Article:
    """Read one article from a URL, a file or stdin."""
    from ingest import MAX_BYTES, TooLargeError, fetch_article, parse, read_file

    if target.startswith(("http://", "https://")):
        async with settings.fetcher(target) as fetcher:
            fetched = await fetch_article(target, fetcher)
        assert fetched.article is not None  # no validators were sent, so no 304
        return fetched.article
    if target == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise TooLargeError(f"input is over the {MAX_BYTES // 2**20} MB limit")
        return parse(data)
    article = read_file(Path(target)).article
    assert article is not None
    return article


def _print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@app.command()
def summarize(
    target: Target,
    budget: Annotated[
        int | None, typer.Option("--budget", min=1, max=100_000, help="Characters of key sentences.")
    ] = None,
    as_json: JsonFlag = False,
    config: ConfigOption = None,
) -> None:
    """Summarise an article: key sentences, directives, keywords and facts."""
    from bot.cli._views import render_summary
    from summarizer import summarize as run_summary

    settings = _settings(config)
    article = _run(_read_target(target, settings))
    summary = run_summary(article, budget=budget or settings.summary_budget)
    if as_json:
        _print_json({"article": article.to_dict(), "summary": summary.to_dict()})
    else:
        render_summary(Console(), article, summary)


@app.command()
def extract(target: Target, as_json: JsonFlag = False, config: ConfigOption = None) -> None:
    """Parse an article and show its fields, without summarising."""
    from bot.cli._views import render_article

    article = _run(_read_target(target, _settings(config)))
    if as_json:
        _print_json(article.to_dict())
    else:
        render_article(Console(), article)


@app.command()
def ingest(
    targets: Annotated[
        list[str] | None, typer.Argument(help="Article URLs or files to ingest instead of the sources.")
    ] = None,
    source: Annotated[str | None, typer.Option("--source", help="Only this configured source.")] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Keep running every source on its interval.")] = False,
    config: ConfigOption = None,
) -> None:
    """Fetch, summarise and store new articles: one pass, or forever with --watch."""
    from bot.cli._views import IngestProgress, render_tallies

    settings = _settings(config)
    if watch:
        from bot.jobs import watch as run_watch

        _configure_logging(settings)
        _run(run_watch(settings))
        return
    chosen = [s.to_source() for s in settings.sources if source is None or s.name == source]
    if source is not None and not chosen:
        _fail(f"no source named {source!r}; configured: {', '.join(s.name for s in settings.sources)}")
    console = Console()

    async def run(services: Services) -> dict[str, Any]:
        from bot.pipeline import ingest_targets

        with IngestProgress(console) as progress:
            if targets:
                tally = await ingest_targets(
                    targets,
                    fetcher=services.fetcher,
                    sessions=services.sessions,
                    progress=progress.callback("命令行"),
                    analyzer=services.analyzer,
                    in_flight=services.settings.ingest.in_flight,
                )
                return {"命令行": tally}
            return {s.name: await services.ingest(s, progress.callback(s.name)) for s in chosen}

    render_tallies(console, _with_services(settings, run, targets or ()))


@app.command()
def sources(config: ConfigOption = None) -> None:
    """Show the health of each source: last success, failures in a row, next run, last error."""
    from bot.cli._views import render_sources
    from storage import article_count_by_source, list_sources_health

    settings = _settings(config)

    async def run(services: Services) -> tuple[list[Any], dict[str, int]]:
        async with services.sessions() as session:
            return (
                await list_sources_health(session=session),
                await article_count_by_source(session=session),
            )

    health, counts = _with_services(settings, run)
    render_sources(Console(), settings.sources, health, counts, settings.zone)


@app.command()
def articles(
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many, newest first.")] = 20,
    search: Annotated[str | None, typer.Option("--search", help="Only articles with all these words.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    config: ConfigOption = None,
) -> None:
    """List stored articles, newest first, or those matching --search."""
    from bot.cli._views import render_articles
    from storage import latest_articles, search_articles

    if search is not None and len(search) > 200:
        _fail("search words are limited to 200 characters")

    async def run(services: Services) -> list[Any]:
        async with services.sessions() as session:
            if search:
                return await search_articles(session=session, words=search, limit=limit)
            return await latest_articles(session=session, limit=limit)

    settings = _settings(config)
    rows = _with_services(settings, run)
    if as_json:
        for row in rows:
            published = row.published_at.astimezone(settings.zone).isoformat() if row.published_at else None
            line = {"id": row.id, "url": row.url, "title": row.title, "source": row.source_name}
            sys.stdout.write(json.dumps(line | {"published_at": published}, ensure_ascii=False) + "\n")
    else:
        render_articles(Console(), rows, settings.zone)


@app.command()
def run(
    webhook: Annotated[str | None, typer.Option("--webhook", help="Public HTTPS URL for Telegram to post to.")] = None,
    listen: Annotated[str, typer.Option("--listen", help="Address the webhook server binds.")] = "0.0.0.0",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port the webhook server binds.")] = 8443,
    send_only: Annotated[
        bool,
        typer.Option(
            "--send-only", help="Only send the outbox (no updates, no scheduled job): a process beside one that polls."
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Run the bot: polling by default, or a webhook with secret-token verification."""
    from urllib.parse import urlsplit

    from telegram.error import TelegramError

    from bot.app import run_bot
    from bot.config import Webhook
    from bot.redact import redact, secrets_of

    settings = _settings(config)
    if settings.token is None:
        _fail("no Telegram token: set NEWSBOT_TOKEN (or try `newsbot chat`, which needs none)")
    hook = None
    if webhook is not None:
        if not webhook.startswith("https://"):
            _fail("--webhook must be an https:// URL")
        if settings.webhook_secret is None:
            _fail("a webhook needs NEWSBOT_WEBHOOK_SECRET, which Telegram presents on every call")
        secret = settings.webhook_secret.get_secret_value()
        hook = Webhook(url=webhook, secret=secret, listen=listen, port=port, path=urlsplit(webhook).path.lstrip("/"))
    _configure_logging(settings)
    try:
        _run(run_bot(settings, webhook=hook, updates=not send_only, schedule=not send_only))
    except TelegramError as exc:
        # InvalidToken quotes the token it was given.
        _fail(redact(f"Telegram Bot API: {exc}", secrets_of(settings)))


@app.command()
def chat(config: ConfigOption = None) -> None:
    """Try the whole bot in this terminal: a local Bot API emulator, no token needed."""
    from bot.cli._chat import run_chat

    settings = _settings(config)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _run(run_chat(settings, Console()))


def _configure_logging(settings: Settings) -> None:
    from bot.redact import install, secrets_of

    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet = max(logging.getLogger().level, logging.WARNING)
    # The HTTP client logs request URLs, and Bot API URLs carry the token: keep it quiet, and mask the
    # secrets in what still gets out. APScheduler logs each run twice at INFO: its misses and failures do.
    for name in ("httpx", "apscheduler"):
        logging.getLogger(name).setLevel(quiet)
    install(secrets_of(settings))


@app.command()
def resummarize(config: ConfigOption = None) -> None:
    """Recompute stored summaries made by an older summariser version."""
    from bot.pipeline import resummarize_all

    count = _with_services(_settings(config), lambda services: resummarize_all(sessions=services.sessions))
    Console().print(f"resummarised {count} articles")


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Migrate the database to the current schema (the app also does this on start)."""
    from storage import upgrade

    settings = _settings(config)
    _run(asyncio.to_thread(upgrade, settings.database_url))
    Console().print("database is at the current schema")


def main() -> None:
    """Run the command line."""
    app()
