"""The end of a session: scores per criterion, topic and round, reference answers, what to study."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown, Static

from interviewer.export_md import criteria_table


def summary_markdown(summary: dict) -> str:
    lines = [f"# Session summary ({summary['mode']} mode)"]
    if summary.get("mean_score") is not None:
        lines.append(f"**Mean score:** {summary['mean_score']:.1f} / 10")
    if summary.get("by_round"):
        lines.append("")
        lines.append("| round | mean score |\n|---|---|")
        lines += [f"| {r} | {s:.1f} |" for r, s in summary["by_round"].items()]
    if summary.get("by_topic"):
        lines.append("")
        lines.append("| topic | mean score |\n|---|---|")
        lines += [f"| {t} | {s:.1f} |" for t, s in sorted(summary["by_topic"].items(), key=lambda x: x[1])]
    if summary.get("study_next"):
        lines.append("\n## What to study next")
        for item in summary["study_next"]:
            # Paths relative to the data root: the same on every machine (and in snapshots).
            notes = ", ".join(f"{n['title']} (corpus/notes/{n['id']}.md)" for n in item["notes"]) or "no bundled note"
            lines.append(f"- **{item['topic']}** ({item['score']:.1f}/10): {notes}")
    for i, q in enumerate(summary["questions"], 1):
        lines.append(f"\n## {i}. {q['question_id']} — {q['score']:.1f}/10" + (" (timed out)" if q["timed_out"] else ""))
        lines.append(f"**Question.** {q['prompt']}\n")
        lines += criteria_table(q["criteria"])
        for n in q.get("notices", []):
            lines.append(f"\n> {n}")
        lines.append(f"\n**Reference answer.** {q['reference_answer']}")
    return "\n".join(lines)


class SummaryScreen(Screen):
    BINDINGS = [
        Binding("h", "home", "Home", id="home", tooltip="Back to the home screen"),
        Binding("q", "app.quit", "Quit", id="quit_summary", tooltip="Leave mock-interviewer"),
    ]
    HELP = {
        "summary-scroll": "Your scores per round, topic and criterion, with the reference answers. h goes home; the session is already saved.",
        "*": "h goes home; `interviewer history export ID` writes this session as Markdown.",
    }

    def __init__(self, summary: dict, session_id: int, **kw):
        super().__init__(**kw)
        self.summary = summary
        self.session_id = session_id

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="summary-scroll"):
            yield Markdown(summary_markdown(self.summary), id="summary")
        yield Static(f"Session {self.session_id} saved. `interviewer history export {self.session_id}` writes it as Markdown.", id="notice", markup=False)
        yield Footer()

    def action_home(self) -> None:
        self.app.go_home()
