"""The session engine: timed rounds as a plain state machine, with no UI in it.

The TUI, the CLI and the tests all drive the same object. Time comes from an injected clock so
tests never sleep; the TUI calls `tick()` from a timer and acts on the events it returns. Every
state change is written to the journal as it happens (drafts as typed, answers on submit, the
position in the session), so a closed terminal or a crash loses nothing and `resume()` picks up
where the candidate was.

Follow-ups in LLM mode stream: `submit(..., stream=True)` records the answer and returns
{"next": "follow_up", "stream": True}; the caller iterates `stream_follow_up(cancel)` (in a
thread, showing the text as it arrives) and then hands what it got to `accept_follow_up()`. A
cancelled, failed or empty stream becomes the bank's follow-up (or the grade), so the candidate's
answer is never lost and the round always goes on. The pending follow-up is part of the persisted
state, so a crash while the interviewer "speaks" resumes at the same point.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterator

from interviewer.bank import Bank
from interviewer.journal import Journal
from interviewer.schema import Grade, Question

ROUND_DEFAULTS = {
    # round: (questions, minutes per question, minutes per round, follow-up turns per question)
    "breadth": (5, 3.0, 15.0, 0),
    "depth": (2, 10.0, 25.0, 2),
    "system_design": (1, 40.0, 40.0, 3),
    "coding": (1, 30.0, 30.0, 0),
}


@dataclass
class RoundPlan:
    round: str
    question_ids: list[str]
    question_seconds: float
    round_seconds: float
    follow_ups: int = 0

    @classmethod
    def default(cls, round: str, question_ids: list[str], minutes: float | None = None, question_minutes: float | None = None) -> "RoundPlan":
        n, qmin, rmin, fu = ROUND_DEFAULTS[round]
        return cls(round, question_ids, 60.0 * (question_minutes or qmin), 60.0 * (minutes or rmin), fu)


@dataclass
class Turn:
    prompt: str
    answer: str = ""
    kind: str = "question"  # question | follow_up | probe


@dataclass
class Attempt:
    question_id: str
    turns: list[Turn] = field(default_factory=list)
    started: float = 0.0
    elapsed: float = 0.0
    hints: int = 0
    answer_id: int | None = None
    grade: dict | None = None
    timed_out: bool = False
    # The last turn is answered and the interviewer's follow-up is being produced (streamed).
    follow_up_pending: bool = False

    def full_answer(self) -> str:
        return "\n\n".join(t.answer for t in self.turns if t.answer.strip())


@dataclass
class State:
    plans: list[RoundPlan]
    mode: str
    round_index: int = 0
    question_index: int = 0
    round_elapsed: float = 0.0
    attempts: list[Attempt] = field(default_factory=list)
    paused: bool = False
    finished: bool = False

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> "State":
        plans = [RoundPlan(**p) for p in d["plans"]]
        attempts = []
        for a in d.get("attempts", []):
            a = dict(a)
            a["turns"] = [Turn(**t) for t in a.get("turns", [])]
            attempts.append(Attempt(**a))
        return cls(plans=plans, mode=d["mode"], round_index=d["round_index"], question_index=d["question_index"], round_elapsed=d.get("round_elapsed", 0.0), attempts=attempts, paused=d.get("paused", False), finished=d.get("finished", False))


class SessionEngine:
    def __init__(self, journal: Journal, bank: Bank, grading, state: State, session_id: int, clock: Callable[[], float] = time.monotonic, hint_penalty: float = 1.0, interviewer=None, profile=None, usage=None):
        self.journal = journal
        self.bank = bank
        self.grading = grading
        self.state = state
        self.session_id = session_id
        self.clock = clock
        self.hint_penalty = hint_penalty
        self.interviewer = interviewer
        self.profile = profile  # the role being practised for: the LLM interviewer personalises with it
        # The LLM's usage log (llm.UsageLog): calls made for this session go to the journal.
        self.usage = usage
        self._usage_logged = len(usage.records) if usage is not None else 0
        self._mark = clock()
        # The grade of the answer so far, kept between submit() and accept_follow_up(): the
        # follow-up aims at what it missed. Not persisted: after a crash it is graded again.
        self._interim: Grade | None = None
        self._summary: dict | None = None
        if not state.attempts or state.attempts[-1].question_id != self._current_id():
            self._begin_attempt()

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def start(cls, journal: Journal, bank: Bank, grading, plans: list[RoundPlan], mode: str = "practice", profile=None, endpoint: str | None = None, model: str | None = None, **kw) -> "SessionEngine":
        if mode not in ("practice", "mock"):
            raise ValueError("mode is practice or mock")
        plans = [p for p in plans if p.question_ids]
        if not plans:
            raise ValueError("no questions to ask")
        state = State(plans=plans, mode=mode)
        sid = journal.start_session(mode, [p.round for p in plans], profile, endpoint, model, state.to_json())
        eng = cls(journal, bank, grading, state, sid, profile=profile, **kw)
        eng._persist()
        return eng

    @classmethod
    def resume(cls, journal: Journal, bank: Bank, grading, session_id: int, **kw) -> "SessionEngine":
        row = journal.session(session_id)
        state = State.from_json(row["state"])
        state.paused = False
        if "profile" not in kw and row.get("profile"):
            from interviewer.schema import RoleProfile

            try:
                kw["profile"] = RoleProfile.model_validate(row["profile"])
            except ValueError:
                pass  # personalisation is a nicety; an old or odd profile must not block a resume
        eng = cls(journal, bank, grading, state, session_id, **kw)
        return eng

    # -- where we are ------------------------------------------------------------------------
    @property
    def plan(self) -> RoundPlan:
        return self.state.plans[self.state.round_index]

    def _current_id(self) -> str | None:
        if self.state.finished:
            return None
        return self.plan.question_ids[self.state.question_index]

    @property
    def question(self) -> Question:
        q = self.bank.get(self._current_id() or "")
        if q is None:
            raise KeyError(f"question {self._current_id()} is not in the bank")
        return q

    @property
    def attempt(self) -> Attempt:
        return self.state.attempts[-1]

    @property
    def finished(self) -> bool:
        return self.state.finished

    @property
    def current_prompt(self) -> str:
        return self.attempt.turns[-1].prompt if self.attempt.turns else self.question.prompt

    def position(self) -> dict:
        return {
            "round": self.plan.round,
            "round_number": self.state.round_index + 1,
            "rounds": len(self.state.plans),
            "question_number": self.state.question_index + 1,
            "questions": len(self.plan.question_ids),
            "turn": len(self.attempt.turns),
        }

    # -- time --------------------------------------------------------------------------------
    def _advance_clock(self) -> None:
        now = self.clock()
        if not self.state.paused and not self.state.finished:
            dt = now - self._mark
            self.attempt.elapsed += dt
            self.state.round_elapsed += dt
        self._mark = now

    def question_time_left(self) -> float:
        self._advance_clock()
        return max(0.0, self.plan.question_seconds - self.attempt.elapsed)

    def round_time_left(self) -> float:
        self._advance_clock()
        return max(0.0, self.plan.round_seconds - self.state.round_elapsed)

    def tick(self) -> list[str]:
        """Called by a timer; returns what ran out: 'question_timeout' and/or 'round_timeout'."""
        if self.state.finished or self.state.paused:
            return []
        events = []
        if self.round_time_left() <= 0:
            events.append("round_timeout")
        elif self.question_time_left() <= 0:
            events.append("question_timeout")
        return events

    def pause(self) -> None:
        self._advance_clock()
        self.state.paused = True
        self._persist()

    def resume_clock(self) -> None:
        self._mark = self.clock()
        self.state.paused = False
        self._persist()

    # -- answering ---------------------------------------------------------------------------
    def _begin_attempt(self) -> None:
        qid = self._current_id()
        if qid is None:
            return
        q = self.bank.get(qid)
        self.state.attempts.append(Attempt(question_id=qid, turns=[Turn(prompt=q.prompt if q else qid)], started=time.time()))
        self._mark = self.clock()

    def draft(self) -> str:
        saved = self.journal.draft(self.session_id, self._draft_key())
        return saved if saved is not None else ""

    def _draft_key(self) -> str:
        return f"{self._current_id()}#{len(self.attempt.turns)}"

    def save_draft(self, text: str) -> None:
        if not self.state.finished:
            self.journal.save_draft(self.session_id, self._draft_key(), text)
            # Keep the clock durable too, so a crash cannot hand the candidate time back.
            now = self.clock()
            if now - getattr(self, "_last_persist", -1e9) >= 2.0:
                self._advance_clock()
                self._persist()
                self._last_persist = now

    def hint(self) -> str:
        """A nudge towards the first criterion not yet shown; each hint costs points."""
        self.attempt.hints += 1
        q = self.question
        idx = min(self.attempt.hints - 1, len(q.rubric) - 1)
        crit = q.rubric[idx]
        self._persist()
        return f"Think about this: {crit.criterion} (hint {self.attempt.hints}: -{self.hint_penalty:g} point each)"

    def submit(self, text: str, timed_out: bool = False, *, stream: bool = False) -> dict:
        """Record this turn's answer. Returns what happens next:

        {"next": "follow_up", "prompt": ..., "source": "llm"|"offline"} when the interviewer digs
        in (depth, system design);
        {"next": "follow_up", "stream": True} instead, when `stream` is asked for and an LLM
        interviewer is configured: see `stream_follow_up()` and `accept_follow_up()`;
        {"next": "graded", "grade": Grade, "show": bool} when the question is done;
        the caller then calls `advance()` to move on.
        Every result carries "notices": things the candidate should know now (an endpoint that
        failed, for instance), whatever the mode.
        """
        if self.attempt.follow_up_pending:
            raise RuntimeError("a follow-up is pending: call accept_follow_up() first")
        self._advance_clock()
        a = self.attempt
        a.turns[-1].answer = text
        a.timed_out = a.timed_out or timed_out
        q = self.question
        turns_used = sum(1 for t in a.turns if t.kind != "question")
        out_of_time = timed_out or self.question_time_left() <= 0 or self.round_time_left() <= 0
        if self.plan.follow_ups and turns_used < self.plan.follow_ups and not out_of_time and text.strip():
            grade = self.grading.grade(q, a.full_answer())
            notices = _system_notices(grade)
            llm_ok = not self._llm_just_failed(grade)
            if stream and llm_ok and self.can_stream:
                self._interim = grade
                a.follow_up_pending = True
                self._persist()  # the answer is in the state now: a crash mid-stream keeps it
                self._log_usage()
                return {"next": "follow_up", "stream": True, "notices": notices}
            follow, source = self.next_follow_up(q, grade, a, use_llm=llm_ok)
            if follow:
                return {**self._ask(follow), "source": source, "notices": notices}
        return self._finish_question(timed_out)

    # -- follow-ups --------------------------------------------------------------------------
    @property
    def can_stream(self) -> bool:
        return self.interviewer is not None and hasattr(self.interviewer, "stream_follow_up")

    @property
    def follow_up_pending(self) -> bool:
        return not self.state.finished and self.attempt.follow_up_pending

    def _llm_just_failed(self, grade: Grade) -> bool:
        # The grading service fell back to offline: the endpoint is failing right now, so asking
        # it for a follow-up would only make the candidate wait for a second timeout.
        return getattr(self.grading, "online", None) is not None and grade.grader == "offline"

    def _offline_grade(self, q: Question, answer: str) -> Grade:
        offline = getattr(self.grading, "offline", None)
        return (offline or self.grading).grade(q, answer)

    def stream_follow_up(self, cancel: threading.Event | None = None) -> Iterator[str]:
        """The LLM interviewer's follow-up, chunk by chunk as it arrives (call it in a thread).

        Stops early when `cancel` is set; raises the endpoint's error (LLMError) if it fails.
        Either way, call `accept_follow_up()` afterwards with the text that arrived complete, or
        None when it did not.
        """
        a = self.attempt
        if not self.follow_up_pending or not self.can_stream:
            return
        q = self.question
        if self._interim is None:  # resumed after a crash: grade the answer so far again
            self._interim = self.grading.grade(q, a.full_answer())
            if self._llm_just_failed(self._interim):
                return  # the endpoint is down: accept_follow_up(None) asks the bank's follow-up
        yield from self.interviewer.stream_follow_up(q, a, self._interim, cancel=cancel, profile=self.profile)

    def accept_follow_up(self, text: str | None) -> dict:
        """Settle the pending follow-up: the streamed `text` if it is usable, else the bank's.

        Returns what `submit()` returns: the follow-up to answer, or the grade when there is no
        follow-up left to ask (or no time to answer one).
        """
        a = self.attempt
        if not self.follow_up_pending:
            raise RuntimeError("no follow-up is pending")
        self._advance_clock()
        q = self.question
        a.follow_up_pending = False
        if self.question_time_left() <= 0 or self.round_time_left() <= 0:
            # The time ran out while the interviewer spoke: no time left to answer a follow-up.
            self._interim = None
            a.timed_out = True
            return self._finish_question(True)
        follow, source = clean_follow_up(text), "llm"
        if follow in {t.prompt for t in a.turns}:
            follow = None  # a repeated question is no follow-up
        if not follow:
            from interviewer.chains.interviewer import offline_follow_up

            grade = self._interim or self._offline_grade(q, a.full_answer())
            follow, source = offline_follow_up(q, grade, a), "offline"
        self._interim = None
        if follow:
            return {**self._ask(follow), "source": source, "notices": []}
        return self._finish_question(a.timed_out)

    def _ask(self, follow: str) -> dict:
        q = self.question
        self.attempt.turns.append(Turn(prompt=follow, kind="follow_up" if q.round != "system_design" else "probe"))
        self._persist()
        self._log_usage()
        return {"next": "follow_up", "prompt": follow}

    def _log_usage(self) -> None:
        """Record the model calls made since the last time (grades, follow-ups) in the journal."""
        if self.usage is None:
            return
        new = self.usage.records[self._usage_logged :]
        self._usage_logged += len(new)
        self.journal.log_llm_calls(new, self.session_id)

    def _finish_question(self, timed_out: bool) -> dict:
        a = self.attempt
        q = self.question
        answer = a.full_answer()
        a.answer_id = self.journal.record_answer(self.session_id, q, answer, a.elapsed, timed_out, a.hints)
        self._persist()
        grade = self.grading.grade(q, answer)
        if a.hints:
            grade.hint_penalty = a.hints * self.hint_penalty
            grade.score = Grade.score_from(grade.criteria, grade.hint_penalty)
        self.journal.record_grade(a.answer_id, grade)
        a.grade = grade.model_dump()
        self._persist()
        self._log_usage()
        return {"next": "graded", "grade": grade, "show": self.state.mode == "practice", "notices": _system_notices(grade)}

    def next_follow_up(self, q: Question, grade: Grade, a: Attempt, use_llm: bool = True) -> tuple[str | None, str]:
        """The follow-up to ask now, in one call (no streaming), and where it came from."""
        if self.interviewer is not None and use_llm:
            try:
                follow = clean_follow_up(self.interviewer.follow_up(q, a, grade, profile=self.profile))
                if follow and follow not in {t.prompt for t in a.turns}:
                    return follow, "llm"
            except Exception:
                pass  # the offline choice below is always there
        from interviewer.chains.interviewer import offline_follow_up

        return offline_follow_up(q, grade, a), "offline"

    def advance(self) -> bool:
        """Move to the next question (or round); returns False when the session is over."""
        s = self.state
        if s.finished:
            return False
        if s.question_index + 1 < len(self.plan.question_ids) and self.round_time_left() > 0:
            s.question_index += 1
        elif s.round_index + 1 < len(s.plans):
            s.round_index += 1
            s.question_index = 0
            s.round_elapsed = 0.0
        else:
            s.finished = True
            self._summary = None
            self.journal.finish_session(self.session_id, self.summary())
            self._persist()
            return False
        self._begin_attempt()
        self._persist()
        return True

    def end_round(self) -> bool:
        """The round timer ran out: skip the rest of its questions."""
        s = self.state
        s.question_index = len(self.plan.question_ids) - 1
        s.round_elapsed = self.plan.round_seconds
        return self.advance()

    def _persist(self) -> None:
        self.journal.save_state(self.session_id, self.state.to_json())

    # -- the end -----------------------------------------------------------------------------
    def summary(self) -> dict:
        # Kept once the session is over: the UI asks for it again on its event loop, and building
        # it reads every bundled note's front matter.
        if self._summary is not None and self.state.finished:
            return self._summary
        from interviewer.rounds.summary import build_summary

        out = build_summary(self.state, self.bank)
        if self.state.finished:
            self._summary = out
        return out


def _system_notices(grade: Grade) -> list[str]:
    """Notices about the machinery (an endpoint that failed), not about the answer: the candidate
    sees these at once, even in mock mode."""
    return [n for n in grade.notices if "offline instead" in n]


def clean_follow_up(text: str | None) -> str | None:
    """A model's follow-up as a question to show: trimmed, no speaker label or wrapping quotes."""
    if not text:
        return None
    t = text.strip()
    for label in ("Interviewer:", "Follow-up:", "Follow-up question:"):
        if t.lower().startswith(label.lower()):
            t = t[len(label) :].strip()
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "\"'":
        t = t[1:-1].strip()
    return t or None


__all__ = ["SessionEngine", "RoundPlan", "State", "Attempt", "Turn"]
