"""Small pieces every screen shares: a yes/no dialog, dates and paths as shown on screen, F1 help.

Nothing here knows about the engine; screens import it to stay short.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


def when(ts: float | None) -> str:
    """A journal timestamp in the candidate's local time, to the minute."""
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def display_path(path: Path | str) -> str:
    """A path with the user's home folder shortened to ~, as people type it."""
    p = Path(path)
    try:
        home = Path.home()
    except RuntimeError:  # no HOME and no passwd entry: show the path as it is
        return str(p)
    try:
        return "~" + os.sep + str(p.relative_to(home)) if p != home else "~"
    except ValueError:
        return str(p)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def one_line(exc: BaseException) -> str:
    """A failure as the one line the user sees: UserError's own line, or the exception's text."""
    from interviewer.errors import UserError

    if isinstance(exc, UserError):
        return exc.line()
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"error: {text}"


def help_for(screen, widget) -> str | None:
    """The F1 text for the focused widget: the screen's HELP by widget id, then by class name."""
    table: dict[str, str] = getattr(screen, "HELP", {}) or {}
    if widget is not None:
        if widget.id and widget.id in table:
            return table[widget.id]
        for cls in type(widget).__mro__:
            if cls.__name__ in table:
                return table[cls.__name__]
    return table.get("*")


class ConfirmScreen(ModalScreen[bool]):
    """Ask before anything that cannot be undone; the answer goes to the push_screen callback."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm_yes", tooltip="Yes, go ahead"),
        Binding("n,escape", "answer(False)", "No", id="confirm_no", tooltip="No, keep it"),
    ]
    HELP = {"*": "y confirms, n or escape cancels. Nothing happens until you choose."}

    def __init__(self, question: str, yes: str = "Delete", **kw):
        super().__init__(**kw)
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(escape(self.question), id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button(self.yes, variant="error", id="confirm-yes")
                yield Button("Keep it", variant="primary", id="confirm-no")
        yield Footer()

    def on_mount(self) -> None:
        # The safe choice has the focus, so a stray enter keeps the data.
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
