"""Planning a session: which rounds, how many questions, which ones, how long.

A single round by default; with a role profile, a full loop: the rounds the role weights most,
in the order a real loop runs them, questions picked for the role's focus, level and domains and
for the candidate's weak topics (from the journal), never repeated within the session.
"""

from __future__ import annotations

from interviewer.bank import Bank, select_questions
from interviewer.rounds.engine import ROUND_DEFAULTS, RoundPlan
from interviewer.schema import ROUNDS

LOOP_ORDER = ("breadth", "coding", "depth", "system_design")


def plan_session(bank: Bank, journal, round: str | None = None, questions: int | None = None, minutes: float | None = None, question_minutes: float | None = None, profile=None, due: bool = False, seed: int | None = None) -> list[RoundPlan]:
    weak = journal.weak_topics() if journal is not None else {}
    recent = journal.recent_question_ids() if journal is not None else set()
    if due:
        due_ids = [d["question_id"] for d in journal.due_questions()] if journal is not None else []
        due_ids = [q for q in due_ids if bank.get(q) is not None]
        if not due_ids:
            raise ValueError("nothing is due for review yet: practise a round first")
        by_round: dict[str, list[str]] = {}
        for qid in due_ids[: questions or 10]:
            by_round.setdefault(bank.get(qid).round, []).append(qid)
        return [RoundPlan.default(r, ids, minutes, question_minutes) for r, ids in sorted(by_round.items(), key=lambda x: LOOP_ORDER.index(x[0]))]
    if round is not None and round not in ROUNDS:
        raise ValueError(f"unknown round {round!r}; use one of {', '.join(ROUNDS)}")
    if round is None and profile is not None:
        weights = profile.rounds or {r: 1.0 for r in ROUNDS}
        chosen = [r for r in LOOP_ORDER if weights.get(r, 0) >= 0.15] or ["breadth"]
    else:
        chosen = [round or "breadth"]
    plans = []
    used: set[str] = set()
    for r in chosen:
        n = questions if (questions and len(chosen) == 1) else ROUND_DEFAULTS[r][0]
        if profile is not None and round is None:
            n = max(1, round_questions(r, profile.rounds.get(r, 0.25)))
        picked = select_questions(bank, r, n, profile=profile, weak_topics=weak, recent=recent, exclude=used, seed=seed)
        if not picked:
            continue
        used.update(q.id for q in picked)
        plan = RoundPlan.default(r, [q.id for q in picked], minutes if len(chosen) == 1 else None, question_minutes)
        if minutes is None and r == "breadth":
            plan.round_seconds = max(plan.round_seconds, plan.question_seconds * len(picked))
        plans.append(plan)
    if not plans:
        raise ValueError("the question bank has no questions for that round")
    return plans


def round_questions(r: str, weight: float) -> int:
    base = ROUND_DEFAULTS[r][0]
    return max(1, round(base * min(1.5, 0.5 + weight)))
