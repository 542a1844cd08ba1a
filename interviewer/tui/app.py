"""The Textual app: one face of the engine. Screens live in their own modules:

home.py (where to go), practice.py (the round), summary.py (the end of a session), history.py
(past sessions), posting.py (a posting -> a role profile -> a full loop), journal_screen.py (the
candidate's own entries), progress_screen.py (trends and due reviews), settings_screen.py.
The app holds the services and moves between screens; the screens hold no business logic.
"""

from __future__ import annotations

import time

from textual import work
from textual.app import App
from textual.binding import Binding

from interviewer.tui.commands import InterviewerCommands
from interviewer.tui.common import help_for, one_line
from interviewer.tui.history import HistoryScreen
from interviewer.tui.home import HOME_ACTIONS, HomeScreen
from interviewer.tui.summary import SummaryScreen

STARTED = time.monotonic()

__all__ = ["InterviewerApp", "HomeScreen", "HOME_ACTIONS", "HistoryScreen", "SummaryScreen", "InterviewerCommands", "STARTED"]

# F1 text by widget class, for screens that define no HELP of their own (the round screen).
WIDGET_TIPS = {
    "TextArea": "Answer editor: type freely, ctrl+s submits, ctrl+e opens $EDITOR, f2 hint, f3 pause. Drafts are saved as you type.",
    "OptionList": "Choose with the arrow keys and press enter.",
    "DataTable": "Move with the arrow keys; enter opens the row.",
    "Input": "Type, then enter.",
}


def _screen_class(name: str):
    if name == "posting":
        from interviewer.tui.posting import PostingScreen

        return PostingScreen
    if name == "journal":
        from interviewer.tui.journal_screen import JournalScreen

        return JournalScreen
    if name == "progress":
        from interviewer.tui.progress_screen import ProgressScreen

        return ProgressScreen
    if name == "settings":
        from interviewer.tui.settings_screen import SettingsScreen

        return SettingsScreen
    if name == "history":
        return HistoryScreen
    raise KeyError(name)


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
        self.notify(self.mode_line, timeout=4, markup=False)
        self.call_after_refresh(self._first_paint)

    def _first_paint(self) -> None:
        self.first_frame = time.monotonic() - STARTED
        self.log(f"first frame after {self.first_frame:.3f}s")
        self.warm_models()

    @work(thread=True, exclusive=True, group="models")
    def warm_models(self) -> None:
        """Load the embedding model (and in LLM mode the notes index) after the first frame."""
        try:
            self.services.warm(notice=lambda m: self.call_from_thread(self.notify, m, timeout=8, markup=False))
        except Exception as exc:  # offline grading will report it; the UI stays up
            self.call_from_thread(self.notify, f"Could not load the embedding model: {exc}", severity="error", markup=False)
        # The other screens' modules, so the first visit to each does not pay its imports.
        for name in ("posting", "journal", "progress", "settings"):
            try:
                _screen_class(name)
            except Exception:
                pass  # the visit itself will report a real problem

    def watch_theme(self, theme: str) -> None:
        if self.is_mounted and self.first_frame is not None:
            from interviewer.settings import save_ui_setting

            save_ui_setting("theme", theme)

    # -- moving between screens ----------------------------------------------------------------
    def _to_base(self) -> None:
        """Pop everything above the first screen we pushed (home, or the round we started with)."""
        while len(self.screen_stack) > 2:
            self.pop_screen()

    def go_home(self) -> None:
        self._to_base()
        if not isinstance(self.screen, HomeScreen):
            self.switch_screen(HomeScreen())

    def open_screen(self, name: str) -> None:
        cls = _screen_class(name)
        if isinstance(self.screen, cls):
            return
        # One copy of each screen on the stack: going to history from the journal replaces it.
        if len(self.screen_stack) > 2 and not isinstance(self.screen, HomeScreen):
            self.switch_screen(cls())
        else:
            self.push_screen(cls())

    def analyze_posting(self) -> None:
        from interviewer.tui.posting import PostingScreen

        if isinstance(self.screen, PostingScreen):
            self.screen.action_analyze()
        else:
            self.open_screen("posting")

    def add_journal_entry(self) -> None:
        from interviewer.tui.journal_screen import JournalScreen

        if not isinstance(self.screen, JournalScreen):
            self.open_screen("journal")
        self.call_after_refresh(lambda: isinstance(self.screen, JournalScreen) and self.screen.action_add())

    def _run_engine(self, engine) -> None:
        from interviewer.tui.practice import PracticeScreen

        self.engine = engine
        self._to_base()
        self.switch_screen(PracticeScreen(engine))

    @work(thread=True, exclusive=True, group="engine")
    def _new_engine(self, **kw) -> None:
        """Plan and open a session off the event loop (bank selection and journal writes)."""
        try:
            engine = self.services.new_engine(**kw)
        except Exception as exc:  # "nothing is due", an empty bank, a locked journal: one line
            self.call_from_thread(self.notify, one_line(exc), severity="error", markup=False)
            return
        self.call_from_thread(self._run_engine, engine)

    def start_round(self, round: str) -> None:
        if round == "due":
            self._new_engine(round=None, due=True)
        else:
            self._new_engine(round=round)

    def start_loop(self, profile=None) -> None:
        """A full loop for a role: this profile, or the last posting analyzed on this machine."""
        if profile is None:
            from interviewer.tui.posting import load_profile

            profile = load_profile()
            if profile is None:
                self.open_screen("posting")
                self.notify("A full loop is planned from a job posting: paste one and press ctrl+s.", title="No posting yet")
                return
            self.notify(f"Loop planned for {profile.title or 'your last posting'}.", markup=False)
        self._new_engine(round=None, profile=profile)

    def resume_session(self, session_id: int) -> None:
        from interviewer.rounds.engine import SessionEngine

        svc = self.services
        try:
            engine = SessionEngine.resume(svc.journal, svc.bank, svc.grading, session_id, interviewer=svc.interviewer, usage=svc.llm.usage if svc.llm is not None else None)
            engine.question  # a question gone from the bank is one line here, not a crash mid-screen
        except Exception as exc:
            self.notify(f"Cannot resume session {session_id}: {one_line(exc)}", severity="error", markup=False)
            return
        self._run_engine(engine)

    def show_summary(self, engine) -> None:
        self.switch_screen(SummaryScreen(engine.summary(), engine.session_id))

    # -- help ----------------------------------------------------------------------------------
    def binding_sources(self) -> list[tuple[str, type]]:
        """Every screen's bindings, for the settings screen's key table."""
        from interviewer.tui.common import ConfirmScreen
        from interviewer.tui.history import SessionScreen
        from interviewer.tui.journal_screen import EntryForm, JournalScreen
        from interviewer.tui.posting import PostingScreen
        from interviewer.tui.practice import PracticeScreen
        from interviewer.tui.progress_screen import ProgressScreen
        from interviewer.tui.settings_screen import SettingsScreen

        return [
            ("everywhere", InterviewerApp),
            ("home", HomeScreen),
            ("round", PracticeScreen),
            ("summary", SummaryScreen),
            ("posting", PostingScreen),
            ("history", HistoryScreen),
            ("session", SessionScreen),
            ("journal", JournalScreen),
            ("journal form", EntryForm),
            ("progress", ProgressScreen),
            ("settings", SettingsScreen),
            ("confirm", ConfirmScreen),
        ]

    def action_help(self) -> None:
        focused = self.focused
        text = help_for(self.screen, focused)
        if text is None:
            name = type(focused).__name__ if focused else ""
            text = WIDGET_TIPS.get(name, "ctrl+p opens the command palette; ctrl+q quits and keeps your draft.")
        self.notify(text, title="Help", timeout=8, markup=False)
