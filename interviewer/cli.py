"""The command line: parse, call a service, render (a rich table, or JSON with --json).

Only typer is imported at module level so that `interviewer --help` stays instant; each command
imports what it needs. Every failure a user can cause ends as one line on stderr and a non-zero
exit; `-v` adds the traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from interviewer.errors import UserError

app = typer.Typer(
    name="interviewer",
    help="ML-interview practice in the terminal: analyze a posting, run timed mock rounds, get graded, track progress.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
bank_app = typer.Typer(help="Browse and lint the question bank.", no_args_is_help=True)
history_app = typer.Typer(help="Past sessions: list, show, export, delete.", invoke_without_command=True)
eval_app = typer.Typer(help="Run eval suites and compare results.", no_args_is_help=True)
journal_app = typer.Typer(help="Your own journal entries: real interview questions, papers, key points.", no_args_is_help=True)
app.add_typer(bank_app, name="bank")
app.add_typer(history_app, name="history")
app.add_typer(eval_app, name="eval")
app.add_typer(journal_app, name="journal")

_state: dict[str, Any] = {"verbose": False}


def services(ctx: typer.Context):
    return ctx.obj


@app.callback(invoke_without_command=True)
def _global(
    ctx: typer.Context,
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1"),
    model: Optional[str] = typer.Option(None, "--model", help="Model name at the endpoint."),
    profile: Optional[str] = typer.Option(None, "--profile", help="A named [profiles.NAME] from config.toml."),
    offline: bool = typer.Option(False, "--offline", help="Never call an LLM; grade with the bundled model."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Show details (tracebacks) on errors."),
) -> None:
    from interviewer.services import Services
    from interviewer.settings import Overrides

    _state["verbose"] = verbose
    ctx.obj = Services(Overrides(base_url=base_url, model=model, profile=profile, offline=offline), verbose=verbose)
    if ctx.invoked_subcommand is None:
        if sys.stdin.isatty() and sys.stdout.isatty():
            # Bare `interviewer` in a terminal opens the home screen; piped, it prints the help.
            cmd = ctx.command.get_command(ctx, "practice")
            defaults = {p.name: p.get_default(ctx) for p in cmd.params}
            ctx.invoke(cmd.callback, **{**defaults, "home": True})
        else:
            typer.echo(ctx.get_help())


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def console():
    from rich.console import Console

    return Console()


def read_text_arg(value: str, what: str) -> str:
    """Read a file argument, or stdin for '-', as UTF-8 with a clear error."""
    if value == "-":
        data = sys.stdin.buffer.read()
        name = "standard input"
    else:
        p = Path(value)
        if not p.exists():
            raise UserError(f"{what} file {value} does not exist", "check the path")
        if p.is_dir():
            raise UserError(f"{what} path {value} is a folder", "pass a file")
        data = p.read_bytes()
        name = value
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{name} is not UTF-8 text", "re-save it as UTF-8 (e.g. iconv -t utf-8)")


# --------------------------------------------------------------------------------------------
# doctor


@app.command()
def doctor(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Check the set-up: mode, endpoint and model, embedding model, store, journal, tokens, sandbox."""
    from interviewer.doctor import run_doctor

    report = run_doctor(services(ctx))
    if as_json:
        emit_json(report)
    else:
        from interviewer.doctor import render_doctor

        render_doctor(report, console())
    if report.get("problems"):
        raise typer.Exit(1)


@app.command()
def setup(ctx: typer.Context) -> None:
    """Prepare the offline model once (export to ONNX) so later commands start fast."""
    from interviewer.embedding import Embedder, onnx_path

    path = onnx_path()
    existed = path.exists()
    e = Embedder(backend="onnx")
    typer.echo(f"embedding model ready ({e.backend}) at {path}" + (" (already there)" if existed else ""))
    from interviewer.chains.grader import OfflineGrader

    OfflineGrader(embedder=e, bank=services(ctx).bank).warm()  # caches the grader's background vectors
    typer.echo("offline grader ready")
    from interviewer.tokens import status

    st = status()
    typer.echo(f"token counting: {st['method']}" + (f" ({st.get('encoding')})" if st.get("encoding") else f": {st.get('detail')}"))


# --------------------------------------------------------------------------------------------
# grade


@app.command()
def grade(
    ctx: typer.Context,
    question: str = typer.Option(..., "--question", "-q", help="A bank question id, or a YAML file holding one question."),
    answer: str = typer.Option(..., "--answer", "-a", help="A file with the answer, or - for stdin."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Grade one answer against a question's rubric (offline, or with the configured model)."""
    svc = services(ctx)
    q = resolve_question(svc, question)
    text = read_text_arg(answer, "answer")
    if not text.strip():
        raise UserError("the answer is empty", "write an answer in the file (or pipe one into -)")
    g = svc.grading.grade(q, text)
    if svc.llm is not None:
        try:
            svc.journal.log_llm_calls(svc.llm.usage.records)
        except UserError:
            pass
    if as_json:
        out = g.model_dump(include={"score", "criteria", "grader", "model", "feedback", "missing", "notices", "prompt_version", "relevance", "sources"})
        out["question_id"] = q.id
        if g.tests is not None:
            out["tests"] = g.tests.model_dump(include={"passed", "failed", "errors", "results", "status", "message", "stdout", "stderr"})
        emit_json(out)
        return
    from rich.markup import escape
    from rich.table import Table

    c = console()
    for n in g.notices:
        c.print(f"[yellow]note:[/] {escape(n)}")
    c.print(f"[bold]{q.id}[/]  score [bold]{g.score:.1f}[/]/10  (grader: {g.grader}{', ' + g.model if g.model else ''})")
    t = Table("criterion", "points", "feedback", show_lines=False)
    for cg in g.criteria:
        t.add_row(cg.id, f"{cg.awarded:g}/{cg.points:g}", escape(cg.feedback))
    c.print(t)
    if g.tests is not None:
        c.print(f"hidden tests: {g.tests.passed} passed, {g.tests.failed} failed, {g.tests.errors} errors {escape(g.tests.message)}")
    if g.missing:
        c.print(f"[dim]A full answer would add:[/] {escape(g.missing)}")


def resolve_question(svc, ref: str):
    from interviewer.bank import Bank, load_file

    p = Path(ref)
    if ref.endswith((".yaml", ".yml")) or (p.exists() and p.is_file()):
        if not p.exists():
            raise UserError(f"question file {ref} does not exist", "check the path")
        b = Bank()
        load_file(p, b, None, "file")
        if b.issues:
            raise UserError(f"{ref}: {b.issues[0].problem}", "fix the question file (see corpus/questions/README.md)")
        if not b.questions:
            raise UserError(f"{ref} holds no question", "see corpus/questions/README.md for the format")
        return next(iter(b.questions.values()))
    q = svc.bank.get(ref)
    if q is None:
        import difflib

        close = difflib.get_close_matches(ref, list(svc.bank.questions), n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "`interviewer bank list` shows the ids"
        raise UserError(f"no question {ref!r} in the bank", hint)
    return q


# --------------------------------------------------------------------------------------------
# practice


@app.command()
def practice(
    ctx: typer.Context,
    round: Optional[str] = typer.Option(None, "--round", "-r", help="breadth | depth | system_design | coding (default breadth, or a full loop with --posting)."),
    minutes: Optional[float] = typer.Option(None, "--minutes", "-m", help="Length of the round in minutes."),
    question_minutes: Optional[float] = typer.Option(None, "--question-minutes", help="Time per question in minutes."),
    questions: Optional[int] = typer.Option(None, "--questions", "-n", help="Number of questions."),
    mode: str = typer.Option("practice", "--mode", help="practice (feedback after each answer) or mock (feedback at the end)."),
    posting: Optional[str] = typer.Option(None, "--posting", help="A job posting file (or -): plan a full loop for that role."),
    due: bool = typer.Option(False, "--due", help="Drill the questions due for review."),
    resume: Optional[int] = typer.Option(None, "--resume", help="Resume an interrupted session by id."),
    home: bool = typer.Option(False, "--home", help="Open the home screen instead of starting a round."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Fix the question choice (for demos and tests)."),
) -> None:
    """Run a timed mock round in the terminal UI."""
    svc = services(ctx)
    if mode not in ("practice", "mock"):
        raise UserError(f"unknown mode {mode!r}", "use --mode practice or --mode mock")
    if minutes is not None and minutes <= 0:
        raise UserError("--minutes must be positive", "for example --minutes 10")
    engine = None
    profile = None
    if posting:
        from interviewer.commands.analyze import analyze_text

        profile = analyze_text(svc, read_text_arg(posting, "posting"))
    if resume is not None:
        from interviewer.rounds.engine import SessionEngine

        engine = SessionEngine.resume(svc.journal, svc.bank, svc.grading, resume, interviewer=svc.interviewer, usage=svc.llm.usage if svc.llm is not None else None)
    elif not home:
        try:
            engine = svc.new_engine(round=round if (round or not profile) else None, mode=mode, profile=profile, questions=questions, minutes=minutes, question_minutes=question_minutes, due=due, seed=seed)
        except ValueError as exc:
            raise UserError(str(exc), "see `interviewer practice --help`")
    else:
        unfinished = svc.journal.unfinished_sessions()
        if unfinished:
            typer.echo(f"note: session {unfinished[0]['id']} was interrupted; `interviewer practice --resume {unfinished[0]['id']}` continues it", err=True)
    if not sys.stdout.isatty() and not _state.get("force_tui"):
        raise UserError("practice needs an interactive terminal", "run it in a terminal (not through a pipe)")
    from interviewer.tui.app import InterviewerApp

    InterviewerApp(svc, engine=engine, start_home=home).run()


# --------------------------------------------------------------------------------------------
# bank


def _question_row(q) -> dict:
    return {"id": q.id, "round": q.round, "level": q.level, "topics": q.topics, "domains": q.domains, "prompt": q.prompt}


@bank_app.command("list")
def bank_list(
    ctx: typer.Context,
    round: Optional[str] = typer.Option(None, "--round"),
    topic: Optional[str] = typer.Option(None, "--topic"),
    domain: Optional[str] = typer.Option(None, "--domain"),
    level: Optional[str] = typer.Option(None, "--level"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List bank questions, filtered."""
    b = services(ctx).bank
    qs = b.filter(round=round, topic=topic, domain=domain, level=level)
    if as_json:
        emit_json({"count": len(qs), "counts": b.counts(), "questions": [_question_row(q) for q in qs]})
        return
    from rich.markup import escape
    from rich.table import Table

    t = Table("id", "round", "level", "topics", "prompt")
    for q in qs:
        t.add_row(q.id, q.round, q.level, ",".join(q.topics), escape(q.prompt[:70] + ("…" if len(q.prompt) > 70 else "")))
    c = console()
    c.print(t)
    c.print(f"{len(qs)} questions")


@bank_app.command("show")
def bank_show(ctx: typer.Context, qid: str = typer.Argument(..., help="Question id."), as_json: bool = typer.Option(False, "--json")) -> None:
    """Show one question with its rubric and reference answer."""
    q = resolve_question(services(ctx), qid)
    if as_json:
        emit_json(q.model_dump(exclude_none=True))
        return
    from rich.markup import escape

    c = console()
    c.print(f"[bold]{q.id}[/] ({q.round}, {q.level}; topics {', '.join(q.topics)}; domains {', '.join(q.domains) or '-'})\n")
    c.print(escape(q.prompt) + "\n")
    for cr in q.rubric:
        c.print(f"  [cyan]{cr.id}[/] ({cr.points:g}): {escape(cr.criterion)}")
    c.print(f"\n[dim]Reference answer:[/]\n{escape(q.reference_answer)}")
    for f in q.follow_ups:
        c.print(f"  follow-up: {escape(f)}")


@bank_app.command("lint")
def bank_lint(ctx: typer.Context, as_json: bool = typer.Option(False, "--json"), grade_refs: bool = typer.Option(True, "--grade-refs/--no-grade-refs", help="Check that reference answers score >= 9 with the offline grader.")) -> None:
    """Lint the bank: schema, duplicates, near-duplicates, rubric shape, coding references."""
    from interviewer.bank_lint import lint_bank

    svc = services(ctx)
    report = lint_bank(svc.bank, grader=svc.grading.offline if grade_refs else None)
    if as_json:
        emit_json(report)
    else:
        from rich.markup import escape

        c = console()
        for item in report["issues"]:
            style = "red" if item["severity"] == "error" else "yellow"
            where = escape(f"{item['path']} [{item.get('question_id') or '-'}]: {item['problem']}")
            c.print(f"[{style}]{item['severity']}[/]: {where}")
        c.print(f"{report['questions']} questions, {report['errors']} errors, {report['warnings']} warnings")
    if report["errors"]:
        raise typer.Exit(1)


# --------------------------------------------------------------------------------------------
# history, progress, plan, journal, export/import


@history_app.callback()
def history(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """List past sessions (subcommands: show, export, delete)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = ctx.obj.journal.sessions(100)
    if as_json:
        emit_json({"sessions": rows})
        return
    from datetime import datetime

    from rich.table import Table

    t = Table("id", "started", "mode", "rounds", "status", "answers", "mean")
    for r in rows:
        t.add_row(
            str(r["id"]),
            datetime.fromtimestamp(r["started_at"]).strftime("%Y-%m-%d %H:%M"),
            r["mode"],
            ", ".join(r["rounds"]),
            r["status"],
            str(r["n_answers"]),
            f"{r['mean_score']:.1f}" if r.get("mean_score") is not None else "-",
        )
    console().print(t)


@history_app.command("show")
def history_show(ctx: typer.Context, session_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show one session with every answer and grade."""
    s = ctx.obj.journal.session(session_id)
    if as_json:
        emit_json(s)
        return
    from interviewer.export_md import session_markdown

    from rich.markdown import Markdown

    console().print(Markdown(session_markdown(s)))


@history_app.command("export")
def history_export(ctx: typer.Context, session_id: int, output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write to this file instead of stdout.")) -> None:
    """Export a session as Markdown."""
    from interviewer.export_md import session_markdown

    md = session_markdown(ctx.obj.journal.session(session_id))
    if output:
        output.write_text(md, encoding="utf-8")
        typer.echo(f"wrote {output}")
    else:
        sys.stdout.write(md + "\n")


@history_app.command("delete")
def history_delete(ctx: typer.Context, session_id: int, yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask.")) -> None:
    """Delete a session and its answers."""
    j = ctx.obj.journal
    j.session(session_id)
    if not yes and not typer.confirm(f"Delete session {session_id} and its answers?"):
        raise typer.Exit(1)
    j.delete_session(session_id)
    typer.echo(f"deleted session {session_id}")


@app.command()
def progress(ctx: typer.Context, as_json: bool = typer.Option(False, "--json"), plot: Optional[Path] = typer.Option(None, "--plot", help="Also write a PNG chart to this file.")) -> None:
    """Score trends per topic, round and domain; weakest topics; time per question."""
    from interviewer.progress_view import plot_png, render_progress

    data = ctx.obj.journal.progress()
    if plot:
        plot_png(data, plot)
    if as_json:
        # Compact, not indented: the per-day topic trend runs to thousands of rows, and indent
        # makes json fall back to its pure-Python encoder (3.5x slower at 10,000 answers).
        sys.stdout.write(json.dumps(data, default=str) + "\n")
        return
    render_progress(data, console())
    if plot:
        typer.echo(f"wrote {plot}")


@app.command("plan")
def study_plan(ctx: typer.Context, posting: Optional[str] = typer.Option(None, "--posting", help="A job posting file (or -)."), as_json: bool = typer.Option(False, "--json")) -> None:
    """What to study next: the role's focus combined with your journal."""
    from interviewer.study_plan import build_plan, render_plan

    svc = ctx.obj
    profile = None
    if posting:
        from interviewer.commands.analyze import analyze_text

        profile = analyze_text(svc, read_text_arg(posting, "posting"))
    plan = build_plan(svc, profile)
    if as_json:
        emit_json(plan)
    else:
        render_plan(plan, console())


@journal_app.command("add")
def journal_add(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help="question | paper | post | point"),
    title: str = typer.Argument(..., help="The question you were asked, the paper's title, or the key point."),
    body: str = typer.Option("", "--body", help="Notes; for a question, your own reference answer."),
    source: Optional[str] = typer.Option(None, "--source", help="For a paper or post: a file to ingest (md, txt, html, pdf)."),
    topics: str = typer.Option("", "--topics", help="Comma-separated topic ids, for a question."),
    round: str = typer.Option("breadth", "--round", help="For a question: which round it belongs to."),
    rubric: Optional[str] = typer.Option(None, "--rubric", help="For a question: your own rubric (YAML list of id, criterion, points); otherwise the configured model drafts one."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Record a real interview question, a paper or post you studied, or a key point."""
    from interviewer.journal_entries import add_entry, add_question

    topic_ids = [t.strip() for t in topics.split(",") if t.strip()]
    if kind != "question":
        msg = add_entry(ctx.obj, kind, title, body, source, topic_ids, round)
        if as_json:
            emit_json({"message": msg})
        else:
            typer.echo(msg)
        return
    if not title.strip():
        raise UserError("the entry needs a title", "for a question, the question itself")
    added = add_question(ctx.obj, title, body, topic_ids, round, rubric)
    if as_json:
        emit_json(added.to_json())
        return
    from rich.markup import escape

    c = console()
    for n in added.notices:
        c.print(f"[yellow]note:[/] {escape(n)}")
    c.print(escape(added.message), soft_wrap=True)  # soft_wrap: a path broken across lines cannot be copied
    if added.question:
        q = added.question
        c.print(f"\n[bold]Rubric[/] ({escape(added.rubric_line)}):", soft_wrap=True)
        for cr in q["rubric"]:
            c.print(f"  [cyan]{escape(cr['id'])}[/] ({cr['points']:g}): {escape(cr['criterion'])}")
        c.print(f"topics {escape(', '.join(q['topics']))}; level {q['level']}" + (f"; domains {escape(', '.join(q['domains']))}" if q.get("domains") else ""))
        c.print(f"[dim]Reference answer:[/] {escape(q['reference_answer'])}")
        for f in q.get("follow_ups", []):
            c.print(f"  follow-up: {escape(f)}")


@journal_app.command("list")
def journal_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """List your journal entries."""
    rows = ctx.obj.journal.entries()
    if as_json:
        emit_json({"entries": rows})
        return
    for r in rows:
        typer.echo(f"{r['id']:>4}  {r['kind']:<8} {r['title']}")


@journal_app.command("delete")
def journal_delete(ctx: typer.Context, entry_id: int, yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask.")) -> None:
    """Delete one journal entry (a practice question made from it stays in your bank)."""
    j = ctx.obj.journal
    entry = j.entry(entry_id)
    if not yes and not typer.confirm(f"Delete {entry['kind']} entry {entry_id} ({entry['title'][:60]})?"):
        raise typer.Exit(1)
    j.delete_entry(entry_id)
    typer.echo(f"deleted journal entry {entry_id}")


@app.command("export")
def export_cmd(ctx: typer.Context, file: Path = typer.Argument(..., help="JSON file to write.")) -> None:
    """Export the whole journal to JSON (to move machines)."""
    data = ctx.obj.journal.export_data()
    file.write_text(json.dumps(data), encoding="utf-8")
    typer.echo(f"wrote {file} ({sum(len(v) for v in data['tables'].values())} rows)")


@app.command("import")
def import_cmd(ctx: typer.Context, file: Path = typer.Argument(..., help="JSON file written by `interviewer export`.")) -> None:
    """Import a journal export; nothing already here is overwritten (a backup is taken first)."""
    text = read_text_arg(str(file), "import")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{file} is not valid JSON ({exc.msg} at line {exc.lineno})", "use a file written by `interviewer export`")
    counts = ctx.obj.journal.import_data(data)
    typer.echo("imported " + ", ".join(f"{v} {k}" for k, v in counts.items() if v))


# --------------------------------------------------------------------------------------------
# eval


@eval_app.command("run")
def eval_run(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="Suite files (YAML) or folders of them."),
    grader: str = typer.Option("offline", "--grader", help="offline | llm"),
    repeat: int = typer.Option(1, "--repeat", help="Grade each case N times (consistency)."),
    concurrency: int = typer.Option(4, "--concurrency", help="Parallel LLM calls."),
    as_json: bool = typer.Option(False, "--json"),
    report: Optional[Path] = typer.Option(None, "--report", help="Write a report (.md or .html)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Save results JSON here (for `eval compare`)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Ignore cached grades."),
) -> None:
    """Run eval suites (grading, role, retrieval); exits non-zero when a gate fails."""
    from interviewer.evaluation import render_results, run_suites, write_report

    if grader not in ("offline", "llm"):
        raise UserError(f"unknown grader {grader!r}", "use --grader offline or --grader llm")
    if repeat < 1 or concurrency < 1:
        raise UserError("--repeat and --concurrency must be at least 1", "for example --repeat 3 --concurrency 8")
    results = run_suites(ctx.obj, files, grader=grader, repeat=repeat, concurrency=concurrency, use_cache=not no_cache)
    if output:
        output.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    if report:
        write_report(results, report)
    if as_json:
        emit_json(results)
    else:
        render_results(results, console())
    if any(not s.get("gates_passed", True) for s in results["suites"]):
        raise typer.Exit(2)


@eval_app.command("compare")
def eval_compare(ctx: typer.Context, a: Path, b: Path, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show metric deltas between two saved eval results (B minus A)."""
    from interviewer.evaluation import compare_results, render_compare

    def load(p: Path) -> dict:
        try:
            return json.loads(read_text_arg(str(p), "results"))
        except json.JSONDecodeError:
            raise UserError(f"{p} is not an eval results JSON file", "write one with `interviewer eval run ... -o FILE`")

    diff = compare_results(load(a), load(b))
    if as_json:
        emit_json(diff)
    else:
        render_compare(diff, console())


# --------------------------------------------------------------------------------------------
# commands that live in their own modules (each registers itself)


def _register_plugins() -> None:
    from interviewer.commands import register_all

    register_all(app)


_register_plugins()


def main() -> None:
    try:
        rv = app(standalone_mode=False)
        if isinstance(rv, int) and rv:
            sys.exit(rv)  # typer returns (not raises) the code of typer.Exit in this mode
    except UserError as exc:
        if _state["verbose"]:
            import traceback

            traceback.print_exc()
        typer.echo(exc.line(), err=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, details behind -v
        # typer vendors its own copy of click's exceptions: match them by shape, not by class.
        names = {c.__name__ for c in type(exc).__mro__}
        if "UsageError" in names and hasattr(exc, "format_message"):
            ctx = getattr(exc, "ctx", None)
            where = ctx.command_path.split(" ", 1)[-1] if ctx is not None and " " in ctx.command_path else ""
            typer.echo(f"error: {exc.format_message()} (see `interviewer {where + ' ' if where else ''}--help`)", err=True)
            sys.exit(2)
        if "ClickException" in names and hasattr(exc, "format_message"):
            typer.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(getattr(exc, "exit_code", 1))
        if _state["verbose"]:
            import traceback

            traceback.print_exc()
        typer.echo(f"error: unexpected {type(exc).__name__}: {exc} (run with -v for details)", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
