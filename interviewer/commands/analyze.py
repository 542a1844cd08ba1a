"""`interviewer analyze POSTING|-`: what the role really asks for, and how to prepare for it.

`analyze_text(svc, text)` is what the rest of the app calls (practice --posting, plan --posting):
the LLM analyzer when an endpoint is configured, the offline analyzer otherwise or when the
endpoint fails (said in the profile's notices). `build_plan(svc, profile)` turns a profile into a
preparation plan: the rounds to practise first, bank questions and notes per focus topic, and
talking points from the company's own blog posts when the candidate has ingested them.

Only typer is imported at module level: the CLI must start instantly.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:  # pragma: no cover
    from interviewer.schema import RoleProfile

ROUND_TITLES = {"breadth": "breadth", "depth": "depth", "system_design": "system design", "coding": "coding"}


@functools.lru_cache(maxsize=1)
def _offline_analyzer():
    from interviewer.chains.role_analyzer import OfflineRoleAnalyzer

    return OfflineRoleAnalyzer()


def analyze_text(svc, text: str) -> "RoleProfile":
    """The role profile of a posting. Raises UserError for an empty or too-short posting."""
    from interviewer.chains.posting_text import prepare
    from interviewer.llm import LLMError

    llm = svc.llm
    prep = prepare(text, model=getattr(llm, "model_name", None) if llm is not None else None)
    offline = _offline_analyzer()
    if llm is not None:
        from interviewer.chains.role_analyzer import LLMRoleAnalyzer

        try:
            return LLMRoleAnalyzer(llm, offline=offline).analyze_prepared(prep)
        except LLMError as exc:
            profile = offline.analyze_prepared(prep).profile
            profile.notices.append(f"the model endpoint failed ({exc.message}); analyzed offline instead")
            return profile
    return offline.analyze_prepared(prep).profile


# ------------------------------------------------------------------------------------------
# the preparation plan


def _round_reason(r: str, profile) -> str:
    resp, level = profile.responsibility, profile.level
    if r == "system_design":
        base = "infrastructure roles are judged on system design" if resp == "infrastructure" else "expect one ML system design round"
        return base + (" (weighted up for seniority)" if level in ("senior", "staff") else "")
    if r == "depth":
        base = "deep dives into your projects and the focus topics"
        return base + (" (weighted up for seniority)" if level in ("senior", "staff") else "")
    if r == "breadth":
        return "modeling roles test fundamentals widely" if resp == "modeling" else "fundamentals still come up in screens"
    return "implement a model or metric from scratch"


def build_plan(svc, profile, questions_per_topic: int = 3, notes_per_topic: int = 2, talking_points: int = 5) -> dict:
    """What to practise first and what to study per focus area, as plain data (JSON-ready)."""
    from interviewer.bank import LEVEL_INDEX
    from interviewer.knowledge.notes import note_index

    weights = profile.rounds or {}
    order = sorted(weights, key=lambda r: -weights[r])
    rounds = [{"round": r, "weight": weights[r], "why": _round_reason(r, profile)} for r in order]
    try:
        bank = svc.bank
    except Exception:  # a broken user bank folder must not stop the analysis
        bank = None
    notes = note_index()
    lvl = LEVEL_INDEX.get(profile.level, 1)
    rank_round = {r: i for i, r in enumerate(order)}
    focus_out = []
    for f in profile.focus:
        qs = []
        if bank is not None:
            cands = bank.filter(topic=f.topic)
            cands = [q for q in cands if abs(LEVEL_INDEX[q.level] - lvl) <= 1]

            def key(q):
                dom = 0 if (not q.domains or set(q.domains) & set(profile.domains)) else 1
                return (dom, abs(LEVEL_INDEX[q.level] - lvl), rank_round.get(q.round, 9), q.id)

            for q in sorted(cands, key=key)[:questions_per_topic]:
                qs.append({"id": q.id, "round": q.round, "level": q.level, "prompt": q.prompt})
        ns = [
            {"id": n["id"], "title": n["title"], "path": n["path"]}
            for n in notes
            if f.topic in n.get("topics", [])
        ][:notes_per_topic]
        focus_out.append({"topic": f.topic, "title": f.title, "weight": f.weight, "evidence": f.evidence, "questions": qs, "notes": ns})
    points, status = company_talking_points(svc, profile, talking_points)
    return {
        "practise_first": order[:2],
        "rounds": rounds,
        "focus": focus_out,
        "talking_points": points,
        "talking_points_status": status,
    }


def company_talking_points(svc, profile, k: int = 5) -> tuple[list[dict], str]:
    """Talking points from the company's ingested blog posts, with their sources.

    Uses the knowledge layer's retriever (`get_retriever().company_chunks(company, k)`) when it
    exists; without it, or without ingested posts for this company, the plan says so and goes on.
    """
    company = (profile.company or "").strip()
    if not company:
        return [], "no company name found in the posting"
    none_yet = f"no ingested posts for {company}: `interviewer ingest` its engineering blog posts to get talking points"
    try:
        from interviewer.knowledge.retrieve import get_retriever
    except ImportError:
        return [], "company posts: the retrieval module is not available"
    try:
        from interviewer.settings import store_dir

        cfg = svc.config
        if not getattr(getattr(cfg, "store", None), "host", None) and not store_dir().exists():
            # nothing was ever ingested here: do not build an index just to find that out
            return [], none_yet
        retriever = getattr(svc, "retriever", None) if hasattr(type(svc), "retriever") else get_retriever(cfg)
    except Exception as exc:  # retrieval is context, never a reason to fail the analysis
        return [], f"company posts: retrieval unavailable ({type(exc).__name__})"
    if retriever is None or not hasattr(retriever, "company_chunks"):
        return [], "company posts: retrieval unavailable"
    try:
        chunks = list(retriever.company_chunks(company, max(k * 2, 8)) or [])
    except Exception as exc:
        return [], f"company posts: lookup failed ({type(exc).__name__})"
    if not chunks:
        return [], none_yet
    return _points_from_chunks(chunks, profile, k), f"from {len(chunks)} passage(s) of {company}'s ingested posts"


def _chunk_field(chunk: Any, name: str, default: str = "") -> str:
    if isinstance(chunk, dict):
        v = chunk.get(name)
        if v is None and isinstance(chunk.get("metadata"), dict):
            v = chunk["metadata"].get(name)
    else:
        v = getattr(chunk, name, None)
        if v is None and isinstance(getattr(chunk, "metadata", None), dict):
            v = chunk.metadata.get(name)
    return str(v) if v is not None else default


def _points_from_chunks(chunks: list, profile, k: int) -> list[dict]:
    """Each passage's sentence that speaks most to the role's focus, best passages first."""
    from interviewer.chains.posting_text import split_sentences
    from interviewer.chains.role_analyzer import TOPIC_CUES

    cues = [TOPIC_CUES[f.topic] for f in profile.focus if f.topic in TOPIC_CUES]
    scored = []
    for i, ch in enumerate(chunks):
        text = " ".join(_chunk_field(ch, "text").split())
        if not text:
            continue
        best, best_s = "", -1.0
        for s in split_sentences(text):
            words = len(s.split())
            if words < 6:
                continue
            sc = sum(1 for c in cues if c.search(s)) + min(words, 30) / 100
            if sc > best_s:
                best, best_s = s, sc
        if not best:
            best, best_s = " ".join(text.split()[:40]), 0.0
        if len(best.split()) > 45:
            best = " ".join(best.split()[:45]) + "…"
        source = _chunk_field(ch, "source") or _chunk_field(ch, "url") or _chunk_field(ch, "path") or "?"
        scored.append((-best_s, i, {"text": best, "source": source, "title": _chunk_field(ch, "title")}))
    scored.sort(key=lambda x: (x[0], x[1]))
    out, seen = [], set()
    for _, _, pt in scored:
        if pt["text"] in seen:
            continue
        seen.add(pt["text"])
        out.append(pt)
        if len(out) >= k:
            break
    return out


# ------------------------------------------------------------------------------------------
# rendering


def render(profile, plan: dict, con) -> None:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    for n in profile.notices:
        con.print(f"[yellow]note:[/] {n}")
    head = Text()
    head.append(profile.title or "(untitled posting)", style="bold")
    if profile.company:
        head.append(f"  at {profile.company}")
    who = f"analyzer: {profile.analyzer}" + (f", {profile.model}" if profile.model else "") + (f", {profile.prompt_version}" if profile.prompt_version else "")
    head.append(f"\n{who}", style="dim")
    con.print(Panel(head, expand=False))

    labels = Table(show_header=False, box=None, pad_edge=False)
    labels.add_column(style="cyan")
    labels.add_column()
    labels.add_row("responsibility", profile.responsibility)
    labels.add_row("specialization", profile.specialization)
    labels.add_row("domains", ", ".join(profile.domains) or "none (the duties name no application domain)")
    labels.add_row("level", profile.level)
    con.print(labels)

    rt = Table("round", "weight", "", "why", title="Rounds", title_justify="left")
    for r in plan["rounds"]:
        bar = "█" * max(1, round(r["weight"] * 30))
        rt.add_row(ROUND_TITLES.get(r["round"], r["round"]), f"{r['weight']:.2f}", bar, r["why"])
    con.print(rt)
    first = " and ".join(ROUND_TITLES.get(r, r) for r in plan["practise_first"])
    con.print(f"Practise first: [bold]{first}[/]")

    ft = Table("focus topic", "evidence from the posting", "study", title="Focus", title_justify="left", show_lines=True)
    for f in plan["focus"]:
        ev = "\n".join(f"“{e}”" for e in f["evidence"]) or "-"
        study = [f"{q['id']} ({q['round']}, {q['level']})" for q in f["questions"]]
        study += [f"note: {n['title']}" for n in f["notes"]]
        ft.add_row(f"{f['title'] or f['topic']}\n[dim]{f['topic']}[/]", ev, "\n".join(study) or "-")
    con.print(ft)

    if plan["talking_points"]:
        con.print(f"[bold]Talking points[/] ({plan['talking_points_status']}):")
        for p in plan["talking_points"]:
            con.print(f"  • {p['text']} [dim]({p['source']})[/]")
    else:
        con.print(f"[dim]Talking points: {plan['talking_points_status']}[/]")
    if profile.rationale:
        con.print("[dim]Why:[/]")
        for r in profile.rationale:
            con.print(f"  [dim]- {r}[/]")


# ------------------------------------------------------------------------------------------
# command


def register(app) -> None:
    @app.command("analyze")
    def analyze(
        ctx: typer.Context,
        posting: str = typer.Argument(..., help="A job posting file (text, markdown or HTML), or - to read it from stdin."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON: {profile, plan}."),
    ) -> None:
        """Work out what a job posting really asks for, and how to prepare for it."""
        from interviewer.cli import console, emit_json, read_text_arg
        from interviewer.errors import UserError

        svc = ctx.obj
        text = read_text_arg(posting, "posting")
        profile = analyze_text(svc, text)
        if svc.llm is not None:
            try:
                svc.journal.log_llm_calls(svc.llm.usage.records)
            except (UserError, AttributeError, OSError):
                pass
        plan = build_plan(svc, profile)
        if svc.llm is None:
            typer.echo(svc.mode_line.replace("grading", "analyzing"), err=True)
        if as_json:
            emit_json({"profile": profile.model_dump(), "plan": plan})
            return
        render(profile, plan, console())
