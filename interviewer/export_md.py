"""A journal session as Markdown (history export)."""

from __future__ import annotations

from datetime import datetime


def criteria_table(criteria: list[dict]) -> list[str]:
    """Per-criterion grades as Markdown table lines (pipes and line breaks kept out of cells)."""
    lines = ["| criterion | points | feedback |", "|---|---|---|"]
    for c in criteria:
        fb = (c.get("feedback") or "").replace("|", "/").replace("\n", " ")
        lines.append(f"| {c['id']} | {c['awarded']:g}/{c['points']:g} | {fb} |")
    return lines


def session_markdown(s: dict) -> str:
    started = datetime.fromtimestamp(s["started_at"]).strftime("%Y-%m-%d %H:%M")
    lines = [f"# Session {s['id']} — {started}", "", f"- mode: {s['mode']}", f"- rounds: {', '.join(s['rounds'])}", f"- status: {s['status']}"]
    if s.get("model"):
        lines.append(f"- model: {s['model']} ({s.get('endpoint')})")
    scores = [a["score"] for a in s["answers"] if a.get("score") is not None]
    if scores:
        lines.append(f"- mean score: {sum(scores) / len(scores):.1f}/10 over {len(scores)} answers")
    for i, a in enumerate(s["answers"], 1):
        q = a["question"]
        score = f"{a['score']:.1f}/10" if a.get("score") is not None else "not graded"
        lines += ["", f"## {i}. {q['id']} ({a['round']}) — {score}", "", f"**Question.** {q['prompt']}", "", "**Answer.**", ""]
        fence = "```python" if a["round"] == "coding" else ""
        lines += ([fence, a["answer"], "```"] if fence else [a["answer"] or "_(empty)_"])
        g = a.get("grade")
        if g:
            lines += ["", *criteria_table(g["criteria"])]
            if g.get("missing"):
                lines += ["", f"**A full answer would add:** {g['missing']}"]
            lines += ["", f"_graded {g['grader']}" + (f" by {g['model']}" if g.get("model") else "") + (f", prompt {g['prompt_version']}" if g.get("prompt_version") else "") + "_"]
        lines += ["", "**Reference answer.**", "", q.get("reference_answer", "")]
    if s.get("drafts"):
        lines += ["", "## Unsubmitted drafts"]
        for k, v in s["drafts"].items():
            lines += ["", f"**{k}**", "", v]
    return "\n".join(lines)
