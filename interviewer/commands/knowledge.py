"""`interviewer ingest` and `interviewer search`: the retrieval layer on the command line.

Only typer is imported at module level; everything else is imported inside the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

PROGRESS_MIN_FILES = 10  # a progress bar only for ingests of at least this many files


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_cmd)
    app.command("search")(search_cmd)


class _RichProgress:
    """A rich progress bar on stderr, shown only on a terminal and for long ingests."""

    def __init__(self):
        self._p = None
        self._task = None

    def start(self, total: int) -> None:
        if total < PROGRESS_MIN_FILES or not sys.stderr.isatty():
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._p = Progress(
            TextColumn("ingesting"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.description}", style="dim"),
            console=Console(stderr=True),
            transient=True,
        )
        self._p.start()
        self._task = self._p.add_task("", total=total)

    def advance(self, n: int = 1, description: str | None = None) -> None:
        if self._p is not None:
            self._p.update(self._task, advance=n, description=(description or "")[:40])

    def finish(self) -> None:
        if self._p is not None:
            self._p.stop()
            self._p = None


def ingest_cmd(
    ctx: typer.Context,
    paths: Optional[List[Path]] = typer.Argument(None, help="Files or folders: Markdown, text, HTML (saved posts), PDF."),
    prune: bool = typer.Option(False, "--prune", help="Drop files previously ingested from these paths that no longer exist."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Start from an empty index (use when the index is damaged)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Add your own notes, saved blog posts and papers to the search index (incremental)."""
    from interviewer.cli import emit_json
    from interviewer.knowledge.ingest import ingest

    if not paths and not rebuild:
        from interviewer.errors import UserError

        raise UserError("no files or folders given", "for example: interviewer ingest ~/notes ~/papers/attention.pdf")
    config = ctx.obj.config if ctx.obj is not None else None
    progress = None if as_json else _RichProgress()
    report = ingest(paths or [], prune=prune, rebuild=rebuild, progress=progress, config=config)
    if as_json:
        emit_json(report.to_json())
    else:
        for f in report.failed:
            typer.echo(f"failed: {f['path']}: {f['reason']}", err=True)
        typer.echo(report.summary() + (f"; skipped {report.skipped} file(s) of other types" if report.skipped else ""))
    if report.failed:
        # SystemExit rather than typer.Exit: cli.main() runs the app with standalone_mode=False,
        # where click turns typer.Exit into a return value that main() does not pass on.
        raise SystemExit(1)


def search_cmd(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="What to look for, in your own words."),
    k: int = typer.Option(5, "-k", "--k", help="Number of chunks to return."),
    topic: Optional[str] = typer.Option(None, "--topic", help="Only chunks of this topic (e.g. calibration)."),
    domain: Optional[str] = typer.Option(None, "--domain", help="Only chunks of this domain (e.g. ads)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Search the notes and everything you ingested: ranked chunks with their source."""
    from interviewer.errors import UserError

    if not query.strip():
        raise UserError("the query is empty", 'pass some words, e.g. interviewer search "isotonic vs platt"')
    if k < 1 or k > 100:
        raise UserError(f"-k must be between 1 and 100 (got {k})", "for example -k 10")
    # Load the model while Chroma imports: both take a few hundred ms on a cold start.
    import threading

    def _warm():
        try:
            from interviewer.embedding import get_embedder

            get_embedder()
        except Exception:
            pass  # the search itself reports it

    warm = threading.Thread(target=_warm, daemon=True)
    warm.start()
    from interviewer.knowledge.retrieve import get_retriever

    config = ctx.obj.config if ctx.obj is not None else None
    retriever = get_retriever(config)
    warm.join()
    results = retriever.search(query, k=k, topic=topic, domain=domain)
    if as_json:
        from interviewer.cli import emit_json

        emit_json({"query": query, "results": [c.to_json() for c in results]})
        return
    from interviewer.cli import console

    c = console()
    if not results:
        what = " and ".join(x for x in (f"topic {topic!r}" if topic else "", f"domain {domain!r}" if domain else "") if x)
        c.print("no results" + (f" for {what}" if what else "") + " (ingest more with `interviewer ingest PATH...`)")
        return
    from rich.table import Table
    from rich.text import Text

    t = Table("#", "score", "source", "text", show_lines=True, expand=True)
    for i, ch in enumerate(results, 1):
        where = Text(_short_source(ch.source), style="cyan")
        where.append(f"\n{ch.title}", style="bold")
        if ch.heading:
            where.append(f"\n{ch.heading}", style="dim")
        text = ch.text if len(ch.text) <= 600 else ch.text[:600] + "…"
        t.add_row(str(i), f"{ch.score:.3f}", where, Text(text))
    c.print(t)


def _short_source(source: str) -> str:
    try:
        p = Path(source)
        if p.is_absolute():
            return str(p.relative_to(Path.cwd()))
    except ValueError:
        pass
    return source
