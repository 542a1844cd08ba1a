"""The question bank: load, validate, select.

Bank files are YAML under corpus/questions/ (and the user's own questions under INTERVIEWER_HOME),
each a mapping with a `questions:` list in DESIGN.md's format. One bad entry never stops the
bank from loading: it is skipped and reported as a warning, and `interviewer bank lint` names it.
"""

from __future__ import annotations

import functools
import hashlib
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import yaml
from pydantic import ValidationError

from interviewer.schema import LEVELS, Question, RoleProfile
from interviewer.settings import corpus_dir

# libyaml's loader is ~10x faster than the pure-Python one on the whole bank.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def yaml_load(text: str):
    return yaml.load(text, Loader=_Loader)


@dataclass
class BankIssue:
    path: str
    question_id: str | None
    problem: str
    severity: str = "error"  # error | warning

    def line(self) -> str:
        where = f"{self.path}" + (f" [{self.question_id}]" if self.question_id else "")
        return f"{self.severity}: {where}: {self.problem}"


@dataclass
class Bank:
    questions: dict[str, Question] = field(default_factory=dict)
    issues: list[BankIssue] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # question id -> file it came from

    def __len__(self) -> int:
        return len(self.questions)

    def get(self, qid: str) -> Question | None:
        return self.questions.get(qid)

    def filter(
        self,
        round: str | None = None,
        topic: str | None = None,
        domain: str | None = None,
        level: str | None = None,
    ) -> list[Question]:
        out = []
        for q in self.questions.values():
            if round and q.round != round:
                continue
            if topic and topic not in q.topics:
                continue
            if domain and domain not in q.domains:
                continue
            if level and q.level != level:
                continue
            out.append(q)
        return sorted(out, key=lambda q: q.id)

    def counts(self) -> dict[str, int]:
        return dict(Counter(q.round for q in self.questions.values()))


def _format_validation(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "entry"
        parts.append(f"{loc}: {e['msg']}")
    return "; ".join(parts)


@functools.lru_cache(maxsize=1)
def topics() -> list[dict]:
    path = corpus_dir() / "topics.yaml"
    return yaml_load(path.read_text(encoding="utf-8"))["topics"]


def _topic_ids() -> set[str]:
    return {t["id"] for t in topics()}


def load_file(path: Path, bank: Bank, known_topics: set[str] | None = None, source: str = "bank") -> None:
    rel = str(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        bank.issues.append(BankIssue(rel, None, "file is not UTF-8 text; re-save it as UTF-8"))
        return
    except OSError as exc:
        bank.issues.append(BankIssue(rel, None, f"cannot read file: {exc.strerror}"))
        return
    try:
        data = yaml_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        bank.issues.append(BankIssue(rel, None, f"malformed YAML{where}: {getattr(exc, 'problem', exc)}"))
        return
    if data is None:
        return
    entries = data.get("questions") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        bank.issues.append(BankIssue(rel, None, "expected a mapping with a `questions:` list"))
        return
    for i, entry in enumerate(entries):
        qid = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(entry, dict):
            bank.issues.append(BankIssue(rel, None, f"entry {i + 1} is not a mapping"))
            continue
        entry = dict(entry)
        entry.setdefault("source", source)
        try:
            q = Question.model_validate(entry)
        except ValidationError as exc:
            bank.issues.append(BankIssue(rel, qid or f"#{i + 1}", _format_validation(exc)))
            continue
        if known_topics is not None:
            unknown = [t for t in q.topics if t not in known_topics]
            if unknown:
                bank.issues.append(
                    BankIssue(rel, q.id, f"unknown topics {unknown}; use ids from corpus/topics.yaml", "warning")
                )
        if q.id in bank.questions:
            bank.issues.append(BankIssue(rel, q.id, f"duplicate id (also in {bank.files[q.id]}); skipped"))
            continue
        bank.questions[q.id] = q
        bank.files[q.id] = rel


def load_bank(extra_dirs: Iterable[Path] = ()) -> Bank:
    """Load the bundled bank plus any extra folders (the user's own questions)."""
    bank = Bank()
    known = _topic_ids()
    roots = [(corpus_dir() / "questions", "bank")] + [(Path(d), "journal") for d in extra_dirs]
    for root, source in roots:
        if not root.exists():
            continue
        for path in sorted(root.rglob("*.y*ml")):
            load_file(path, bank, known, source)
    return bank


# --- selection -----------------------------------------------------------------------------

LEVEL_INDEX = {lvl: i for i, lvl in enumerate(LEVELS)}


def selection_weight(
    q: Question,
    profile: RoleProfile | None,
    weak_topics: dict[str, float] | None = None,
    recent: set[str] | None = None,
) -> float:
    """How much a question deserves a place in this candidate's round.

    Focus topics and domains of the role pull a question up, weak topics from the journal pull it
    up further, a level far from the role's pushes it down, and questions seen in recent sessions
    are damped (not banned) so sessions vary without starving a small pool.
    """
    w = 1.0
    if profile is not None:
        focus = {f.topic: f.weight for f in profile.focus}
        hits = [focus[t] for t in q.topics if t in focus]
        if hits:
            w *= 1.0 + 2.0 * max(hits)
        if q.domains:
            # Another domain's question: a specialist's interviewers stay in their own domain;
            # a generalist may still meet one.
            off = 0.1 if profile.specialization == "specialist" and profile.domains else 0.35
            w *= 2.0 if set(q.domains) & set(profile.domains) else off
        gap = abs(LEVEL_INDEX[q.level] - LEVEL_INDEX[profile.level])
        w *= (1.0, 0.6, 0.2, 0.08)[gap]
    else:
        # No role given: a general round leans to entry and mid questions.
        w *= {"entry": 1.0, "mid": 1.0, "senior": 0.6, "staff": 0.3}[q.level]
    if weak_topics:
        weakness = max((weak_topics.get(t, 0.0) for t in q.topics), default=0.0)
        w *= 1.0 + 2.0 * weakness
    if recent and q.id in recent:
        w *= 0.15
    return w


def select_questions(
    bank: Bank,
    round: str,
    n: int,
    profile: RoleProfile | None = None,
    weak_topics: dict[str, float] | None = None,
    recent: set[str] | None = None,
    exclude: set[str] | None = None,
    seed: int | None = None,
) -> list[Question]:
    """Weighted sampling without replacement; never repeats a question within one call."""
    pool = [q for q in bank.filter(round=round) if not exclude or q.id not in exclude]
    rng = random.Random(seed)
    chosen: list[Question] = []
    weights = [selection_weight(q, profile, weak_topics, recent) for q in pool]
    # Spread topics: after a topic is picked, its other questions are damped for this session.
    picked_topics: Counter[str] = Counter()
    while pool and len(chosen) < n:
        adj = [w / (1.0 + 1.5 * sum(picked_topics[t] for t in q.topics)) for q, w in zip(pool, weights)]
        i = rng.choices(range(len(pool)), weights=adj, k=1)[0]
        q = pool.pop(i)
        weights.pop(i)
        chosen.append(q)
        picked_topics.update(q.topics)
    return chosen


def bank_fingerprint(q: Question) -> str:
    """A stable hash of the parts of a question that change a grade (for eval caching)."""
    payload = q.prompt + "\x00" + q.reference_answer + "\x00" + "".join(
        f"{c.id}:{c.points}:{c.criterion}" for c in q.rubric
    ) + ("\x00" + "\x00".join(q.misconceptions) if q.misconceptions else "")
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
