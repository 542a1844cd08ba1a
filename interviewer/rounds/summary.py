"""End-of-session summary: scores per criterion, topic and round, and what to study next."""

from __future__ import annotations

from collections import defaultdict

from interviewer.bank import Bank


def notes_for_topics(topics: list[str], limit: int = 5) -> list[dict]:
    """Bundled notes whose front matter names one of these topics, best match first."""
    from interviewer.knowledge.notes import note_index

    scored = []
    for note in note_index():
        overlap = len(set(note["topics"]) & set(topics))
        if overlap:
            scored.append((overlap, note))
    scored.sort(key=lambda x: (-x[0], x[1]["title"]))
    return [n for _, n in scored[:limit]]


def build_summary(state, bank: Bank) -> dict:
    questions = []
    by_round: dict[str, list[float]] = defaultdict(list)
    by_topic: dict[str, list[float]] = defaultdict(list)
    criteria = []
    for a in state.attempts:
        q = bank.get(a.question_id)
        if q is None or a.grade is None:
            continue
        score = a.grade["score"]
        by_round[q.round].append(score)
        for t in q.topics:
            by_topic[t].append(score)
        for c in a.grade["criteria"]:
            criteria.append({"question_id": q.id, **{k: c[k] for k in ("id", "awarded", "points", "feedback")}})
        questions.append(
            {
                "question_id": q.id,
                "round": q.round,
                "prompt": q.prompt,
                "answer": a.full_answer(),
                "score": score,
                "criteria": a.grade["criteria"],
                "feedback": a.grade.get("feedback", ""),
                "reference_answer": q.reference_answer,
                "timed_out": a.timed_out,
                "hints": a.hints,
                "seconds": round(a.elapsed, 1),
                "notices": a.grade.get("notices", []),
            }
        )
    topic_scores = {t: round(sum(v) / len(v), 2) for t, v in by_topic.items()}
    weak = sorted(topic_scores, key=lambda t: topic_scores[t])
    weak = [t for t in weak if topic_scores[t] < 7.5][:4]
    scores = [q["score"] for q in questions]
    return {
        "mode": state.mode,
        "questions": questions,
        "mean_score": round(sum(scores) / len(scores), 2) if scores else None,
        "by_round": {r: round(sum(v) / len(v), 2) for r, v in by_round.items()},
        "by_topic": topic_scores,
        "criteria": criteria,
        "study_next": [{"topic": t, "score": topic_scores[t], "notes": notes_for_topics([t], 3)} for t in weak],
    }
