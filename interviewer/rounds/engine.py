"""The session engine: timed rounds as a plain state machine, with no UI in it.

The TUI, the CLI and the tests all drive the same object. Time comes from an injected clock so
tests never sleep; the TUI calls `tick()` from a timer and acts on the events it returns. Every
state change is written to the journal as it happens (drafts as typed, answers on submit, the
position in the session), so a closed terminal or a crash loses nothing and `resume()` picks up
where the candidate was.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable

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
    def __init__(self, journal: Journal, bank: Bank, grading, state: State, session_id: int, clock: Callable[[], float] = time.monotonic, hint_penalty: float = 1.0, interviewer=None):
        self.journal = journal
        self.bank = bank
        self.grading = grading
        self.state = state
        self.session_id = session_id
        self.clock = clock
        self.hint_penalty = hint_penalty
        self.interviewer = interviewer
        self._mark = clock()
        self._pending_followup: str | None = None
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
        eng = cls(journal, bank, grading, state, sid, **kw)
        eng._persist()
        return eng

    @classmethod
    def resume(cls, journal: Journal, bank: Bank, grading, session_id: int, **kw) -> "SessionEngine":
        row = journal.session(session_id)
        state = State.from_json(row["state"])
        state.paused = False
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

    def submit(self, text: str, timed_out: bool = False) -> dict:
        """Record this turn's answer. Returns what happens next:

        {"next": "follow_up", "prompt": ...} when the interviewer digs in (depth, system design);
        {"next": "graded", "grade": Grade, "show": bool} when the question is done;
        the caller then calls `advance()` to move on.
        """
        self._advance_clock()
        a = self.attempt
        a.turns[-1].answer = text
        a.timed_out = a.timed_out or timed_out
        q = self.question
        turns_used = sum(1 for t in a.turns if t.kind != "question")
        out_of_time = timed_out or self.question_time_left() <= 0 or self.round_time_left() <= 0
        if self.plan.follow_ups and turns_used < self.plan.follow_ups and not out_of_time and text.strip():
            grade = self.grading.grade(q, a.full_answer())
            follow = self.next_follow_up(q, grade, a)
            if follow:
                a.turns.append(Turn(prompt=follow, kind="follow_up" if q.round != "system_design" else "probe"))
                self._persist()
                return {"next": "follow_up", "prompt": follow}
        return self._finish_question(timed_out)

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
        return {"next": "graded", "grade": grade, "show": self.state.mode == "practice"}

    def next_follow_up(self, q: Question, grade: Grade, a: Attempt) -> str | None:
        if self.interviewer is not None:
            try:
                return self.interviewer.follow_up(q, a, grade)
            except Exception:
                pass  # the offline choice below is always there
        from interviewer.chains.interviewer import offline_follow_up

        return offline_follow_up(q, grade, a)

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
        from interviewer.rounds.summary import build_summary

        return build_summary(self.state, self.bank)


__all__ = ["SessionEngine", "RoundPlan", "State", "Attempt", "Turn"]
