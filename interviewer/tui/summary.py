"""The end of a session: scores per criterion, topic and round, reference answers, what to study.

The overview is the score, the means per round and topic (rich tables in a Static) and what to
study; each question's detail sits in a collapsed section whose Markdown is only built when it is
opened. Laying out one Markdown table per question at once held the event loop for a quarter of
a second on a long session (benchmarks/bench_tui_responsiveness.py).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Collapsible, Footer, Header, Markdown, Static

from interviewer.export_md import criteria_table


def header_markdown(summary: dict) -> str:
    lines = [f"# Session summary ({summary['mode']} mode)"]
    if summary.get("mean_score") is not None:
        lines.append(f"**Mean score:** {summary['mean_score']:.1f} / 10")
    return "\n".join(lines)


def study_markdown(summary: dict) -> str:
    lines = []
    if summary.get("study_next"):
        lines.append("\n## What to study next")
        for item in summary["study_next"]:
            # Paths relative to the data root: the same on every machine (and in snapshots).
            notes = ", ".join(f"{n['title']} (corpus/notes/{n['id']}.md)" for n in item["notes"]) or "no bundled note"
            lines.append(f"- **{item['topic']}** ({item['score']:.1f}/10): {notes}")
    return "\n".join(lines)


def score_tables(summary: dict):
    """Mean score per round and per topic (weakest first), side by side, as rich tables: a
    Static draws them in a fraction of what a Markdown widget's table layout costs."""
    from rich.table import Table
    from rich.columns import Columns

    tables = []
    if summary.get("by_round"):
        t = Table("round", "mean score", title="By round", title_justify="left")
        for r, v in summary["by_round"].items():
            t.add_row(r, f"{v:.1f}")
        tables.append(t)
    if summary.get("by_topic"):
        t = Table("topic", "mean score", title="By topic (weakest first)", title_justify="left")
        for name, v in sorted(summary["by_topic"].items(), key=lambda x: x[1]):
            t.add_row(name, f"{v:.1f}")
        tables.append(t)
    return Columns(tables, padding=(0, 4))


def question_title(i: int, q: dict) -> str:
    return f"{i}. {q['question_id']} — {q['score']:.1f}/10" + (" (timed out)" if q["timed_out"] else "")


def question_markdown(q: dict) -> str:
    lines = [f"**Question.** {q['prompt']}\n"]
    lines += criteria_table(q["criteria"])
    for n in q.get("notices", []):
        lines.append(f"\n> {n}")
    ref = q["reference_answer"]
    if q.get("round") == "coding":
        # Code as Markdown prose turns `#` comments into headings; fence it as Python.
        lines.append(f"\n**Reference answer.**\n\n```python\n{ref.rstrip()}\n```")
    else:
        lines.append(f"\n**Reference answer.** {ref}")
    return "\n".join(lines)


class QuestionDetail(Collapsible):
    """One question's grades and reference answer, built the first time it is opened."""

    def __init__(self, index: int, question: dict) -> None:
        super().__init__(title=question_title(index, question), collapsed=True, id=f"question-{index}")
        self.question = question
        self.built = False

    @on(Collapsible.Expanded)
    def build(self) -> None:
        if not self.built:
            self.built = True
            self.query_one(Collapsible.Contents).mount(Markdown(question_markdown(self.question), classes="question-detail"))


class SummaryScreen(Screen):
    BINDINGS = [
        Binding("h", "home", "Home", id="home", tooltip="Back to the home screen"),
        Binding("x", "expand_all", "Open all", id="expand_all", tooltip="Open every question's grades and reference answer"),
        Binding("q", "app.quit", "Quit", id="quit_summary", tooltip="Leave mock-interviewer", show=False),
    ]
    HELP = {
        "summary-scroll": "Your scores per round and topic; each question opens (enter, or x for all) to its grades per criterion and the reference answer. h goes home; the session is already saved.",
        "*": "h goes home; `interviewer history export ID` writes this session as Markdown.",
    }

    def __init__(self, summary: dict, session_id: int, **kw):
        super().__init__(**kw)
        self.summary = summary
        self.session_id = session_id

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="summary-scroll"):
            yield Markdown(header_markdown(self.summary), id="summary")
            yield Static(score_tables(self.summary), id="score-tables")
            yield Markdown(study_markdown(self.summary), id="study-next")
            yield Static("Questions (enter opens one, x opens all)", id="questions-heading")
            for i, q in enumerate(self.summary["questions"], 1):
                yield QuestionDetail(i, q)
        yield Static(f"Session {self.session_id} saved. `interviewer history export {self.session_id}` writes it as Markdown.", id="notice", markup=False)
        yield Footer()

    def action_expand_all(self) -> None:
        for detail in self.query(QuestionDetail):
            detail.collapsed = False

    def action_home(self) -> None:
        self.app.go_home()
