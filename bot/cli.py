"""The `newsbot` command line: summarise and extract articles from files, stdin or the web."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from bot.config import ConfigError, load_settings

__all__ = ["app", "main"]

app = typer.Typer(
    help="newsbot: 读懂本地新闻 — summarise Chinese local news.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="TOML settings file (default: $NEWSBOT_CONFIG).")
]
Target = Annotated[str, typer.Argument(help="A file (text dump or HTML page), - for stdin, or a URL.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a readable view.")]


class InputError(Exception):
    """The input named on the command line cannot be read as an article."""


def _fail(message: str) -> NoReturn:
    """Print a one-line error and exit non-zero: bad input never shows a traceback."""
    Console(stderr=True, soft_wrap=True).print(f"[bold red]newsbot:[/] {escape(message)}", highlight=False)
    raise typer.Exit(1)


def _read(target: str) -> bytes:
    """Return the bytes of a file or stdin, refusing what cannot be an article."""
    from ingest import MAX_BYTES

    if target.startswith(("http://", "https://")):
        raise InputError("fetching URLs is not supported yet: save the page and pass the file")
    if target == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
    else:
        path = Path(target)
        if path.is_dir():
            raise InputError(f"{target} is a directory, not an article file")
        try:
            size = path.stat().st_size
            if size > MAX_BYTES:
                raise InputError(f"{target} is {size / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB")
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise InputError(f"{target}: no such file") from exc
        except OSError as exc:
            raise InputError(f"{target}: {exc.strerror}") from exc
    if len(data) > MAX_BYTES:
        raise InputError(f"input is over the {MAX_BYTES // 2**20} MB limit")
    return data


def _article(target: str) -> Any:
    from ingest import IngestError, parse

    try:
        return parse(_read(target), url=None)
    except (InputError, IngestError) as exc:
        _fail(str(exc))


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
    from bot.console import render_summary
    from summarizer import summarize as run_summary

    try:
        settings = load_settings(config)
    except ConfigError as exc:
        _fail(str(exc))
    article = _article(target)
    summary = run_summary(article, budget=budget or settings.summary_budget)
    if as_json:
        _print_json({"article": article.to_dict(), "summary": summary.to_dict()})
    else:
        render_summary(Console(), article, summary)


@app.command()
def extract(target: Target, as_json: JsonFlag = False) -> None:
    """Parse an article and show its fields, without summarising."""
    from bot.console import render_article

    article = _article(target)
    if as_json:
        _print_json(article.to_dict())
    else:
        render_article(Console(), article)


def main() -> None:
    """Run the command line."""
    app()
