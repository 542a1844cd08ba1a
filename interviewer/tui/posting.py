"""The posting screen: paste a job posting (or load a file), read the role profile, start a loop.

The analysis is the CLI's own (`commands.analyze.analyze_text` and `build_plan`): the LLM chain
when an endpoint is configured, the offline analyzer otherwise or when the endpoint fails (the
profile then carries a notice saying so). It runs in a thread worker. The pasted text is never
lost: it stays in the editor whatever goes wrong, and it is written to INTERVIEWER_HOME as it
changes, so a crash or a closed terminal brings it back next time.
"""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static, TextArea

from interviewer.tui.common import one_line

ROUND_NAMES = {"breadth": "breadth", "depth": "depth", "system_design": "system design", "coding": "coding"}
MAX_POSTING_BYTES = 5_000_000  # a posting is a few KB; anything this big is the wrong file
EMPTY_REPORT = (
    "[b]The role profile appears here.[/b]\n\n"
    "Paste a job posting on the left (or type a file path below it and press enter), then press "
    "[b]ctrl+s[/b]. The analysis reads what the job really asks for: modeling or infrastructure work, "
    "generalist or specialist, the domains, the level, the topics to prepare with the posting's own "
    "words as evidence, and which rounds matter most.\n\n"
    "Then [b]ctrl+l[/b] starts a full loop planned for that role."
)


def draft_path() -> Path:
    from interviewer.settings import home_dir

    return home_dir() / "last-posting.txt"


def profile_path() -> Path:
    from interviewer.settings import home_dir

    return home_dir() / "last-profile.json"


def save_draft(text: str) -> None:
    """Write the pasted posting atomically, so a crash mid-write cannot leave half of it."""
    from interviewer.settings import ensure_home

    ensure_home()
    path = draft_path()
    tmp = path.with_suffix(".txt.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def load_draft() -> str:
    try:
        return draft_path().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def save_profile(profile) -> None:
    from interviewer.settings import ensure_home

    ensure_home()
    path = profile_path()
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(profile.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(path)


def load_profile():
    """The profile of the last posting analyzed here, or None (missing or unreadable)."""
    from pydantic import ValidationError

    from interviewer.schema import RoleProfile

    try:
        return RoleProfile.model_validate_json(profile_path().read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValidationError, ValueError):
        return None


def read_posting_file(value: str) -> str:
    """A posting file as text, with the CLI's one-line errors for a wrong path or encoding."""
    from interviewer.errors import UserError

    raw = value.strip().strip("'\"")  # terminals often paste dragged paths in quotes
    if not raw:
        raise UserError("no file given", "type the path of a posting file (text, markdown or HTML)")
    p = Path(raw).expanduser()
    if not p.exists():
        raise UserError(f"posting file {raw} does not exist", "check the path")
    if p.is_dir():
        raise UserError(f"posting path {raw} is a folder", "give a file")
    if p.stat().st_size > MAX_POSTING_BYTES:
        raise UserError(f"{raw} is {p.stat().st_size // 1_000_000} MB, far too big for a job posting", "give the posting's own text or HTML file")
    try:
        return p.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{raw} is not UTF-8 text", "re-save it as UTF-8 (e.g. iconv -t utf-8)")


def profile_report(profile, plan: dict):
    """The profile and the preparation plan as the CLI's report shows them, sized for a pane."""
    from rich import box
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    parts: list = []
    head = Text(profile.title or "(untitled posting)", style="bold")
    if profile.company:
        head.append(f"  at {profile.company}")
    head.append(f"\nanalyzed {profile.analyzer}" + (f" with {profile.model}" if profile.model else ""), style="dim")
    parts.append(head)
    for n in profile.notices:
        parts.append(Text.assemble(("note: ", "bold yellow"), n))
    labels = Table(show_header=False, box=None, pad_edge=False, padding=(0, 2, 0, 0))
    labels.add_column(style="cyan", no_wrap=True)
    labels.add_column()
    labels.add_row("responsibility", profile.responsibility)
    labels.add_row("specialization", profile.specialization)
    labels.add_row("domains", ", ".join(profile.domains) or "none named by the duties")
    labels.add_row("level", profile.level)
    parts += [Text(""), labels, Text("")]
    rounds = Table(box=box.SIMPLE_HEAD, pad_edge=False, title="Rounds", title_justify="left", title_style="bold", expand=True)
    rounds.add_column("round", no_wrap=True)
    rounds.add_column("weight", justify="right", no_wrap=True)
    rounds.add_column("", no_wrap=True, min_width=6)
    rounds.add_column("why", ratio=1)
    for r in plan.get("rounds", []):
        bar = "█" * max(1, round(r["weight"] * 16))
        rounds.add_row(ROUND_NAMES.get(r["round"], r["round"]), f"{r['weight']:.2f}", bar, r["why"])
    parts.append(rounds)
    first = " and ".join(ROUND_NAMES.get(r, r) for r in plan.get("practise_first", []))
    if first:
        parts.append(Text.assemble(("Practise first: ", "bold"), first))
    if plan.get("loop"):
        loop = " → ".join(f"{ROUND_NAMES.get(r['round'], r['round'])} ({r['questions']} q, {r['minutes']:.0f} min)" for r in plan["loop"])
        parts.append(Text.assemble(("Full loop (ctrl+l): ", "bold"), loop))
    parts += [Text(""), Text("Focus topics", style="bold")]
    if not plan.get("focus"):
        parts.append(Text("No focus topic stood out: the loop covers the fundamentals.", style="dim"))
    for f in plan.get("focus", []):
        parts.append(Text.assemble(("• ", "bold"), (f["title"] or f["topic"], "bold"), (f"  {f['topic']}", "dim")))
        for e in f["evidence"][:3]:
            parts.append(Padding(Text(f"“{' '.join(e.split())}”", style="italic"), (0, 0, 0, 4)))
        study = [f"{q['id']} ({ROUND_NAMES.get(q['round'], q['round'])}, {q['level']})" for q in f["questions"]]
        # Notes by their path inside the data root: the same on every machine.
        study += [f"{n['title']} (corpus/notes/{n['id']}.md)" for n in f["notes"]]
        if study:
            parts.append(Padding(Text("study: " + "; ".join(study), style="dim"), (0, 0, 0, 4)))
    if plan.get("talking_points"):
        parts += [Text(""), Text.assemble(("Talking points", "bold"), (f"  {plan['talking_points_status']}", "dim"))]
        for p in plan["talking_points"]:
            parts.append(Text(f"• {p['text']} ({p['source']})"))
    elif plan.get("talking_points_status"):
        parts += [Text(""), Text(f"Talking points: {plan['talking_points_status']}.", style="dim")]
    if profile.rationale:
        parts += [Text(""), Text("Why", style="bold")]
        parts += [Text(f"• {r}", style="dim") for r in profile.rationale]
    return Group(*parts)


class PostingScreen(Screen):
    BINDINGS = [
        Binding("ctrl+s", "analyze", "Analyze", id="posting_analyze", tooltip="Analyze the posting in the editor"),
        Binding("ctrl+l", "start_loop", "Start the full loop", id="posting_start_loop", tooltip="Start the rounds planned for this role"),
        Binding("ctrl+o", "focus_file", "Load a file", id="posting_file", tooltip="Type a posting file's path"),
        Binding("escape", "app.pop_screen", "Back", id="back", tooltip="Back (the posting is kept)"),
    ]
    HELP = {
        "posting-text": "Paste the job posting here (text, markdown or HTML: markup is stripped). ctrl+s analyzes it; the text is saved as you type.",
        "posting-file": "Type the path of a posting file and press enter: it is loaded into the editor and analyzed.",
        "report-scroll": "The role profile and the preparation plan. ctrl+l starts a full loop planned for this role.",
        "*": "ctrl+s analyzes, ctrl+l starts the loop, escape goes back.",
    }

    def __init__(self, **kw):
        super().__init__(**kw)
        self.profile = None
        self.plan: dict | None = None
        self._generation = 0  # ignores the answer of an analysis started before the last one
        self._save_timer = None
        self._dirty = False
        self._latest = ""  # the editor's text as of its last change, for saving after unmount
        self._analyzed = ""  # the text the shown profile was computed from
        self._pending = ""  # the text the running analysis reads

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="posting-body"):
            with Vertical(id="posting-input"):
                yield TextArea("", id="posting-text", soft_wrap=True, placeholder="Paste the job posting here, then ctrl+s.")
                yield Input(placeholder="…or a posting file (txt, md, html), then enter", id="posting-file")
            with VerticalScroll(id="report-scroll"):
                yield Static(EMPTY_REPORT, id="profile")
        yield Static("", id="notice")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "analyze a posting"
        text = load_draft()
        editor = self.query_one("#posting-text", TextArea)
        if text.strip():
            editor.load_text(text)
            self.set_notice("Your last posting is back in the editor: ctrl+s analyzes it.")
        editor.focus()

    def set_notice(self, text: str, error: bool = False) -> None:
        notice = self.query_one("#notice", Static)
        notice.update(escape(text))
        notice.set_class(error, "error")

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "start_loop" and self.profile is None:
            return False
        return True

    # -- never lose the paste ------------------------------------------------------------------
    @on(TextArea.Changed, "#posting-text")
    def _changed(self, event: TextArea.Changed) -> None:
        self._latest = event.text_area.text
        self._dirty = True
        if self.profile is not None and self._latest != self._analyzed:
            # The report no longer describes this text: no loop from a stale profile.
            self.profile = None
            self.set_notice("The posting changed: ctrl+s analyzes it again.")
            self.refresh_bindings()
        if self._save_timer is not None:
            self._save_timer.stop()
        # Debounced: a burst of typing is one write, a paste is written half a second later.
        self._save_timer = self.set_timer(0.5, self.flush_draft)

    def flush_draft(self) -> None:
        if not self._dirty:
            return
        try:
            save_draft(self._latest)
            self._dirty = False
        except OSError as exc:
            if self.is_mounted:
                self.set_notice(f"Could not save the posting to {draft_path()}: {exc.strerror}. Keep this screen open.", error=True)

    def on_unmount(self) -> None:
        # The editor is already gone here: flush_draft writes the text kept from the last change.
        self.flush_draft()

    # -- loading and analyzing -----------------------------------------------------------------
    def action_focus_file(self) -> None:
        self.query_one("#posting-file", Input).focus()

    @on(Input.Submitted, "#posting-file")
    def _load_file(self, event: Input.Submitted) -> None:
        try:
            text = read_posting_file(event.value)
        except Exception as exc:
            self.set_notice(one_line(exc), error=True)
            return
        editor = self.query_one("#posting-text", TextArea)
        editor.load_text(text)
        self.action_analyze()

    def action_analyze(self) -> None:
        text = self.query_one("#posting-text", TextArea).text
        self._latest, self._dirty = text, True
        self.flush_draft()
        if not text.strip():
            # Same words as the analyzer, without starting a worker for nothing.
            from interviewer.chains.posting_text import prepare

            try:
                prepare(text)
            except Exception as exc:
                self.set_notice(one_line(exc), error=True)
            return
        self._generation += 1
        self._pending = text
        how = "offline" if self.app.services.endpoint.offline else f"with {self.app.services.endpoint.model}"
        self.set_notice(f"Analyzing the posting {how}…")
        self._analyze_worker(text, self._generation)

    @work(thread=True, exclusive=True, group="posting")
    def _analyze_worker(self, text: str, generation: int) -> None:
        svc = self.app.services
        try:
            from interviewer.commands.analyze import analyze_text, build_plan

            profile = analyze_text(svc, text)
            plan = build_plan(svc, profile)
            try:
                # The rounds the loop will run, as the planner picks them (shown before starting).
                plan["loop"] = [{"round": p.round, "questions": len(p.question_ids), "minutes": p.round_seconds / 60} for p in svc.plan(round=None, profile=profile)]
            except ValueError:
                plan["loop"] = []  # starting the loop will say why; the profile is still worth reading
        except Exception as exc:  # one line on screen; the text stays in the editor
            self.app.call_from_thread(self._failed, exc, generation)
            return
        if svc.llm is not None:
            try:
                # Logged once: the records are dropped after, so a second analysis does not repeat them.
                records = list(svc.llm.usage.records)
                svc.journal.log_llm_calls(records)
                del svc.llm.usage.records[: len(records)]
            except Exception:
                pass  # usage records are bookkeeping, never a reason to lose the analysis
        try:
            save_profile(profile)
        except OSError:
            pass  # the loop can still start from this screen; only the home shortcut needs it
        self.app.call_from_thread(self._show, profile, plan, generation)

    def _failed(self, exc: Exception, generation: int) -> None:
        if generation != self._generation:
            return
        self.set_notice(one_line(exc), error=True)

    def _show(self, profile, plan: dict, generation: int) -> None:
        if generation != self._generation:
            return
        if self._latest != self._pending:
            self.set_notice("The posting changed while it was analyzed: ctrl+s analyzes it again.")
            return
        self.profile, self.plan, self._analyzed = profile, plan, self._pending
        self.query_one("#profile", Static).update(profile_report(profile, plan))
        self.query_one("#report-scroll", VerticalScroll).scroll_home(animate=False)
        fallback = any("analyzed offline instead" in n for n in profile.notices)
        head = "The endpoint failed, so the posting was analyzed offline. " if fallback else ""
        loop = ", ".join(f"{ROUND_NAMES.get(r['round'], r['round'])} ({r['questions']})" for r in plan.get("loop", []))
        self.set_notice(f"{head}Profile ready. ctrl+l starts the full loop" + (f": {loop}." if loop else "."), error=fallback)
        self.refresh_bindings()

    def action_start_loop(self) -> None:
        if self.profile is None:
            self.set_notice("Analyze a posting first (ctrl+s).")
            return
        self.app.start_loop(self.profile)
