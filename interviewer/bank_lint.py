"""`interviewer bank lint`: problems in the question bank, each naming the file and question.

Errors fail CI: schema errors, duplicate ids, rubric size outside 3-6, a coding reference that
fails its own tests, a coding question whose tests do not import. Warnings are for a human to
judge: near-duplicate questions, criteria that ask two things at once or repeat another,
misconceptions that deny rather than assert or that read like the reference answer, and reference
answers the offline grader scores under 9.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from interviewer.bank import Bank
from interviewer.chains.answer_text import denies, split_sentences

NEAR_DUPLICATE = 0.92  # cosine similarity of two prompts above which they read as the same question
CRITERION_REPEAT = 0.90
MISCONCEPTION_TOO_CLOSE = 0.93  # a wrong claim this close to a reference sentence would catch right answers
REFERENCE_MIN_SCORE = 9.0

# "X and Y" is fine when Y qualifies X; two separate verbs of assessment joined by "and" is not.
_DOUBLE = re.compile(
    r"\b(explains?|defines?|names?|describes?|states?|gives?|compares?|identifies?|proposes?|mentions?)\b[^.;]*\b(and|as well as)\s+(also\s+)?(explains?|defines?|names?|describes?|states?|gives?|compares?|identifies?|proposes?|mentions?)\b",
    re.I,
)


def lint_bank(bank: Bank, grader=None, run_coding: bool = True) -> dict:
    issues = [{"severity": i.severity, "path": i.path, "question_id": i.question_id, "problem": i.problem} for i in bank.issues]
    qs = list(bank.questions.values())

    def add(q, problem, severity="warning"):
        issues.append({"severity": severity, "path": bank.files.get(q.id, ""), "question_id": q.id, "problem": problem})

    for q in qs:
        total = q.total_points
        if not 3 <= len(q.rubric) <= 6:
            add(q, f"rubric has {len(q.rubric)} criteria (3-6 required)", "error")
        if total <= 0:
            add(q, "rubric total points must be positive", "error")
        for c in q.rubric:
            if _DOUBLE.search(c.criterion):
                add(q, f"criterion {c.id} seems to ask two things at once: {c.criterion!r}")
        if q.round in ("depth", "system_design") and len(q.follow_ups) < 3:
            add(q, f"{q.round} question has {len(q.follow_ups)} follow-ups (at least 3 expected)")
        if q.round == "system_design" and not q.stages:
            add(q, "system design question has no stages checklist")
        if q.round == "coding" and not any(c.id == "correctness" for c in q.rubric):
            add(q, "coding rubric has no `correctness` criterion (scored from the tests)")
        for m in q.misconceptions:
            if denies(m):
                add(q, f"misconception {m!r} contains a denial; state the wrong claim positively, as a candidate would")

    # embedding checks: near-duplicate prompts, repeated criteria within a question
    try:
        from interviewer.embedding import get_embedder

        emb = get_embedder()
        prompts = emb.encode([q.prompt for q in qs])
        sim = prompts @ prompts.T
        np.fill_diagonal(sim, 0)
        for i, j in zip(*np.where(np.triu(sim) > NEAR_DUPLICATE)):
            add(qs[i], f"near-duplicate of {qs[j].id} (similarity {sim[i, j]:.2f})")
        for q in qs:
            v = emb.encode([c.criterion for c in q.rubric])
            s = v @ v.T
            np.fill_diagonal(s, 0)
            for i, j in zip(*np.where(np.triu(s) > CRITERION_REPEAT)):
                add(q, f"criteria {q.rubric[i].id} and {q.rubric[j].id} say nearly the same thing ({s[i, j]:.2f})")
            if q.misconceptions and q.round != "coding":
                ref = emb.encode(split_sentences(q.reference_answer))
                close = (emb.encode(q.misconceptions) @ ref.T).max(axis=1)
                for m, c in zip(q.misconceptions, close):
                    if c > MISCONCEPTION_TOO_CLOSE:
                        add(q, f"misconception {m!r} reads almost like the reference answer ({c:.2f}); correct answers could be taken for it")
    except Exception as exc:  # noqa: BLE001 - lint still reports the rest
        issues.append({"severity": "warning", "path": "", "question_id": None, "problem": f"embedding checks skipped: {exc}"})

    # coding references must pass their own tests
    coding = [q for q in qs if q.round == "coding"]
    if run_coding and coding:
        from interviewer.rounds.sandbox import run_tests

        def check(q):
            return q, run_tests(q.reference_answer, q.tests or "")

        with ThreadPoolExecutor(max_workers=2) as pool:
            for q, rep in pool.map(check, coding):
                if rep.status not in ("ok",) or rep.failed or rep.errors or rep.passed == 0:
                    detail = rep.message or "; ".join(f"{r.name}: {r.message[:80]}" for r in rep.results if r.outcome != "passed")[:300]
                    add(q, f"reference solution fails its own tests ({rep.passed} passed, {rep.failed} failed, {rep.errors} errors): {detail}", "error")
                elif rep.passed < 5:
                    add(q, f"only {rep.passed} hidden tests (at least 5 expected)")

    # reference answers should earn (nearly) full marks from the grader
    if grader is not None:
        for q in qs:
            if q.round == "coding":
                continue
            g = grader.grade(q, q.reference_answer)
            if g.score < REFERENCE_MIN_SCORE:
                low = [c.id for c in g.criteria if c.awarded < c.points]
                add(q, f"reference answer scores {g.score:.1f} < {REFERENCE_MIN_SCORE:g} with the {g.grader} grader (short on: {', '.join(low)})")

    errors = sum(1 for i in issues if i["severity"] == "error")
    return {
        "questions": len(qs),
        "counts": bank.counts(),
        "errors": errors,
        "warnings": len(issues) - errors,
        "issues": sorted(issues, key=lambda i: (i["severity"] != "error", i["path"], i["question_id"] or "")),
    }
