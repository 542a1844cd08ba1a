"""The rubric drafter: a question from a real interview becomes a bank-format practice question.

- LLMRubricDrafter: the configured model drafts the rubric (3-6 criteria, points summing to 10),
  a reference answer, topics, level, domains and follow-ups, as structured output.
- check_draft: what a model returns is checked against the bank format before anything is
  saved. What can be repaired safely is (ids made into slugs, points rescaled to sum to 10,
  unknown topics dropped, an unknown level made `mid`), each repair said in a notice; what cannot
  (too few or too many criteria, empty criteria, points that are not positive, no reference
  answer) rejects the draft with one line, and the caller falls back to the generic rubric.
- generic_rubric: the offline rubric, the same three parts for any question.

The question and the candidate's notes are delimited in the prompt; they are the candidate's own
text, but a pasted question can carry anything.
"""

from __future__ import annotations

import re
import secrets

from pydantic import BaseModel, Field

from interviewer.chains.answer_text import denies
from interviewer.schema import DOMAINS, LEVELS

PROMPT_NAME = "rubric_drafter"
TOTAL_POINTS = 10.0
MIN_CRITERIA, MAX_CRITERIA = 3, 6


class DraftCriterion(BaseModel):
    id: str = Field(description="short lowercase slug, unique in the rubric")
    criterion: str = Field(description="one checkable sentence: what a full-credit answer shows")
    points: float = Field(description="positive, whole or half; all criteria sum to 10")


class RubricDraft(BaseModel):
    criteria: list[DraftCriterion]
    reference_answer: str = Field(description="plain prose that earns full marks on every criterion, in rubric order")
    topics: list[str] = Field(default_factory=list, description="one to three topic ids from the list given")
    level: str = Field(default="mid", description="entry | mid | senior | staff")
    domains: list[str] = Field(default_factory=list, description="optional: recsys, ads, nlp, cv, autonomy, tabular, speech")
    follow_ups: list[str] = Field(default_factory=list, description="two to four deeper questions an interviewer would ask next")
    misconceptions: list[str] = Field(default_factory=list, description="two to four confident wrong claims a candidate might make, stated positively")


class DraftRejected(ValueError):
    """The model's draft cannot become a valid bank question; the message says why in one line."""


def generic_rubric() -> list[dict]:
    return [
        {"id": "core", "criterion": "States the core idea the question asks about, correctly and precisely.", "points": 4},
        {"id": "reasoning", "criterion": "Explains why it works or when it applies, with the key trade-off.", "points": 3},
        {"id": "example", "criterion": "Grounds the answer in a concrete example, number or failure case.", "points": 3},
    ]


def slug(text: str, limit: int = 40) -> str:
    """Lowercase words joined by hyphens, cut at a word boundary within `limit` when there is one."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(s) > limit:
        cut = s[: limit + 1].rfind("-")
        s = s[: cut if cut > 0 else limit]
    return s.strip("-")


def _halves(x: float) -> float:
    return round(x * 2) / 2


def rescale_points(points: list[float], total: float = TOTAL_POINTS) -> list[float]:
    """Scale positive points to halves summing exactly to `total`, each at least 0.5.

    Largest remainder, counted in half points: each criterion keeps the whole halves of its
    share, and the halves left over go to the criteria that lost the most to rounding down.
    """
    halves = round(total * 2)
    raw = [p * halves / sum(points) for p in points]
    out = [max(1, int(x)) for x in raw]
    k = 0
    while (left := halves - sum(out)) != 0 and k < 10 * halves:
        if left > 0:
            i = max(range(len(out)), key=lambda j: raw[j] - out[j])
            out[i] += 1
        else:  # the one-half minimum overshot: take back from who is most over its share
            i = min((j for j in range(len(out)) if out[j] > 1), key=lambda j: raw[j] - out[j])
            out[i] -= 1
        k += 1
    return [h / 2 for h in out]


def check_draft(draft: RubricDraft, known_topics: set[str]) -> tuple[dict, list[str]]:
    """(the parts of a bank entry the draft supplies, notices about repairs) or DraftRejected."""
    notices: list[str] = []
    crits = []
    for c in draft.criteria:
        text = " ".join((c.criterion or "").split())
        if len(text) < 10:
            raise DraftRejected(f"criterion {c.id or len(crits) + 1!r} is empty or too short to grade against")
        crits.append((c.id, text, c.points))
    if not MIN_CRITERIA <= len(crits) <= MAX_CRITERIA:
        raise DraftRejected(f"the draft has {len(crits)} criteri{'on' if len(crits) == 1 else 'a'} ({MIN_CRITERIA}-{MAX_CRITERIA} allowed)")
    bad = [cid or str(i + 1) for i, (cid, _, p) in enumerate(crits) if not p or p <= 0]
    if bad:
        raise DraftRejected(f"criteria {', '.join(bad)} have no positive points")
    points = [float(p) for _, _, p in crits]
    if abs(sum(points) - TOTAL_POINTS) > 1e-9 or any(_halves(p) != p for p in points):
        new = rescale_points(points)
        notices.append(f"points rescaled to halves summing to {TOTAL_POINTS:g} (the draft had {', '.join(f'{p:g}' for p in points)})")
        points = new
    ids: list[str] = []
    for i, (cid, text, _) in enumerate(crits):
        base = slug(cid or "") or slug(text, 24) or f"criterion-{i + 1}"
        new_id, n = base, 2
        while new_id in ids:
            new_id, n = f"{base}-{n}", n + 1
        ids.append(new_id)
    reference = (draft.reference_answer or "").strip()
    if len(reference) < 20:
        raise DraftRejected("the draft has no reference answer")
    topics = []
    for t in draft.topics:
        t = slug(t or "")
        if t in known_topics and t not in topics:
            topics.append(t)
    dropped = [t for t in draft.topics if slug(t or "") not in known_topics]
    if dropped:
        notices.append(f"dropped topics not in corpus/topics.yaml: {', '.join(dropped)}")
    level = (draft.level or "").strip().lower()
    if level not in LEVELS:
        notices.append(f"level {draft.level!r} is not one of {', '.join(LEVELS)}; set to mid")
        level = "mid"
    domains = [d for d in dict.fromkeys((d or "").strip().lower() for d in draft.domains) if d in DOMAINS]
    follow_ups = [" ".join(f.split()) for f in draft.follow_ups if len((f or "").strip()) >= 10][:4]
    # A misconception that denies ("X is not Y") would be ignored by the offline grader, which
    # only checks sentences that assert; drop those rather than keep a check that never fires.
    misconceptions = [" ".join(m.split()) for m in draft.misconceptions if 6 <= len((m or "").split()) <= 40 and not denies(m)][:4]
    if len(misconceptions) < len(draft.misconceptions):
        notices.append(f"kept {len(misconceptions)} of {len(draft.misconceptions)} drafted misconceptions (each must assert a wrong claim in 6-40 words)")
    rubric = [{"id": i, "criterion": text, "points": _num(p)} for i, (_, text, _), p in zip(ids, crits, points)]
    return {"rubric": rubric, "reference_answer": reference, "topics": topics[:3], "level": level, "domains": domains, "follow_ups": follow_ups, "misconceptions": misconceptions}, notices


def _num(p: float) -> float | int:
    """4.0 -> 4 so the YAML reads as a person would write it."""
    return int(p) if float(p).is_integer() else p


class LLMRubricDrafter:
    def __init__(self, llm):
        self.llm = llm

    def build_messages(self, round: str, question: str, notes: str, topic_ids: list[str]):
        from langchain_core.messages import HumanMessage, SystemMessage

        from interviewer.chains.prompting import load_prompt

        prompt = load_prompt(PROMPT_NAME)
        nonce = secrets.token_hex(4)
        open_tag, close_tag = f"<text-{nonce}>", f"</text-{nonce}>"

        def safe(s: str) -> str:
            return re.sub(r"</?\s*text[^>]*>", "[tag removed]", s, flags=re.I)

        user = prompt.render_user(
            round=round,
            question=safe(question),
            notes=safe(notes) if notes.strip() else "(none)",
            topics=", ".join(topic_ids),
            open_tag=open_tag,
            close_tag=close_tag,
        )
        return [SystemMessage(content=prompt.system), HumanMessage(content=user)], prompt.version

    def draft(self, round: str, question: str, notes: str, known_topics: set[str]) -> tuple[dict, list[str], str]:
        """(entry parts, notices, prompt version); LLMError when the endpoint fails,
        DraftRejected when what it returned cannot be a bank question."""
        messages, version = self.build_messages(round, question, notes, sorted(known_topics))
        draft = self.llm.structured(RubricDraft, messages, purpose="draft_rubric")
        parts, notices = check_draft(draft, known_topics)
        return parts, notices, version
