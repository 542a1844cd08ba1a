"""The journal screen: the candidate's own entries (questions from real interviews, papers, posts,
key points), a form to add one, and delete with confirmation.

Adding goes through `journal_entries.add_entry`, exactly as `interviewer journal add` does: a
question becomes a practice question under INTERVIEWER_HOME, a paper or post with a source file is
ingested for retrieval. That can take seconds, so it runs in a thread worker, and the form stays
open with everything typed in it until the entry is saved.
"""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static, TextArea

from interviewer.tui.common import ConfirmScreen, one_line, when

KIND_CHOICES = [
    ("A question you were asked", "question"),
    ("A paper you studied", "paper"),
    ("A blog post you studied", "post"),
    ("A key point to remember", "point"),
]
TITLE_LABELS = {
    "question": "The question, as you were asked it",
    "paper": "The paper's title",
    "post": "The post's title",
    "point": "The key point",
}
BODY_LABELS = {
    "question": "Your own answer (it becomes the reference answer)",
    "paper": "Your notes",
    "post": "Your notes",
    "point": "Details (optional)",
}
ROUND_CHOICES = [("breadth", "breadth"), ("depth", "depth"), ("system design", "system_design"), ("coding", "coding")]


def add_to_live_bank(bank, journal) -> None:
    """Questions added since the app started join the running practice pool.

    The CLI reads INTERVIEWER_HOME/questions on every start; the TUI loaded its bank once, so new
    question files are read into it here.
    """
    from interviewer.bank import load_file

    for e in journal.entries("question"):
        qid, source = e.get("question_id"), e.get("source")
        if qid and source and bank.get(qid) is None and Path(source).exists():
            load_file(Path(source), bank, None, "journal")


class EntryForm(ModalScreen[str]):
    """Add one entry. Dismisses with add_entry's message once the entry is saved."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="journal_save", tooltip="Save this entry"),
        Binding("escape", "cancel", "Cancel", id="journal_cancel", tooltip="Close the form (asks if you typed something)"),
    ]
    HELP = {
        "entry-kind": "What you are recording: a question from a real interview (it joins your practice pool), a paper or post (give its file to have it indexed), or a key point.",
        "entry-title": "For a question, the question itself; for a paper or post, its title; for a point, the point.",
        "entry-body": "Free text. For a question this is your reference answer, which the offline grader compares answers with.",
        "entry-topics": "Topic ids from corpus/topics.yaml, comma-separated, e.g. regularization, ensembles.",
        "entry-round": "The round this question belongs to in practice.",
        "entry-rubric": "A YAML list of 3-6 criteria ({id, criterion, points}). Without one, the configured model drafts the rubric, or a generic one is used offline.",
        "entry-source": "A saved copy of the paper or post (md, txt, html or pdf): it is ingested so feedback can cite it.",
        "*": "ctrl+s saves; escape closes the form.",
    }

    def __init__(self, **kw):
        super().__init__(**kw)
        self.saving = False

    def compose(self) -> ComposeResult:
        with Vertical(id="entry-form"):
            yield Static("Add a journal entry", id="entry-form-title")
            yield Label("Kind")
            yield Select(KIND_CHOICES, value="question", allow_blank=False, id="entry-kind")
            yield Label(TITLE_LABELS["question"], id="entry-title-label")
            yield Input(id="entry-title")
            yield Label(BODY_LABELS["question"], id="entry-body-label")
            yield TextArea("", id="entry-body", soft_wrap=True)
            with Horizontal(id="entry-question-fields"):
                with Vertical():
                    yield Label("Topics (comma-separated ids)")
                    yield Input(placeholder="e.g. regularization, ensembles", id="entry-topics")
                with Vertical(id="entry-round-box"):
                    yield Label("Round")
                    yield Select(ROUND_CHOICES, value="breadth", allow_blank=False, id="entry-round")
                with Vertical():
                    yield Label("Your rubric file (optional)")
                    yield Input(placeholder="rubric.yaml", id="entry-rubric")
            with Vertical(id="entry-source-fields"):
                yield Label("Source file to index (optional)")
                yield Input(placeholder="~/papers/attention.pdf", id="entry-source")
            yield Static("", id="entry-error")
            with Horizontal(id="entry-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="entry-save")
                yield Button("Cancel", id="entry-cancel")
        yield Footer()

    def on_mount(self) -> None:
        self._show_fields("question")
        self.query_one("#entry-title", Input).focus()

    @on(Select.Changed, "#entry-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._show_fields(event.value)

    def _show_fields(self, kind: str) -> None:
        self.query_one("#entry-title-label", Label).update(TITLE_LABELS[kind])
        self.query_one("#entry-body-label", Label).update(BODY_LABELS[kind])
        self.query_one("#entry-question-fields").display = kind == "question"
        self.query_one("#entry-source-fields").display = kind in ("paper", "post")

    def values(self) -> dict:
        kind = self.query_one("#entry-kind", Select).value
        topics = self.query_one("#entry-topics", Input).value
        rnd = self.query_one("#entry-round", Select).value
        source = self.query_one("#entry-source", Input).value.strip().strip("'\"")
        rubric = self.query_one("#entry-rubric", Input).value.strip().strip("'\"")
        return {
            "kind": kind,
            "title": self.query_one("#entry-title", Input).value.strip(),
            "body": self.query_one("#entry-body", TextArea).text,
            "topics": [t.strip() for t in topics.split(",") if t.strip()] if kind == "question" else [],
            "round": rnd if kind == "question" else "breadth",
            "source": str(Path(source).expanduser()) if source and kind in ("paper", "post") else None,
            "rubric_file": str(Path(rubric).expanduser()) if rubric and kind == "question" else None,
        }

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "entry-save":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        if self.saving:
            return
        v = self.values()
        if not v["title"]:
            self._error(f"error: the entry needs a title ({TITLE_LABELS[v['kind']].lower()})")
            self.query_one("#entry-title", Input).focus()
            return
        self.saving = True
        slow = v["kind"] in ("paper", "post") and v["source"]
        self.query_one("#entry-error", Static).update("Indexing the source file… (this can take a while)" if slow else "Saving…")
        self.query_one("#entry-error").set_class(False, "error")
        self._save_worker(v)

    @work(thread=True, exclusive=True, group="journal")
    def _save_worker(self, v: dict) -> None:
        from interviewer.journal_entries import add_entry

        svc = self.app.services
        try:
            extra = {"rubric_file": v["rubric_file"]} if v["rubric_file"] else {}
            msg = add_entry(svc, v["kind"], v["title"], v["body"], v["source"], v["topics"], v["round"], **extra)
            if v["kind"] == "question":
                add_to_live_bank(svc.bank, svc.journal)
        except Exception as exc:  # the form stays open with everything typed in it
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self.dismiss, msg)

    def _failed(self, exc: Exception) -> None:
        self.saving = False
        self._error(one_line(exc) + " Your entry is still here: fix it and press ctrl+s.")

    def _error(self, text: str) -> None:
        box = self.query_one("#entry-error", Static)
        box.update(escape(text))
        box.set_class(True, "error")

    def action_cancel(self) -> None:
        if self.saving:
            self.app.notify("Saving this entry… the form closes when it is done.", markup=False)
            return
        v = self.values()
        if not (v["title"] or v["body"].strip()):
            self.dismiss(None)
            return

        def done(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen("Close the form and drop what you typed?", yes="Drop it"), done)


class JournalScreen(Screen):
    AUTO_FOCUS = ""  # reload() focuses the table when it has rows; a hidden one must not take the focus
    BINDINGS = [
        Binding("a", "add", "Add entry", id="journal_add", tooltip="Record a question, a paper or post, or a key point"),
        Binding("d", "delete", "Delete", id="journal_delete", tooltip="Delete the selected entry (asks first)"),
        Binding("escape", "app.pop_screen", "Back", id="back", tooltip="Back"),
    ]
    HELP = {
        "entries": "Your entries, newest first. a adds one, d deletes the selected one; the text of the selected entry shows below.",
        "*": "a adds an entry; escape goes back.",
    }

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Questions you were asked, papers and posts you studied, points to remember.", id="journal-title")
        yield DataTable(id="entries", cursor_type="row", zebra_stripes=True)
        yield Static(
            "Your journal is empty.\n\nPress a to record a question you were asked in a real interview (it becomes a practice "
            "question), a paper or blog post you studied (its file is indexed so feedback can cite it), or a key point.",
            id="journal-empty",
        )
        with VerticalScroll(id="entry-detail-box"):
            yield Static("", id="entry-detail", markup=False)
        yield Static("", id="notice")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "journal"
        self.query_one("#entries", DataTable).add_columns("id", "added", "kind", "title", "linked to")
        self.reload()

    def reload(self, newest: bool = False) -> None:
        table = self.query_one("#entries", DataTable)
        row = table.cursor_row
        table.clear()
        try:
            self.rows = {e["id"]: e for e in self.app.journal.entries()}
        except Exception as exc:
            self.rows = {}
            self.query_one("#notice", Static).update(escape(one_line(exc)))
        for e in self.rows.values():
            title = " ".join(e["title"].split())
            title = title if len(title) <= 60 else title[:59] + "…"
            linked = e.get("question_id") or (Path(e["source"]).name if e.get("source") else "")
            # Text, not str: DataTable reads str cells as markup, and a title may hold [brackets].
            table.add_row(str(e["id"]), when(e["created_at"]), e["kind"], Text(title), Text(linked), key=str(e["id"]))
        has = bool(self.rows)
        table.display = has
        self.query_one("#entry-detail-box").display = has
        self.query_one("#journal-empty").display = not has
        if not has and self.focused is table:
            self.set_focus(None)  # a hidden table keeps no focus: F1 then explains the screen
        if has:
            # Entries come newest first, so a new entry is row 0.
            table.move_cursor(row=0 if newest else min(max(row, 0), len(self.rows) - 1))
            table.focus()
            self._show_detail()
        self.refresh_bindings()

    def selected(self) -> dict | None:
        table = self.query_one("#entries", DataTable)
        if not getattr(self, "rows", None):
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.rows.get(int(key))

    def _show_detail(self) -> None:
        e = self.selected()
        if e is None:
            return
        parts = [e["title"]]
        if e.get("body"):
            parts.append(e["body"])
        if e.get("question_id"):
            parts.append(f"Practice question {e['question_id']}: it comes up in {e['question_id'].split('.')[0]} rounds.")
        elif e.get("source"):
            parts.append(f"Source: {e['source']}")
        self.query_one("#entry-detail", Static).update("\n\n".join(parts))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "delete" and not getattr(self, "rows", None):
            return False
        return True

    def action_add(self) -> None:
        def done(msg: str | None) -> None:
            if msg:
                self.query_one("#notice", Static).update(escape(msg))
                self.reload(newest=True)

        self.app.push_screen(EntryForm(), done)

    def action_delete(self) -> None:
        e = self.selected()
        if e is None:
            return
        extra = ""
        if e.get("question_id") and e.get("source"):
            extra = f" The practice question stays in your pool; delete {e['source']} to drop it too."

        def done(yes: bool | None) -> None:
            if not yes:
                return
            try:
                self.app.journal.delete_entry(e["id"])
            except Exception as exc:
                self.query_one("#notice", Static).update(escape(one_line(exc)))
                return
            self.query_one("#notice", Static).update(f"Deleted entry {e['id']}.")
            self.reload()

        self.app.push_screen(ConfirmScreen(f"Delete entry {e['id']} ({e['kind']}: {e['title'][:60]})?{extra}"), done)
