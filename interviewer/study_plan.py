"""`interviewer plan`: the role's focus combined with the journal -> what to study next."""

from __future__ import annotations


def build_plan(svc, profile=None) -> dict:
    from interviewer.bank import select_questions
    from interviewer.rounds.summary import notes_for_topics

    j = svc.journal
    weak = j.weak_topics()
    progress = j.progress()
    focus = profile.focus_topics() if profile else []
    # Priority: focus topics the candidate is weak on (or has not practised), then other weak topics.
    scored = []
    for t in set(focus) | set(weak):
        w = weak.get(t, 0.6 if t in focus else 0.0)  # unpractised focus topics count as fairly weak
        scored.append((w * (2.0 if t in focus else 1.0), t))
    scored.sort(reverse=True)
    topics = []
    recent = j.recent_question_ids()
    for prio, t in scored[:6]:
        qs = [q.id for q in svc.bank.filter(topic=t)][:50]
        picks = select_questions(svc.bank, _best_round(svc, t), 2, profile=profile, weak_topics=weak, recent=recent)
        topics.append(
            {
                "topic": t,
                "priority": round(prio, 3),
                "practised": t in weak,
                "mean_score": round(10 * (1 - weak[t]), 1) if t in weak else None,
                "notes": [{"title": n["title"], "path": n["path"]} for n in notes_for_topics([t], 3)],
                "questions": [q.id for q in picks if t in q.topics] or qs[:2],
            }
        )
    rounds = profile.rounds if profile else {}
    by_round = {r["round"]: r["mean_score"] for r in progress["by_round"]}
    round_priority = sorted(
        (rounds or {r: 0.25 for r in ("breadth", "depth", "system_design", "coding")}).items(),
        key=lambda kv: -(kv[1] * (1.5 - (by_round.get(kv[0], 5.0) / 10))),
    )
    return {
        "role": profile.model_dump() if profile else None,
        "next_round": round_priority[0][0] if round_priority else "breadth",
        "rounds": [{"round": r, "weight": w, "your_mean": by_round.get(r)} for r, w in round_priority],
        "topics": topics,
        "due_reviews": progress["due"],  # counted in SQL; due_questions() is the capped drill list
        "progress": {"answers": progress["answers"], "mean_score": progress["mean_score"]},
    }


def _best_round(svc, topic: str) -> str:
    counts: dict[str, int] = {}
    for q in svc.bank.filter(topic=topic):
        counts[q.round] = counts.get(q.round, 0) + 1
    return max(counts, key=counts.get) if counts else "breadth"


def render_plan(plan: dict, console) -> None:
    from rich.markup import escape

    if plan.get("role"):
        r = plan["role"]
        console.print(f"[bold]Role[/]: {r['responsibility']}, {r['specialization']}, {r['level']}; domains {', '.join(r['domains']) or '-'}")
    console.print(f"[bold]Practise next[/]: the {plan['next_round']} round" + (f"; {plan['due_reviews']} questions are due for review (`interviewer practice --due`)" if plan["due_reviews"] else ""))
    for t in plan["topics"]:
        score = f"your mean {t['mean_score']}/10" if t["mean_score"] is not None else "not practised yet"
        console.print(f"\n[cyan]{t['topic']}[/] ({score})")
        for n in t["notes"]:
            console.print(f"  read: {escape(n['title'])}  [dim]{escape(n['path'])}[/]")
        for q in t["questions"]:
            console.print(f"  practise: {q}")
    p = plan["progress"]
    if p["answers"]:
        console.print(f"\nSo far: {p['answers']} graded answers, mean {p['mean_score']}/10.")
