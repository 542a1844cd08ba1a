"""The history browser: past sessions in a table; open one, export it, delete it, or resume it.

The detail view is the same Markdown as `interviewer history show ID` (export_md.session_markdown),
so what the candidate reads here is what they get in the exported file.
"""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Markdown, Static

from interviewer.tui.common import ConfirmScreen, display_path, one_line, plural, when


def export_session(journal, session_id: int) -> Path:
    """Write a session as Markdown under INTERVIEWER_HOME/exports; returns the file."""
    from interviewer.export_md import session_markdown
    from interviewer.settings import home_dir

    md = session_markdown(journal.session(session_id))
    folder = home_dir() / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"session-{session_id}.md"
    path.write_text(md + "\n", encoding="utf-8")
    return path


class _SessionActions:
    """Export, delete and resume, shared by the list and the detail view."""

    def selected_session(self) -> dict | None:  # pragma: no cover - each screen defines it
        raise NotImplementedError

    def action_export(self) -> None:
        s = self.selected_session()
        if s is None:
            return
        try:
            path = export_session(self.app.journal, s["id"])
        except Exception as exc:
            self.app.notify(one_line(exc), severity="error")
            return
        self.app.notify(f"Wrote session {s['id']} to {display_path(path)}", title="Exported", markup=False)

    def action_delete(self) -> None:
        s = self.selected_session()
        if s is None:
            return

        def done(yes: bool | None) -> None:
            if not yes:
                return
            try:
                self.app.journal.delete_session(s["id"])
            except Exception as exc:
                self.app.notify(one_line(exc), severity="error")
                return
            self.app.notify(f"Deleted session {s['id']}.")
            self.after_delete(s["id"])

        n = s.get("n_answers", len(s.get("answers", [])))
        self.app.push_screen(ConfirmScreen(f"Delete session {s['id']} ({', '.join(s['rounds'])}, {plural(n, 'answer')})? This cannot be undone."), done)

    def action_resume(self) -> None:
        s = self.selected_session()
        if s is None or s.get("status") != "active":
            self.app.notify("Only an unfinished session can be resumed.", severity="information")
            return
        self.app.resume_session(s["id"])

    def after_delete(self, session_id: int) -> None:  # pragma: no cover - each screen defines it
        raise NotImplementedError


SESSION_BINDINGS = [
    Binding("e", "export", "Export", id="history_export", tooltip="Write this session as Markdown under INTERVIEWER_HOME/exports"),
    Binding("d", "delete", "Delete", id="history_delete", tooltip="Delete this session and its answers (asks first)"),
    Binding("r", "resume", "Resume", id="history_resume", tooltip="Continue an unfinished session where it stopped"),
    Binding("escape", "app.pop_screen", "Back", id="back", tooltip="Back"),
]


class HistoryScreen(_SessionActions, Screen):
    AUTO_FOCUS = ""  # reload() focuses the table when it has rows; a hidden one must not take the focus
    BINDINGS = [Binding("enter", "open", "Open", id="history_open", tooltip="Show the session's answers and grades", show=True), *SESSION_BINDINGS]
    HELP = {
        "sessions": "Your past sessions, newest first. enter opens one; e exports it as Markdown; d deletes it; r resumes an unfinished one.",
        "*": "escape goes back.",
    }

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Past sessions", id="history-title")
        yield DataTable(id="sessions", cursor_type="row", zebra_stripes=True)
        yield Static("No sessions yet: start a round from the home screen.", id="history-empty")
        yield Static("", id="notice")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "history"
        table = self.query_one("#sessions", DataTable)
        table.add_columns("id", "started", "mode", "rounds", "status", "answers", "mean")
        self.reload()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.reload()

    def reload(self) -> None:
        table = self.query_one("#sessions", DataTable)
        row = table.cursor_row
        table.clear()
        try:
            self.rows = {r["id"]: r for r in self.app.journal.sessions(200)}
        except Exception as exc:
            self.rows = {}
            self.query_one("#notice", Static).update(escape(one_line(exc)))
        for r in self.rows.values():
            mean = f"{r['mean_score']:.1f}" if r.get("mean_score") is not None else "-"
            table.add_row(str(r["id"]), when(r["started_at"]), r["mode"], Text(", ".join(r["rounds"])), r["status"], str(r["n_answers"]), mean, key=str(r["id"]))
        table.display = bool(self.rows)
        self.query_one("#history-empty").display = not self.rows
        if self.rows:
            self.query_one("#notice", Static).update("enter opens a session · e exports it as Markdown · d deletes it · r resumes an unfinished one")
        if self.rows:
            table.move_cursor(row=min(row, len(self.rows) - 1))
            table.focus()
        self.refresh_bindings()

    def selected_session(self) -> dict | None:
        table = self.query_one("#sessions", DataTable)
        if not self.rows or table.cursor_row < 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.rows.get(int(key))

    def check_action(self, action: str, parameters) -> bool | None:
        if action in ("open", "export", "delete", "resume"):
            s = self.selected_session() if getattr(self, "rows", None) else None
            if s is None:
                return False
            if action == "resume" and s.get("status") != "active":
                return False
        return True

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()  # resume shows only for an unfinished session

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        s = self.selected_session()
        if s is not None:
            self.app.push_screen(SessionScreen(s["id"]))

    def after_delete(self, session_id: int) -> None:
        self.reload()


class SessionScreen(_SessionActions, Screen):
    """One session in full: every answer with its grade and the reference answers."""

    BINDINGS = SESSION_BINDINGS
    HELP = {
        "session-scroll": "The session as `interviewer history show` prints it. e exports it, d deletes it, r resumes it if unfinished, escape goes back.",
        "*": "escape goes back to the list.",
    }

    def __init__(self, session_id: int, **kw):
        super().__init__(**kw)
        self.session_id = session_id
        self.session: dict | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="session-scroll"):
            yield Markdown("", id="session-detail")
        yield Static("", id="notice")
        yield Footer()

    def on_mount(self) -> None:
        from interviewer.export_md import session_markdown

        self.sub_title = f"session {self.session_id}"
        try:
            self.session = self.app.journal.session(self.session_id)
            text = session_markdown(self.session)
        except Exception as exc:
            self.session = None
            text = f"Could not open session {self.session_id}: {one_line(exc)}"
        self.query_one("#session-detail", Markdown).update(text)
        self.query_one("#session-scroll").focus()
        self.refresh_bindings()

    def selected_session(self) -> dict | None:
        return self.session

    def check_action(self, action: str, parameters) -> bool | None:
        if action in ("export", "delete", "resume"):
            if self.session is None:
                return False
            if action == "resume" and self.session.get("status") != "active":
                return False
        return True

    def after_delete(self, session_id: int) -> None:
        self.app.pop_screen()
