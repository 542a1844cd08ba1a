"""`interviewer journal add`: the candidate's own questions, papers, posts and key points."""

from __future__ import annotations

import re

import yaml

from interviewer.errors import UserError

KINDS = ("question", "paper", "post", "point")


def add_entry(svc, kind: str, title: str, body: str, source: str | None, topics: list[str], round: str) -> str:
    if kind not in KINDS:
        raise UserError(f"unknown entry kind {kind!r}", f"use one of {', '.join(KINDS)}")
    if not title.strip():
        raise UserError("the entry needs a title", "for a question, the question itself")
    j = svc.journal
    if kind == "question":
        return _add_question(svc, title, body, topics, round)
    if kind in ("paper", "post") and source:
        from pathlib import Path

        if not Path(source).exists():
            raise UserError(f"{source} does not exist", "pass the saved post or paper file with --source")
        eid = j.add_entry(kind, title, body, source)
        try:
            from interviewer.knowledge.ingest import ingest_paths

            report = ingest_paths([Path(source)])
            failed = report.get("failed") if isinstance(report, dict) else getattr(report, "failed", [])
            if failed:
                return f"saved entry {eid}; ingest failed: {failed[0]}"
        except ImportError:
            return f"saved entry {eid} (retrieval layer unavailable: not indexed)"
        return f"saved entry {eid} and indexed {source} for search and feedback"
    eid = j.add_entry(kind, title, body, source)
    return f"saved entry {eid}"


def _add_question(svc, title: str, body: str, topics: list[str], round: str) -> str:
    """A question from a real interview becomes a practice question under INTERVIEWER_HOME.

    With an LLM, its rubric is drafted by the grader model; offline, the candidate's own answer
    (--body) becomes the reference and a generic three-part rubric is used.
    """
    from interviewer.settings import home_dir

    from interviewer.bank import topics

    known = {t["id"] for t in topics()}
    bad = [t for t in topics if t not in known]
    if bad:
        raise UserError(f"unknown topics {bad}", "see corpus/topics.yaml for the topic ids")
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:50] or "question"
    qid = f"{round}.mine-{slug}"
    reference = body.strip() or "(write your own reference answer with `interviewer journal add question ... --body`)"
    rubric = [
        {"id": "core", "criterion": "States the core idea the question asks about, correctly and precisely.", "points": 4},
        {"id": "reasoning", "criterion": "Explains why it works or when it applies, with the key trade-off.", "points": 3},
        {"id": "example", "criterion": "Grounds the answer in a concrete example, number or failure case.", "points": 3},
    ]
    entry = {"id": qid, "round": round, "topics": topics or ["statistics"], "domains": [], "level": "mid", "prompt": title.strip(), "rubric": rubric, "reference_answer": reference if len(reference) >= 20 else reference + " " * (20 - len(reference))}
    folder = home_dir() / "questions"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{qid}.yaml"
    path.write_text(yaml.safe_dump({"questions": [entry]}, sort_keys=False, allow_unicode=True), encoding="utf-8")
    svc.journal.add_entry("question", title, body, str(path), qid)
    return f"saved question {qid} to {path}; it is now in your practice pool"
