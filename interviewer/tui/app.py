"""The Textual app: home, the round, the summary, history. One face of the engine."""

from __future__ import annotations

import time

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from interviewer.export_md import criteria_table

STARTED = time.monotonic()


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

    def __init__(self, summary: dict, session_id: int, **kw):
        super().__init__(**kw)
        self.summary = summary
        self.session_id = session_id

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="summary-scroll"):
            yield Markdown(summary_markdown(self.summary), id="summary")
        yield Static(f"Session {self.session_id} saved. `interviewer history export {self.session_id}` writes it as Markdown.", id="notice")
        yield Footer()

    def action_home(self) -> None:
        self.app.switch_screen(HomeScreen())


HOME_ACTIONS = [
    ("breadth", "Start a breadth round (rapid-fire fundamentals)"),
    ("depth", "Start a depth round (case study with follow-ups)"),
    ("system_design", "Start a system design round (35-45 minutes)"),
    ("coding", "Start a coding round (implement a model or metric)"),
    ("due", "Drill the questions due for review"),
    ("history", "Browse past sessions"),
    ("theme", "Change the theme"),
]


class HomeScreen(Screen):
    BINDINGS = [Binding("q", "app.quit", "Quit", id="quit_home", tooltip="Leave mock-interviewer")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("What would you like to practise?", id="home-title")
        yield OptionList(*[Option(label, id=key) for key, label in HOME_ACTIONS], id="home-menu")
        yield Static(self.app.mode_line, id="notice")
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        key = event.option.id
        if key == "theme":
            self.app.action_change_theme()
        elif key == "history":
            self.app.push_screen(HistoryScreen())
        else:
            self.app.start_round(key)


class HistoryScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="back", tooltip="Back")]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Markdown(self._history(), id="history")
        yield Footer()

    def _history(self) -> str:
        rows = self.app.journal.sessions(50)
        if not rows:
            return "No sessions yet."
        lines = ["| id | started | mode | rounds | answers | mean |", "|---|---|---|---|---|---|"]
        for r in rows:
            started = time.strftime("%Y-%m-%d %H:%M", time.localtime(r["started_at"]))
            mean = f"{r['mean_score']:.1f}" if r.get("mean_score") is not None else "-"
            lines.append(f"| {r['id']} | {started} | {r['mode']} | {', '.join(r['rounds'])} | {r['n_answers']} | {mean} |")
        return "\n".join(lines)


class InterviewerCommands(Provider):
    """Command palette entries, named "area: verb"."""

    async def search(self, query: str) -> Hits:
        app = self.app
        commands = [
            ("session: submit answer", lambda: app.screen.action_submit() if hasattr(app.screen, "action_submit") else None),
            ("session: pause or resume", lambda: app.screen.action_pause() if hasattr(app.screen, "action_pause") else None),
            ("session: hint", lambda: app.screen.action_hint() if hasattr(app.screen, "action_hint") else None),
            ("round: start breadth", lambda: app.start_round("breadth")),
            ("round: start depth", lambda: app.start_round("depth")),
            ("round: start system design", lambda: app.start_round("system_design")),
            ("round: start coding", lambda: app.start_round("coding")),
            ("history: browse", lambda: app.push_screen(HistoryScreen())),
            ("settings: change theme", app.action_change_theme),
        ]
        matcher = self.matcher(query)
        for name, cb in commands:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), cb, help=name)


class InterviewerApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "mock-interviewer"
    COMMANDS = App.COMMANDS | {InterviewerCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="quit", tooltip="Quit (your draft is saved)", priority=True),
        Binding("f1", "help", "Help", id="help", tooltip="Help for the focused widget"),
    ]

    def __init__(self, services, engine=None, start_home: bool = False):
        super().__init__()
        self.services = services
        self.journal = services.journal
        self.engine = engine
        self.start_home = start_home
        self.mode_line = services.mode_line
        self.first_frame: float | None = None

    def on_mount(self) -> None:
        cfg = self.services.config
        try:
            self.theme = cfg.ui.theme
        except Exception:
            pass
        if cfg.ui.keymap:
            self.set_keymap(cfg.ui.keymap)
        if self.engine is not None and not self.start_home:
            from interviewer.tui.practice import PracticeScreen

            self.push_screen(PracticeScreen(self.engine))
        else:
            self.push_screen(HomeScreen())
        self.notify(self.mode_line, timeout=4)
        self.call_after_refresh(self._first_paint)

    def _first_paint(self) -> None:
        self.first_frame = time.monotonic() - STARTED
        self.log(f"first frame after {self.first_frame:.3f}s")
        self.warm_models()

    @work(thread=True, exclusive=True, group="models")
    def warm_models(self) -> None:
        """Load the embedding model after the first frame; grading then takes milliseconds."""
        try:
            self.services.grading.offline.warm()
        except Exception as exc:  # offline grading will report it; the UI stays up
            self.call_from_thread(self.notify, f"Could not load the embedding model: {exc}", severity="error")

    def watch_theme(self, theme: str) -> None:
        if self.is_mounted and self.first_frame is not None:
            from interviewer.settings import save_ui_setting

            save_ui_setting("theme", theme)

    def start_round(self, round: str) -> None:
        from interviewer.tui.practice import PracticeScreen

        try:
            engine = self.services.new_engine(round=round)
        except Exception as exc:
            self.notify(str(exc), severity="error")
            return
        self.engine = engine
        self.switch_screen(PracticeScreen(engine))

    def show_summary(self, engine) -> None:
        self.switch_screen(SummaryScreen(engine.summary(), engine.session_id))

    def action_help(self) -> None:
        focused = self.focused
        tips = {
            "TextArea": "Answer editor: type freely, ctrl+s submits, ctrl+e opens $EDITOR, f2 hint, f3 pause. Drafts are saved as you type.",
            "OptionList": "Choose with the arrow keys and press enter.",
        }
        name = type(focused).__name__ if focused else ""
        self.notify(tips.get(name, "ctrl+p opens the command palette; ctrl+q quits and keeps your draft."), title="Help", timeout=8)
