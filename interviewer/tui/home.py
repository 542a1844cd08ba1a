"""The home screen: every place the app can take the candidate, one keypress away."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

HOME_ACTIONS = [
    ("breadth", "Start a breadth round (rapid-fire fundamentals)"),
    ("depth", "Start a depth round (case study with follow-ups)"),
    ("system_design", "Start a system design round (35-45 minutes)"),
    ("coding", "Start a coding round (implement a model or metric)"),
    ("loop", "Start a full loop (rounds planned from your last analyzed posting)"),
    ("posting", "Analyze a job posting and plan the session"),
    ("due", "Drill the questions due for review"),
    ("journal", "Journal: questions you were asked, papers, key points"),
    ("progress", "Progress: score trends, weakest topics, due reviews"),
    ("history", "Browse past sessions"),
    ("settings", "Settings: mode, config file, theme, key bindings"),
]


class HomeScreen(Screen):
    BINDINGS = [Binding("q", "app.quit", "Quit", id="quit_home", tooltip="Leave mock-interviewer", show=False)]
    HELP = {
        "home-menu": "Pick with the arrow keys and enter. A full loop needs a posting analyzed first; ctrl+p finds any action by name.",
        "*": "ctrl+p opens the command palette; q quits.",
    }

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("What would you like to practise?", id="home-title")
        yield OptionList(*self._options(), id="home-menu")
        yield Static(escape(self.app.mode_line), id="notice")
        yield Footer()

    def _options(self) -> list[Option]:
        options = []
        try:
            unfinished = self.app.journal.unfinished_sessions()
        except Exception:  # a journal problem is reported where the journal is used, not here
            unfinished = []
        if unfinished:
            s = unfinished[0]
            options.append(Option(f"Resume session {s['id']} ({', '.join(s['rounds'])}, interrupted)", id=f"resume:{s['id']}"))
        options += [Option(label, id=key) for key, label in HOME_ACTIONS]
        return options

    def on_screen_resume(self) -> None:
        # A session may have finished or been deleted while another screen was on top.
        menu = self.query_one("#home-menu", OptionList)
        highlighted = menu.highlighted
        menu.clear_options()
        menu.add_options(self._options())
        menu.highlighted = highlighted if highlighted is not None and highlighted < menu.option_count else 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        key = event.option.id or ""
        app = self.app
        if key.startswith("resume:"):
            app.resume_session(int(key.split(":", 1)[1]))
        elif key == "loop":
            app.start_loop()
        elif key in ("posting", "journal", "progress", "history", "settings"):
            app.open_screen(key)
        else:
            app.start_round(key)
