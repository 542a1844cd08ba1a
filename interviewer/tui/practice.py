"""The round screen: countdowns, the question, the answer editor, feedback.

No business logic here: every decision is the engine's. Slow work (grading, model loading,
the interviewer's follow-up) runs in thread workers so the event loop never blocks; the draft is
saved on every change.

In LLM mode a follow-up streams into the question pane under "Interviewer." as it arrives. The
worker batches the chunks (one UI update per STREAM_FLUSH_SECONDS) and a MarkdownStream merges
whatever the pane cannot render in time, so a fast model cannot flood the event loop. Escape
stops the stream at once: the bank's follow-up is asked instead and the candidate's answer stays
in the conversation, as does an endpoint that fails mid-reply (with a notice).
"""

from __future__ import annotations

import threading
import time

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown, Static, TextArea

from interviewer.export_md import criteria_table

ROUND_TITLES = {"breadth": "ML breadth", "depth": "Depth / case study", "system_design": "ML system design", "coding": "ML coding"}
STREAM_FLUSH_SECONDS = 0.08  # at most ~12 pane updates a second while a follow-up streams
COVERAGE_DEBOUNCE_SECONDS = 1.0  # the design checklist refreshes once typing pauses this long
PREFETCH_DEBOUNCE_SECONDS = 0.8  # finished sentences are embedded once typing pauses this long


def fmt_seconds(s: float) -> str:
    s = max(0, int(s + 0.999))
    return f"{s // 60:02d}:{s % 60:02d}"


def one_line(text: str, limit: int) -> str:
    # A test's message can span lines; in Markdown an indented line becomes a code block.
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def conversation_markdown(q, turns, pending: bool = False) -> str:
    """The question and the exchange so far; with `pending`, ends where the next follow-up goes."""
    text = f"**Question.** {q.prompt}"
    for i, t in enumerate(turns):
        if i:
            text += f"\n\n**Interviewer.** {t.prompt}"
        if t.answer.strip() and (i + 1 < len(turns) or pending):
            # The candidate's earlier answers stay in view: a follow-up builds on them.
            quoted = "\n".join("> " + line for line in t.answer.strip().splitlines())
            text += f"\n\n**You.**\n\n{quoted}"
    if pending:
        text += "\n\n**Interviewer.** "
    return text


def grade_markdown(grade, show_reference: str | None = None, code: bool | None = None) -> str:
    lines = [f"### Score {grade.score:.1f} / 10  ·  graded {grade.grader}" + (f" ({grade.model})" if grade.model else "")]
    for n in grade.notices:
        lines += [f"> {n}", ""]  # one quote block each: consecutive quote lines merge into one paragraph
    if not grade.notices:
        lines.append("")
    lines += criteria_table([c.model_dump() for c in grade.criteria])
    if grade.tests is not None:
        t = grade.tests
        lines.append("")
        lines.append(f"**Hidden tests:** {t.passed} passed, {t.failed} failed, {t.errors} errors" + (f" — {t.message}" if t.message else ""))
        for r in t.results[:20]:
            mark = "✔" if r.outcome == "passed" else "✘"
            lines.append(f"- {mark} `{r.name}` {one_line(r.message, 120)}")
    if grade.grader == "llm" and grade.feedback:
        lines.append("")
        lines.append(grade.feedback)
    if grade.missing:
        lines.append("")
        lines.append(f"**A full answer would add:** {grade.missing}")
    sources = list(dict.fromkeys(grade.sources or []))
    if sources:
        lines.append("")
        lines.append("**Sources the grader drew on:** " + ", ".join(f"`{src}`" for src in sources))
    if show_reference:
        lines.append("")
        lines.append("**Reference answer**")
        lines.append("")
        if code is None:
            code = show_reference.startswith(("def ", "import ", "from "))
        # Code goes in a python fence: unfenced, '#' comments become headings, and indented lines
        # become code blocks of no language, whose highlighter imports every lexer to guess one.
        lines.append(f"```python\n{show_reference}\n```" if code else show_reference)
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
        # Priority, so that it works while the editor has focus; check_action lets escape reach
        # the editor (which leaves it) whenever there is nothing to cancel.
        Binding("escape", "cancel", "Cancel", id="cancel", priority=True, tooltip="Cancel the running tests or the interviewer's streaming follow-up"),
    ]

    grading: reactive[bool] = reactive(False)

    def __init__(self, engine, **kw):
        super().__init__(**kw)
        self.engine = engine
        self.awaiting_next = False
        self._loading_draft = False
        self._cancel: threading.Event | None = None  # the running hidden tests
        # The follow-up being streamed: its cancel event, and which stream may still settle it
        # (the stream worker and an escape race to settle it; the first one wins).
        self._stream_cancel: threading.Event | None = None
        self._stream_md = None
        self._stream_active: int | None = None
        self._stream_seq = 0
        self._settle_lock = threading.Lock()
        self._coverage_timer = None
        self._prefetch_timer = None
        self._end_round_pending = False
        self._grammar_ready = False

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
        coding = any(getattr(self.engine.bank.get(qid), "round", "") == "coding" for p in self.engine.state.plans for qid in p.question_ids)
        self._warm(coding)
        self.show_question()
        self.timer = self.set_interval(0.25, self.on_tick)
        self.on_tick()
        if self.engine.follow_up_pending:
            # Resumed after a crash while the interviewer was speaking: ask again.
            self.grading = True
            self.call_after_refresh(self._begin_follow_up)

    @work(thread=True, group="warm")
    def _warm(self, coding: bool) -> None:
        """Load off the loop what handlers would otherwise load on it (measured by
        benchmarks/bench_tui_responsiveness.py): the notes' front matter that the end-of-session
        summary reads (25-60 ms), and for coding the tree-sitter grammar (about 0.2 s; the
        editor shows plain text until it is in) and the python lexer of the feedback's code."""
        try:
            from interviewer.knowledge.notes import note_index

            note_index()
        except Exception:
            pass  # the summary reads them itself, on the loop; slower but correct
        if not coding:
            return
        try:
            from textual.highlight import highlight

            highlight("x = 1", language="python")
        except Exception:
            pass  # the first fence pays for it instead
        try:
            from textual._tree_sitter import get_language

            if get_language("python") is None:
                return  # no textual[syntax]: plain text it stays
        except Exception:
            return
        self.app.call_from_thread(self._grammar_loaded)

    def _grammar_loaded(self) -> None:
        self._grammar_ready = True
        if not self.engine.finished and self.engine.question.round == "coding":
            self._highlight_python()

    def _highlight_python(self) -> None:
        editor = self.query_one("#answer", TextArea)
        if editor.language != "python":
            try:
                editor.language = "python"
            except Exception:
                pass  # highlighting is a nicety; editing works without it

    @property
    def streaming(self) -> bool:
        return self._stream_active is not None

    # -- rendering -----------------------------------------------------------------------------
    def show_question(self) -> None:
        e = self.engine
        q = e.question
        pos = e.position()
        self.sub_title = f"{ROUND_TITLES[q.round]} · {e.state.mode} mode"
        self.query_one("#position", Static).update(
            f"Round {pos['round_number']}/{pos['rounds']} {ROUND_TITLES[q.round]} · question {pos['question_number']}/{pos['questions']} · {q.level} · {', '.join(q.topics)}"
        )
        self.query_one("#question", Markdown).update(conversation_markdown(q, e.attempt.turns))
        editor = self.query_one("#answer", TextArea)
        self._loading_draft = True
        draft = e.draft()
        if q.round == "coding":
            # Text first, then the language: each of the two rebuilds the document and compiles
            # the highlight query (30-50 ms here), so a switch to python pays that once, not twice.
            editor.text = draft or (q.starter_code or "")
            if self._grammar_ready:
                self._highlight_python()
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
        if action == "cancel" and not (self.streaming or self._tests_running()):
            return False
        return True

    def _tests_running(self) -> bool:
        return any(w.is_running for w in self.workers if w.group == "tests" and w.node is self)

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
        if self.engine.state.mode == "mock":
            # How well each stage is covered is feedback: a mock interview keeps it for the end.
            rows = ["Stages"] + [f" · {STAGE_TITLES[s]}" for s in DESIGN_STAGES]
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
        if not self._loading_draft and not self.awaiting_next and not self.streaming:
            self.engine.save_draft(event.text_area.text)
            if self.engine.question.round == "system_design" and self.engine.state.mode == "practice":
                # Refresh the checklist once typing pauses, not on every keystroke.
                if self._coverage_timer is not None:
                    self._coverage_timer.stop()
                self._coverage_timer = self.set_timer(COVERAGE_DEBOUNCE_SECONDS, self._refresh_coverage)
            if self._prefetch_timer is not None:
                self._prefetch_timer.stop()
            self._prefetch_timer = self.set_timer(PREFETCH_DEBOUNCE_SECONDS, self._prefetch)

    def _prefetch(self) -> None:
        """Embed the sentences typed so far while the candidate thinks: at submit the offline
        grader then only embeds what changed since, so grading feels instant."""
        if self.engine.finished or self.grading or self.awaiting_next:
            return  # the answer was submitted meanwhile: nothing left to prepare
        grading = self.engine.grading
        offline = getattr(grading, "offline", None)
        if self.engine.question.round == "coding" or getattr(grading, "online", None) is not None or not hasattr(offline, "prefetch"):
            return  # code is graded by its tests; with a model, the offline grader is only the fallback
        from interviewer.embedding import is_loaded

        if is_loaded():  # never the one to load the model: the warm-up worker does that
            self._prefetch_worker(offline, self.query_one("#answer", TextArea).text)

    @work(thread=True, exclusive=True, group="prefetch")
    def _prefetch_worker(self, grader, text: str) -> None:
        grader.prefetch([text])

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
        if self._prefetch_timer is not None:
            self._prefetch_timer.stop()
        if self._coverage_timer is not None:
            self._coverage_timer.stop()
        self.query_one("#notice", Static).update("Grading…" if self.engine.state.mode == "practice" else "Answer recorded.")
        self._submit_worker(text, timed_out, end_round)

    @work(thread=True, exclusive=True, group="grading")
    def _submit_worker(self, text: str, timed_out: bool, end_round: bool) -> None:
        try:
            result = self.engine.submit(text, timed_out=timed_out, stream=True)
        except Exception as exc:  # never lose the answer: it is in the draft table already
            self.app.call_from_thread(self._submit_failed, exc)
            return
        self.app.call_from_thread(self._after_submit, result, end_round)

    async def _submit_failed(self, exc: Exception) -> None:
        self.grading = False
        self._stream_active = None
        if self._stream_md is not None:
            md_stream, self._stream_md = self._stream_md, None
            await md_stream.stop()
        self.query_one("#answer", TextArea).read_only = False
        self.query_one("#notice", Static).update(f"Grading failed: {escape(str(exc))}. Your answer is saved; press ctrl+s to retry.")
        self.refresh_bindings()

    def _show_notices(self, result: dict) -> None:
        # Machinery notices (the endpoint failed, graded offline) show in every mode.
        for n in result.get("notices") or []:
            self.notify(n[:1].upper() + n[1:], severity="warning", timeout=8, markup=False)

    async def _after_submit(self, result: dict, end_round: bool) -> None:
        self._show_notices(result)
        if result["next"] == "follow_up" and result.get("stream"):
            await self._begin_follow_up()
            return
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
            self.set_feedback(grade_markdown(grade, ref, code=self.engine.question.round == "coding"))
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
        e = self.engine
        if e.finished or e.question.round != "system_design" or e.state.mode != "practice":
            return
        text = e.attempt.full_answer()
        if not self.awaiting_next and not self.streaming:
            text = "\n\n".join(x for x in (text, self.query_one("#answer", TextArea).text) if x.strip())
        self._coverage_worker(e.question, text)

    @work(thread=True, exclusive=True, group="coverage")
    def _coverage_worker(self, q, text: str) -> None:
        from interviewer.rounds.stages import coverage

        cov = coverage(q, text)
        self.app.call_from_thread(self._show_coverage, q.id, cov)

    def _show_coverage(self, qid: str, cov: dict) -> None:
        if not self.engine.finished and self.engine.question.id == qid:  # not a stale result
            self.update_checklist(cov)

    # -- the interviewer's streamed follow-up ----------------------------------------------------
    async def _begin_follow_up(self) -> None:
        """The answer is recorded; the interviewer's follow-up streams into the question pane."""
        e = self.engine
        self._stream_seq += 1
        self._stream_active = self._stream_seq
        self._stream_cancel = threading.Event()
        self.query_one("#answer", TextArea).read_only = True  # the answer stays in view as typed
        self.query_one("#notice", Static).update("The interviewer is following up… (escape skips to a prepared question)")
        self.refresh_bindings()
        md = self.query_one("#question", Markdown)
        await md.update(conversation_markdown(e.question, e.attempt.turns, pending=True))
        self.query_one("#question-box", VerticalScroll).anchor()
        self._stream_md = Markdown.get_stream(md)
        self._stream_worker(self._stream_active, self._stream_cancel)

    @work(thread=True, group="grading")
    def _stream_worker(self, stream_id: int, cancel: threading.Event) -> None:
        parts: list[str] = []
        batch: list[str] = []
        last = time.monotonic()
        error: Exception | None = None
        try:
            for piece in self.engine.stream_follow_up(cancel):
                if cancel.is_set():
                    break
                parts.append(piece)
                batch.append(piece)
                if time.monotonic() - last >= STREAM_FLUSH_SECONDS:
                    self.app.call_from_thread(self._stream_write, stream_id, "".join(batch))
                    batch.clear()
                    last = time.monotonic()
            if batch and not cancel.is_set():
                self.app.call_from_thread(self._stream_write, stream_id, "".join(batch))
        except Exception as exc:  # LLMError mostly; whatever it is, the bank's follow-up covers it
            error = exc
        if cancel.is_set():
            self._settle(stream_id, None, None)  # escape already settled it; this is a no-op
        elif error is not None:
            reason = getattr(error, "message", None) or str(error) or type(error).__name__
            self._settle(stream_id, None, f"The interviewer's model failed mid-reply ({reason}): a prepared follow-up is asked instead.")
        else:
            self._settle(stream_id, "".join(parts), None)

    async def _stream_write(self, stream_id: int, text: str) -> None:
        if self._stream_active == stream_id and self._stream_md is not None:
            await self._stream_md.write(text)

    def _settle(self, stream_id: int, text: str | None, why: str | None) -> None:
        """Hand the follow-up to the engine once (a worker thread calls this)."""
        with self._settle_lock:
            if self._stream_active != stream_id:
                return
            self._stream_active = None
        try:
            result = self.engine.accept_follow_up(text)
        except Exception as exc:
            self.app.call_from_thread(self._submit_failed, exc)
            return
        self.app.call_from_thread(self._after_follow_up, result, why)

    @work(thread=True, group="grading")
    def _settle_worker(self, stream_id: int, why: str) -> None:
        self._settle(stream_id, None, why)

    async def _after_follow_up(self, result: dict, why: str | None) -> None:
        if self._stream_md is not None:
            md_stream, self._stream_md = self._stream_md, None
            await md_stream.stop()
        self.query_one("#question-box", VerticalScroll).release_anchor()
        if why:
            self.notify(why, severity="warning", timeout=8, markup=False)
        await self._after_submit(result, False)  # a streamed follow-up never comes from a round timeout

    def action_next(self) -> None:
        if not self.awaiting_next:
            self.notify("Submit this answer first (ctrl+s).", severity="information")
            return
        self._go_next(getattr(self, "_end_round_pending", False))

    def _go_next(self, end_round: bool = False) -> None:
        self._end_round_pending = False
        # Cheap on the loop (a few SQLite writes): the one slow part of ending a session, reading
        # the notes' front matter for "what to study next", was loaded by the warm-up worker.
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
            lines.append(f"- {mark} `{r.name}` ({r.duration:.2f}s) {one_line(r.message, 160)}")
        self.set_feedback("\n".join(lines))
        self.query_one("#notice", Static).update("Tests done. Keep working, or ctrl+s to submit.")

    def on_worker_state_changed(self, event) -> None:
        if event.worker.group == "tests":
            self.refresh_bindings()  # escape (cancel) shows only while the tests run

    def action_cancel(self) -> None:
        if self.streaming and self._stream_cancel is not None:
            stream_id = self._stream_active
            self._stream_cancel.set()
            self.query_one("#notice", Static).update("Follow-up cancelled: asking a prepared question instead.")
            # Settle now rather than when the stream notices: a stalled server may not send the
            # next chunk for a long time.
            self._settle_worker(stream_id, "You skipped the interviewer's follow-up: here is a prepared one.")
            return
        cancel = self._cancel
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
