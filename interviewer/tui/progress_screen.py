"""The progress screen: `interviewer progress` in the TUI, from the same data (Journal.progress()).

Score trend per day and round as a plotext chart (plotext 6: the figure API, rendered to ANSI
text and shown in a Static), means per round, topic and domain, time per question, the weakest
topics and what is due for review. The queries run in a thread worker so a long journal never
freezes the screen.
"""

from __future__ import annotations

from datetime import datetime

from rich.console import Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from interviewer.progress_view import trend_chart
from interviewer.tui.common import one_line

_SPARK = "▁▂▃▄▅▆▇█"

EMPTY_TEXT = (
    "No graded answers yet.\n\n"
    "Practise a round (escape, then pick one on the home screen) and your scores per topic, round and "
    "domain, the time you take per question, and the questions due for review show up here."
)


def spark(values: list[float], lo: float = 0.0, hi: float = 10.0) -> str:
    """Scores as a one-line sparkline on a fixed 0-10 scale, so two topics compare at a glance."""
    out = []
    for v in values:
        i = int((min(max(v, lo), hi) - lo) / (hi - lo) * (len(_SPARK) - 1) + 0.5)
        out.append(_SPARK[i])
    return "".join(out)


def _mean(v) -> str:
    return f"{v:.1f}" if v is not None else "-"


def _secs(v) -> str:
    return f"{v:.0f}" if v is not None else "-"


def progress_renderables(data: dict, due: list[dict], upcoming: list[dict]) -> dict:
    """The tables of the screen, as rich renderables keyed by the widget that shows them."""
    out = {}
    out["headline"] = Text.assemble(
        (f"{data['answers']}", "bold"),
        " graded answers · mean score ",
        (f"{data['mean_score']:.1f}", "bold"),
        "/10 · ",
        (f"{data['mean_seconds'] or 0:.0f} s", "bold"),
        " per question · ",
        (f"{data['due']}", "bold"),
        " due for review",
    )
    t = Table("round", "answers", "mean", "s/question", title="By round", title_justify="left", expand=True)
    for r in data["by_round"]:
        t.add_row(r["round"], str(r["answers"]), _mean(r["mean_score"]), _secs(r["mean_seconds"]))
    out["by-round"] = t
    if data["by_domain"]:
        t = Table("domain", "answers", "mean", title="By domain", title_justify="left", expand=True)
        for r in data["by_domain"]:
            t.add_row(r["domain"], str(r["answers"]), _mean(r["mean_score"]))
        out["by-domain"] = t
    else:
        out["by-domain"] = Text("By domain\n\nNo domain-specific questions answered yet.", style="dim")
    per_topic: dict[str, list[float]] = {}
    for r in data.get("topic_trend", []):  # ordered by day
        per_topic.setdefault(r["topic"], []).append(r["mean_score"])
    t = Table("topic", "answers", "mean", "", "trend by day", "s/question", title="By topic (weakest first)", title_justify="left", expand=True)
    for r in data["by_topic"][:15]:
        bar = "█" * int(round(r["mean_score"] or 0))
        t.add_row(r["topic"], str(r["answers"]), _mean(r["mean_score"]), bar, spark(per_topic.get(r["topic"], [])), _secs(r.get("mean_seconds")))
    out["by-topic"] = t
    weakest = ", ".join(data["weakest_topics"]) or "-"
    lines = [Text.assemble(("Weakest topics: ", "bold"), weakest)]
    if due:
        lines.append(Text.assemble(("Due for review now: ", "bold"), ", ".join(f"{d['question_id']} ({d['last_score']:.1f})" if d.get("last_score") is not None else d["question_id"] for d in due[:8]) + (f" and {len(due) - 8} more" if len(due) > 8 else "")))
        lines.append(Text("Drill them from the home screen: “Drill the questions due for review”.", style="dim"))
    else:
        lines.append(Text.assemble(("Due for review now: ", "bold"), "nothing"))
    later = [u for u in upcoming if u["question_id"] not in {d["question_id"] for d in due}][:5]
    if later:
        lines.append(Text.assemble(("Coming back later: ", "bold"), ", ".join(f"{u['question_id']} on {datetime.fromtimestamp(u['due']).strftime('%Y-%m-%d')}" for u in later)))
    out["due"] = Group(*lines)
    return out


class ProgressScreen(Screen):
    BINDINGS = [
        Binding("r", "reload", "Refresh", id="progress_refresh", tooltip="Read the journal again"),
        Binding("escape", "app.pop_screen", "Back", id="back", tooltip="Back"),
    ]
    HELP = {
        "progress-scroll": "Scores from your journal: the trend per day and round, means per round, domain and topic (weakest first, with a sparkline per day), time per question, and what is due for review. r refreshes.",
        "*": "r refreshes; escape goes back. `interviewer progress --plot FILE.png` saves a picture.",
    }

    def __init__(self, **kw):
        super().__init__(**kw)
        self.data: dict | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="progress-scroll"):
            yield Static("Reading your journal…", id="progress-headline")
            yield Static(EMPTY_TEXT, id="progress-empty")
            yield Static("", id="trend-chart")
            with Horizontal(id="progress-tables"):
                yield Static("", id="by-round")
                yield Static("", id="by-domain")
            yield Static("", id="by-topic")
            yield Static("", id="due")
        yield Static("", id="notice")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "progress"
        for wid in ("progress-empty", "trend-chart", "progress-tables", "by-topic", "due"):
            self.query_one(f"#{wid}").display = False
        self.query_one("#progress-scroll").focus()
        self.action_reload()

    def action_reload(self) -> None:
        self._load(self._chart_width())

    def _chart_width(self) -> int:
        return max(30, min(self.size.width or self.app.size.width, 120) - 4)

    @work(thread=True, exclusive=True, group="progress")
    def _load(self, width: int) -> None:
        j = self.app.journal
        try:
            data = j.progress()
            due = j.due_questions()
            upcoming = j.upcoming(20)
            parts = progress_renderables(data, due, upcoming) if data["answers"] else {}
            chart = trend_chart(data["trend"], width) if data["answers"] else None
        except Exception as exc:  # a broken journal is one line, not a crash
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._show, data, parts, chart)

    def on_resize(self, event) -> None:
        # The chart is text of a fixed width: draw it again for the new one (a few ms).
        if self.data and self.data["answers"]:
            chart = trend_chart(self.data["trend"], self._chart_width())
            if chart is not None:
                self.query_one("#trend-chart", Static).update(chart)

    def _failed(self, exc: Exception) -> None:
        self.query_one("#progress-headline", Static).update(escape(one_line(exc)))

    def _show(self, data: dict, parts: dict, chart: Text | None) -> None:
        self.data = data
        has = bool(data["answers"])
        self.query_one("#progress-headline").display = has
        self.query_one("#progress-empty").display = not has
        for wid in ("trend-chart", "progress-tables", "by-topic", "due"):
            self.query_one(f"#{wid}").display = has
        if not has:
            return
        for wid in ("headline", "by-round", "by-domain", "by-topic", "due"):
            target = "progress-headline" if wid == "headline" else wid
            self.query_one(f"#{target}", Static).update(parts[wid])
        self.query_one("#trend-chart", Static).update(
            chart if chart is not None else Text("The score trend appears once you have practised on two different days.", style="dim")
        )
