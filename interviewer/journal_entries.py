"""`interviewer journal add`: the candidate's own questions, papers, posts and key points."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from interviewer.errors import UserError

KINDS = ("question", "paper", "post", "point")
PLACEHOLDER_REFERENCE = "(No reference answer yet: write yours here, or add the question again with --body.)"


def add_entry(svc, kind: str, title: str, body: str, source: str | None, topics: list[str], round: str, rubric_file: str | None = None) -> str:
    if kind not in KINDS:
        raise UserError(f"unknown entry kind {kind!r}", f"use one of {', '.join(KINDS)}")
    if not title.strip():
        raise UserError("the entry needs a title", "for a question, the question itself")
    j = svc.journal
    if kind == "question":
        return add_question(svc, title, body, topics, round, rubric_file).message
    if kind in ("paper", "post") and source:
        if not Path(source).exists():
            raise UserError(f"{source} does not exist", "pass the saved post or paper file with --source")
        eid = j.add_entry(kind, title, body, source)
        from interviewer.knowledge.ingest import ingest

        try:
            report = ingest([Path(source)], config=svc.config)
        except UserError as exc:  # the entry is saved either way; say why the index was not
            return f"saved entry {eid}; not indexed: {exc.message} ({exc.hint}); run `interviewer ingest {source}` later"
        if report.failed:
            return f"saved entry {eid}; not indexed: {report.failed[0]['reason']}"
        return f"saved entry {eid} and indexed {source} for search and feedback"
    eid = j.add_entry(kind, title, body, source)
    return f"saved entry {eid}"


@dataclass
class QuestionAdded:
    """What `journal add question` did: the practice question it wrote, and how its rubric came about."""

    entry_id: int
    question_id: str | None = None
    path: Path | None = None
    question: dict | None = None
    rubric_source: str = "generic"  # drafted | yours | generic
    drafted_by: str | None = None  # the model that drafted the rubric
    prompt_version: str | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        if self.path is None:
            return (
                f"saved entry {self.entry_id}; a coding question needs starter code and hidden tests to be practised, "
                "so it is kept in your journal only (to practise it, write a bank file: see corpus/questions/README.md)"
            )
        return f"saved question {self.question_id} to {self.path}; it is now in your practice pool"

    @property
    def rubric_line(self) -> str:
        if self.path is None:
            return ""
        if self.rubric_source == "drafted":
            return f"rubric drafted by {self.drafted_by}, edit {self.path} to change it"
        if self.rubric_source == "yours":
            return f"your rubric, saved in {self.path}"
        return f"generic rubric, edit {self.path} to fit this question"

    def to_json(self) -> dict:
        return {
            "entry_id": self.entry_id,
            "question_id": self.question_id,
            "path": str(self.path) if self.path else None,
            "practice": self.path is not None,
            "rubric_source": self.rubric_source,
            "drafted_by": self.drafted_by,
            "prompt_version": self.prompt_version,
            "question": self.question,
            "notices": self.notices,
            "message": self.message,
        }


def add_question(svc, title: str, body: str, topics: list[str], round: str, rubric_file: str | None = None) -> QuestionAdded:
    """A question from a real interview becomes a practice question under INTERVIEWER_HOME.

    The rubric is the candidate's own (--rubric FILE), else drafted by the configured model,
    else a generic three-part one. The candidate's answer (--body) is the reference when given.
    A failing endpoint or an unusable draft falls back to the generic rubric with a notice: the
    question is saved either way.
    """
    from interviewer.bank import topics as topic_vocabulary
    from interviewer.schema import ROUNDS

    title = " ".join(title.split())
    if len(title) < 10:
        raise UserError("the question is too short to practise (10 characters at least)", "write the question as you were asked it")
    if round not in ROUNDS:
        raise UserError(f"unknown round {round!r}", f"use --round with one of {', '.join(ROUNDS)}")
    known = {t["id"] for t in topic_vocabulary()}
    bad = [t for t in topics if t not in known]
    if bad:
        raise UserError(f"unknown topics {bad}", "see corpus/topics.yaml for the topic ids")
    own_rubric = load_rubric_file(rubric_file) if rubric_file else None
    j = svc.journal
    if round == "coding":
        eid = j.add_entry("question", title, body, None, None)
        return QuestionAdded(entry_id=eid)

    notices: list[str] = []
    parts: dict = {}
    result = QuestionAdded(entry_id=0)
    if own_rubric is not None:
        parts["rubric"] = own_rubric
        result.rubric_source = "yours"
    elif svc.llm is not None:
        parts = _draft(svc, round, title, body, known, notices, result)
    if not parts.get("rubric"):
        from interviewer.chains.rubric_drafter import generic_rubric

        parts["rubric"] = generic_rubric()
    entry = _entry(round, title, body, topics, parts)
    question = _validated(entry)
    if question is None and result.rubric_source == "drafted":
        # Checked field by field already; whatever still slipped through, the generic rubric is safe.
        notices.append("the drafted question did not pass the bank format; used the generic rubric instead")
        result.rubric_source, result.drafted_by, result.prompt_version = "generic", None, None
        from interviewer.chains.rubric_drafter import generic_rubric

        entry = _entry(round, title, body, topics, {"rubric": generic_rubric()})
        question = _validated(entry)
    if question is None:
        eid = j.add_entry("question", title, body, None, None)  # kept in the journal whatever happens
        raise UserError(f"that question cannot be saved in the bank format (kept as journal entry {eid})", "check the rubric file (see corpus/questions/README.md)")

    from interviewer.settings import home_dir

    folder = home_dir() / "questions"
    folder.mkdir(parents=True, exist_ok=True)
    qid, path = _free_id(folder, entry["id"])
    entry["id"] = qid
    path.write_text(_header(result, rubric_file) + yaml.safe_dump({"questions": [entry]}, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
    result.entry_id = j.add_entry("question", title, body, str(path), qid)
    result.question_id, result.path, result.question, result.notices = qid, path, entry, notices
    return result


def _draft(svc, round: str, title: str, body: str, known: set[str], notices: list[str], result: QuestionAdded) -> dict:
    from interviewer.chains.rubric_drafter import DraftRejected, LLMRubricDrafter
    from interviewer.llm import LLMError

    try:
        parts, repairs, version = LLMRubricDrafter(svc.llm).draft(round, title, body, known)
    except LLMError as exc:
        notices.append(f"the model endpoint failed ({exc.message}); used the generic rubric instead")
        return {}
    except DraftRejected as exc:
        notices.append(f"the drafted rubric was rejected ({exc}); used the generic rubric instead")
        return {}
    finally:
        try:
            svc.journal.log_llm_calls(svc.llm.usage.records)
            svc.llm.usage.records.clear()
        except UserError:
            pass  # the call log is bookkeeping: never a reason to lose the question
    notices.extend(repairs)
    result.rubric_source, result.drafted_by, result.prompt_version = "drafted", svc.llm.model_name, version
    return parts


def _entry(round: str, title: str, body: str, topics: list[str], parts: dict) -> dict:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:50].strip("-") or "question"
    own = body.strip()
    reference = own if len(own) >= 20 else parts.get("reference_answer") or (f"{own} {PLACEHOLDER_REFERENCE}" if own else PLACEHOLDER_REFERENCE)
    chosen = topics or parts.get("topics") or _topics_from_text(title + "\n" + body) or ["statistics"]
    entry = {
        "id": f"{round}.mine-{slug}",
        "round": round,
        "topics": chosen[:3],
        "domains": parts.get("domains", []),
        "level": parts.get("level", "mid"),
        "prompt": title,
        "rubric": parts["rubric"],
        "reference_answer": reference,
    }
    if parts.get("follow_ups"):
        entry["follow_ups"] = parts["follow_ups"]
    if parts.get("misconceptions") and round != "coding":
        entry["misconceptions"] = parts["misconceptions"]
    return entry


def _topics_from_text(text: str) -> list[str]:
    """Topic ids whose cue phrases (the role analyzer's lexicon) the question names, most hits first."""
    try:
        from interviewer.chains.role_analyzer import TOPIC_CUES
    except ImportError:
        return []
    hits = []
    for topic, cue in TOPIC_CUES.items():
        n = sum(1 for _ in cue.regex.finditer(text))
        if n:
            hits.append((-n, topic))
    return [t for _, t in sorted(hits)][:3]


def _validated(entry: dict):
    from pydantic import ValidationError

    from interviewer.schema import Question

    try:
        return Question.model_validate(entry)
    except ValidationError:
        return None


def _free_id(folder: Path, qid: str) -> tuple[str, Path]:
    """The id, or id-2, id-3...: adding the same question twice never overwrites the first file."""
    base, n = qid, 2
    while (folder / f"{qid}.yaml").exists():
        qid, n = f"{base}-{n}", n + 1
    return qid, folder / f"{qid}.yaml"


def _header(result: QuestionAdded, rubric_file: str | None) -> str:
    if result.rubric_source == "drafted":
        first = f"# Rubric and reference drafted by {result.drafted_by} ({result.prompt_version}) from a question you were asked."
    elif result.rubric_source == "yours":
        first = f"# Your rubric, from {rubric_file}."
    else:
        first = "# A generic rubric: edit it to fit this question."
    return first + "\n# Edit this file to change it; `interviewer bank lint` checks it.\n"


def load_rubric_file(path_text: str) -> list[dict]:
    """A rubric the candidate wrote: a YAML list of {id, criterion, points}, or a mapping with `rubric:`."""
    from interviewer.bank import yaml_load
    from interviewer.chains.rubric_drafter import MAX_CRITERIA, MIN_CRITERIA, slug

    path = Path(path_text)
    if not path.is_file():
        raise UserError(f"rubric file {path_text} does not exist", "check the path")
    try:
        data = yaml_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UserError(f"{path_text} is not UTF-8 text", "re-save it as UTF-8")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UserError(f"{path_text} is not valid YAML{f' (line {mark.line + 1})' if mark else ''}", "fix the file")
    items = data.get("rubric") if isinstance(data, dict) else data
    hint = "write 3-6 items like `- {id: core, criterion: \"States ...\", points: 4}`"
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise UserError(f"{path_text} holds no rubric list", hint)
    if not MIN_CRITERIA <= len(items) <= MAX_CRITERIA:
        raise UserError(f"{path_text} has {len(items)} criteri{'on' if len(items) == 1 else 'a'} ({MIN_CRITERIA}-{MAX_CRITERIA} allowed)", hint)
    out: list[dict] = []
    for n, item in enumerate(items, 1):
        text = " ".join(str(item.get("criterion") or "").split())
        if len(text) < 10:
            raise UserError(f"{path_text}: criterion {n} is empty or shorter than 10 characters", "say in one sentence what a full answer shows")
        try:
            points = float(item.get("points"))
        except (TypeError, ValueError):
            raise UserError(f"{path_text}: criterion {n} has no number of points", "give each criterion `points:`, e.g. 3")
        if points <= 0 or points > 10 or round(points * 2) != points * 2:
            raise UserError(f"{path_text}: criterion {n} has {points:g} points", "use whole or half points between 0.5 and 10")
        cid = slug(str(item.get("id") or "")) or slug(text, 24) or f"criterion-{n}"
        while cid in {c["id"] for c in out}:
            cid += f"-{n}"
        out.append({"id": cid, "criterion": text, "points": int(points) if points.is_integer() else points})
    return out
