"""The interviewer chain: follow-ups and probes, hints, in one consistent persona.

Offline, follow-ups come from the bank (the one aimed at the weakest criterion) and system
design probes from the stage checklist. With an LLM, the follow-up is generated from the answer
and the criteria it missed, grounded in retrieved notes (and the ingested posts of the company
the candidate is preparing for, when a role profile names one), and streamed to the screen.
"""

from __future__ import annotations

import threading
from typing import Iterator

from interviewer.schema import Grade, Question

PERSONA = "Alex, a senior ML engineer running this interview: direct, friendly, precise"
NOTES_BUDGET = 600  # tokens of retrieved notes: enough to ground one question, cheap to send


def _weakest(q: Question, grade: Grade) -> int:
    ratios = [(g.awarded / g.points if g.points else 1.0, i) for i, g in enumerate(grade.criteria)]
    return min(ratios)[1]


def offline_follow_up(q: Question, grade: Grade, attempt) -> str | None:
    asked = {t.prompt for t in attempt.turns}
    if q.round == "system_design":
        from interviewer.rounds.stages import STAGE_TITLES, coverage, thinnest_stage

        cov = coverage(q, attempt.full_answer())
        stage = thinnest_stage(cov)
        if cov[stage] >= 0.8:
            return None
        detail = (q.stages or {}).get(stage)
        probe = f"Let's go deeper on {STAGE_TITLES[stage].lower()}. " + (
            f"How would you handle it here? I'm looking for something like: {detail.split(';')[0].rstrip('.')}." if detail else "What would you do there?"
        )
        return probe if probe not in asked else None
    remaining = [f for f in q.follow_ups if f not in asked]
    if not remaining:
        return None
    if grade.score >= 9.5:
        return None
    # Follow-ups are written in rubric order where possible: aim at the weakest criterion.
    idx = _weakest(q, grade)
    if len(q.follow_ups) >= len(q.rubric):
        pick = q.follow_ups[idx]
        if pick in remaining:
            return pick
    return remaining[0]


def describe_role(profile) -> str:
    """One line about the role, for the prompt; '(not given)' without a profile."""
    if profile is None:
        return "(not given)"
    parts = [getattr(profile, "level", ""), getattr(profile, "specialization", ""), getattr(profile, "responsibility", ""), "ML role"]
    line = " ".join(p for p in parts if p)
    if getattr(profile, "domains", None):
        line += f" in {', '.join(profile.domains)}"
    if getattr(profile, "company", None):
        line += f" at {profile.company}"
    if getattr(profile, "title", ""):
        line = f"{profile.title} ({line})"
    return line


class LLMInterviewer:
    def __init__(self, llm, retriever=None):
        self.llm = llm
        self.retriever = retriever

    def notes(self, q: Question, grade: Grade, profile=None) -> list:
        """Retrieved chunks for this follow-up: about the question and what the answer missed."""
        if self.retriever is None:
            return []
        missed = " ".join(c.criterion for c, g in zip(q.rubric, grade.criteria) if g.awarded < c.points)
        try:
            return list(self.retriever.context_for(f"{q.prompt} {missed}".strip(), topics=q.topics, profile=profile, budget_tokens=NOTES_BUDGET))
        except Exception:
            return []  # notes are context: a broken index must not cost the candidate a follow-up

    def _messages(self, q: Question, attempt, grade: Grade, profile=None):
        from langchain_core.messages import HumanMessage, SystemMessage

        from interviewer.chains.prompting import load_prompt

        p = load_prompt("interviewer")
        missed = [f"- {c.criterion}" for c, g in zip(q.rubric, grade.criteria) if g.awarded < c.points]
        convo = "\n".join(f"Interviewer: {t.prompt}\nCandidate: {t.answer}" for t in attempt.turns)
        notes = "\n".join(f"[{c.source}] {c.text}" for c in self.notes(q, grade, profile))
        user = p.render_user(
            persona=PERSONA,
            role=describe_role(profile),
            round=q.round,
            question=q.prompt,
            conversation=convo,
            missed="\n".join(missed) or "(none)",
            notes=notes or "(none)",
        )
        return [SystemMessage(content=p.system.replace("{persona}", PERSONA)), HumanMessage(content=user)]

    def follow_up(self, q: Question, attempt, grade: Grade, profile=None) -> str | None:
        text = self.llm.complete(self._messages(q, attempt, grade, profile), purpose="follow_up").strip()
        return text or None

    def stream_follow_up(self, q: Question, attempt, grade: Grade, cancel: threading.Event | None = None, profile=None) -> Iterator[str]:
        yield from self.llm.stream(self._messages(q, attempt, grade, profile), purpose="follow_up", cancel=cancel)
