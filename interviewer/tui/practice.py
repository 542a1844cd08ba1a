"""The round screen: countdowns, the question, the answer editor, feedback.

No business logic here: every decision is the engine's. Slow work (grading, model loading) runs
in thread workers so the event loop never blocks; the draft is saved on every change.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown, Static, TextArea

from interviewer.export_md import criteria_table

ROUND_TITLES = {"breadth": "ML breadth", "depth": "Depth / case study", "system_design": "ML system design", "coding": "ML coding"}


def fmt_seconds(s: float) -> str:
    s = max(0, int(s + 0.999))
    return f"{s // 60:02d}:{s % 60:02d}"


def grade_markdown(grade, show_reference: str | None = None) -> str:
    lines = [f"### Score {grade.score:.1f} / 10  ·  graded {grade.grader}" + (f" ({grade.model})" if grade.model else "")]
    for n in grade.notices:
        lines.append(f"> {n}")
    lines.append("")
    lines += criteria_table([c.model_dump() for c in grade.criteria])
    if grade.tests is not None:
        t = grade.tests
        lines.append("")
        lines.append(f"**Hidden tests:** {t.passed} passed, {t.failed} failed, {t.errors} errors" + (f" — {t.message}" if t.message else ""))
        for r in t.results[:20]:
            mark = "✔" if r.outcome == "passed" else "✘"
            lines.append(f"- {mark} `{r.name}` {r.message[:120]}")
    if grade.missing:
        lines.append("")
        lines.append(f"**A full answer would add:** {grade.missing}")
    if show_reference:
        lines.append("")
        lines.append("**Reference answer**")
        lines.append("")
        lines.append(show_reference if not show_reference.startswith(("def ", "import ", "from ")) else f"```python\n{show_reference}\n```")
    return "\n".join(lines)


class PracticeScreen(Screen):
    """One session: rounds of questions, timed."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Submit", id="submit", tooltip="Submit this answer for grading"),
        Binding("ctrl+n", "next", "Next", id="next", tooltip="Go to the next question"),
        Binding("f2", "hint", "Hint", id="hint", tooltip="A hint towards the rubric (costs points)"),
        Binding("f3", "pause", "Pause", id="pause", tooltip="Pause or resume the timers"),
        Binding("ctrl+r", "run_tests", "Run tests", id="run_tests", tooltip="Run the hidden tests on your code"),
        Binding("ctrl+e", "open_editor", "$EDITOR", id="open_editor", tooltip="Edit the answer in your $EDITOR"),
        Binding("escape", "cancel", "Cancel", show=False, id="cancel", tooltip="Cancel a running test or streaming reply"),
    ]

    grading: reactive[bool] = reactive(False)

    def __init__(self, engine, **kw):
        super().__init__(**kw)
        self.engine = engine
        self.awaiting_next = False
        self._loading_draft = False

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        with Horizontal(id="status-bar"):
            yield Static("", id="position")
            yield Static("", id="question-timer")
            yield Static("", id="round-timer")
        with Horizontal(id="body"):
            with Vertical(id="main"):
                with VerticalScroll(id="question-box"):
                    yield Markdown("", id="question")
                yield TextArea("", id="answer", soft_wrap=True, tab_behavior="indent", placeholder="Type your answer. ctrl+s submits.")
                with VerticalScroll(id="feedback-box"):
                    yield Markdown("", id="feedback")
            with VerticalScroll(id="side"):
                yield Static("", id="checklist")
        yield Static("", id="notice")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "mock-interviewer"
        self.show_question()
        self.timer = self.set_interval(0.25, self.on_tick)
        self.on_tick()

    # -- rendering -----------------------------------------------------------------------------
    def show_question(self) -> None:
        e = self.engine
        q = e.question
        pos = e.position()
        self.sub_title = f"{ROUND_TITLES[q.round]} · {e.state.mode} mode"
        self.query_one("#position", Static).update(
            f"Round {pos['round_number']}/{pos['rounds']} {ROUND_TITLES[q.round]} · question {pos['question_number']}/{pos['questions']} · {q.level} · {', '.join(q.topics)}"
        )
        text = f"**Question.** {q.prompt}"
        if len(e.attempt.turns) > 1:
            text += "".join(f"\n\n**Interviewer.** {t.prompt}" for t in e.attempt.turns[1:])
        self.query_one("#question", Markdown).update(text)
        editor = self.query_one("#answer", TextArea)
        self._loading_draft = True
        draft = e.draft()
        if q.round == "coding":
            try:
                editor.language = "python"
            except Exception:
                pass  # highlighting needs textual[syntax]; editing works without it
            editor.text = draft or (q.starter_code or "")
        else:
            editor.language = None
            editor.text = draft
        self._loading_draft = False
        editor.read_only = False
        editor.focus()
        self.set_feedback("")
        self.update_checklist()
        self.awaiting_next = False
        self.refresh_bindings()

    def set_feedback(self, text: str) -> None:
        self.query_one("#feedback", Markdown).update(text)
        self.query_one("#feedback-box").display = bool(text)

    def check_action(self, action: str, parameters) -> bool | None:
        # Hide keys that mean nothing right now (False hides; None would only grey them out).
        if action == "run_tests" and (self.engine.finished or self.engine.question.round != "coding"):
            return False
        if action == "next" and not self.awaiting_next:
            return False
        return True

    def update_checklist(self, coverage: dict | None = None) -> None:
        box = self.query_one("#checklist", Static)
        q = self.engine.question
        self.query_one("#side").display = q.round == "system_design"
        if q.round != "system_design":
            return
        from interviewer.rounds.stages import STAGE_TITLES
        from interviewer.schema import DESIGN_STAGES

        box.display = True
        cov = coverage or {}
        rows = ["Stages"]
        for s in DESIGN_STAGES:
            c = cov.get(s, 0.0)
            mark = "■" if c >= 0.8 else "◧" if c >= 0.4 else "□"
            rows.append(f" {mark} {STAGE_TITLES[s]}")
        box.update("\n".join(rows))

    def on_tick(self) -> None:
        e = self.engine
        if e.finished:
            return
        qleft, rleft = e.question_time_left(), e.round_time_left()
        self.query_one("#question-timer", Static).update(f"question {fmt_seconds(qleft)}")
        self.query_one("#round-timer", Static).update(f"round {fmt_seconds(rleft)}" + ("  ⏸ paused" if e.state.paused else ""))
        self.query_one("#question-timer").set_class(qleft < 30, "urgent")
        if self.grading or self.awaiting_next:
            return
        for event in e.tick():
            if event in ("question_timeout", "round_timeout"):
                self.notify("Time is up: your answer was submitted as it stands.", severity="warning")
                self.submit(timed_out=True, end_round=event == "round_timeout")

    # -- editing -------------------------------------------------------------------------------
    @on(TextArea.Changed, "#answer")
    def save_draft(self, event: TextArea.Changed) -> None:
        if not self._loading_draft and not self.awaiting_next:
            self.engine.save_draft(event.text_area.text)

    # -- actions -------------------------------------------------------------------------------
    def action_submit(self) -> None:
        if self.awaiting_next:
            self.action_next()
            return
        self.submit()

    def submit(self, timed_out: bool = False, end_round: bool = False) -> None:
        if self.grading:
            return
        text = self.query_one("#answer", TextArea).text
        if not text.strip() and not timed_out:
            self.notify("The answer is empty: type something first (or wait for the timer).", severity="warning")
            return
        self.grading = True
        self.query_one("#notice", Static).update("Grading…" if self.engine.state.mode == "practice" else "Answer recorded.")
        self._submit_worker(text, timed_out, end_round)

    @work(thread=True, exclusive=True, group="grading")
    def _submit_worker(self, text: str, timed_out: bool, end_round: bool) -> None:
        try:
            result = self.engine.submit(text, timed_out=timed_out)
        except Exception as exc:  # never lose the answer: it is in the draft table already
            self.app.call_from_thread(self._submit_failed, exc)
            return
        self.app.call_from_thread(self._after_submit, result, end_round)

    def _submit_failed(self, exc: Exception) -> None:
        self.grading = False
        self.query_one("#notice", Static).update(f"Grading failed: {exc}. Your answer is saved; press ctrl+s to retry.")

    def _after_submit(self, result: dict, end_round: bool) -> None:
        self.grading = False
        notice = self.query_one("#notice", Static)
        if result["next"] == "follow_up":
            notice.update("The interviewer follows up.")
            self.show_question()
            if self.engine.question.round == "system_design":
                self._refresh_coverage()
            return
        grade = result["grade"]
        if result["show"]:
            ref = self.engine.question.reference_answer
            self.set_feedback(grade_markdown(grade, ref))
            notice.update(f"Scored {grade.score:.1f}/10. ctrl+n for the next question.")
            self.awaiting_next = True
            self.refresh_bindings()
            self.query_one("#answer", TextArea).read_only = True
            if end_round:
                self._end_round_pending = True
        else:
            notice.update("Answer recorded. Feedback comes at the end, as in a real interview.")
            self._go_next(end_round)

    def _refresh_coverage(self) -> None:
        self._coverage_worker(self.engine.question, self.engine.attempt.full_answer())

    @work(thread=True, exclusive=True, group="coverage")
    def _coverage_worker(self, q, text: str) -> None:
        from interviewer.rounds.stages import coverage

        cov = coverage(q, text)
        self.app.call_from_thread(self.update_checklist, cov)

    def action_next(self) -> None:
        if not self.awaiting_next:
            self.notify("Submit this answer first (ctrl+s).", severity="information")
            return
        self._go_next(getattr(self, "_end_round_pending", False))

    def _go_next(self, end_round: bool = False) -> None:
        self._end_round_pending = False
        more = self.engine.end_round() if end_round else self.engine.advance()
        if not more:
            self.app.show_summary(self.engine)
            return
        self.show_question()
        self.query_one("#notice", Static).update("")

    def action_hint(self) -> None:
        if self.awaiting_next or self.grading:
            return
        self.set_feedback(self.engine.hint())

    def action_pause(self) -> None:
        e = self.engine
        editor = self.query_one("#answer", TextArea)
        if e.state.paused:
            e.resume_clock()
            editor.disabled = False
            self.query_one("#question-box").display = True
            editor.focus()
        else:
            e.pause()
            editor.disabled = True
            self.query_one("#question-box").display = False  # no peeking while paused
        self.on_tick()

    def action_run_tests(self) -> None:
        q = self.engine.question
        if q.round != "coding":
            self.notify("Run tests is for the coding round.", severity="information")
            return
        self.query_one("#notice", Static).update("Running the hidden tests… (escape cancels)")
        import threading

        self._cancel = threading.Event()
        self._tests_worker(self.query_one("#answer", TextArea).text, q.tests or "", self._cancel)

    @work(thread=True, exclusive=True, group="tests")
    def _tests_worker(self, code: str, tests: str, cancel) -> None:
        from interviewer.rounds.sandbox import run_tests

        report = run_tests(code, tests, cancel=cancel)
        self.app.call_from_thread(self._show_tests, report)

    def _show_tests(self, report) -> None:
        lines = [f"### Tests: {report.passed} passed, {report.failed} failed, {report.errors} errors"]
        if report.message:
            lines.append(f"> {report.message}")
        for r in report.results:
            mark = "✔" if r.outcome == "passed" else "✘"
            lines.append(f"- {mark} `{r.name}` ({r.duration:.2f}s) {r.message[:160]}")
        self.set_feedback("\n".join(lines))
        self.query_one("#notice", Static).update("Tests done. Keep working, or ctrl+s to submit.")

    def action_cancel(self) -> None:
        cancel = getattr(self, "_cancel", None)
        if cancel is not None:
            cancel.set()

    def action_open_editor(self) -> None:
        import os
        import subprocess
        import tempfile

        editor_cmd = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not editor_cmd:
            self.notify("Set $EDITOR to edit answers in your editor.", severity="warning")
            return
        area = self.query_one("#answer", TextArea)
        suffix = ".py" if self.engine.question.round == "coding" else ".md"
        with tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False, encoding="utf-8") as f:
            f.write(area.text)
            path = f.name
        with self.app.suspend():
            subprocess.call([*editor_cmd.split(), path])
        with open(path, encoding="utf-8", errors="replace") as f:
            area.text = f.read()
        os.unlink(path)
