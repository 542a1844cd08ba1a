"""Eval suites: run them, compute metrics, check gates, cache results, report and compare.

Grading suites measure a grader against gold scores; role suites measure the role analyzer;
retrieval suites measure search. Metrics come from scipy and scikit-learn. A suite's `gates`
(e.g. spearman_min: 0.8) make the command exit non-zero when one fails, so a suite serves in CI.
LLM grades are cached (INTERVIEWER_HOME/cache/eval-cache.jsonl) by grader, model, prompt version,
rubric, answer and repeat index, so re-running an unchanged suite costs nothing.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import mean, pstdev

from pydantic import ValidationError

from interviewer.errors import UserError
from interviewer.schema import EvalSuite, Question

ADVERSARIAL_TAGS = ("injection", "padding", "keyword-stuffing", "off-topic")


# ------------------------------------------------------------------------------------------
# loading


def load_suite(path: Path) -> EvalSuite:
    from interviewer.bank import yaml_load

    try:
        data = yaml_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UserError(f"{path} is not UTF-8 text", "re-save it as UTF-8")
    except Exception as exc:  # yaml errors
        raise UserError(f"{path} is not valid YAML ({str(exc).splitlines()[0]})", "fix the file")
    try:
        return EvalSuite.model_validate(data)
    except ValidationError as exc:
        e = exc.errors()[0]
        raise UserError(f"{path}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}", "see README: Eval suites for the format")


def expand_paths(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        if not p.exists():
            raise UserError(f"{p} does not exist", "pass suite files or folders")
        out += sorted(p.rglob("*.y*ml")) if p.is_dir() else [p]
    return out


# ------------------------------------------------------------------------------------------
# grading metrics


def grading_metrics(cases: list[dict]) -> dict:
    from scipy.stats import pearsonr, spearmanr
    from sklearn.metrics import cohen_kappa_score

    gold = [c["expected"] for c in cases]
    pred = [c["actual"] for c in cases]
    m: dict = {"n": len(cases)}
    if len(cases) >= 3 and len(set(gold)) > 1 and len(set(pred)) > 1:
        m["spearman"] = round(float(spearmanr(gold, pred).statistic), 4)
        m["pearson"] = round(float(pearsonr(gold, pred).statistic), 4)
        m["qwk"] = round(float(cohen_kappa_score([round(g) for g in gold], [round(p) for p in pred], weights="quadratic")), 4)
    m["mae"] = round(mean(abs(g - p) for g, p in zip(gold, pred)), 3) if cases else None
    m["bias"] = round(mean(p - g for g, p in zip(gold, pred)), 3) if cases else None
    # pairwise ordering within each question (pairs whose gold differs by at least 1 point)
    by_q: dict[str, list[dict]] = defaultdict(list)
    for c in cases:
        by_q[c["question_id"]].append(c)
    agree = total = 0.0
    for qcases in by_q.values():
        for i in range(len(qcases)):
            for j in range(i + 1, len(qcases)):
                a, b = qcases[i], qcases[j]
                if abs(a["expected"] - b["expected"]) < 1.0:
                    continue
                total += 1
                d = (a["actual"] - b["actual"]) * (a["expected"] - b["expected"])
                agree += 1.0 if d > 0 else 0.5 if d == 0 else 0.0
    m["pairwise"] = round(agree / total, 4) if total else None
    m["pairs"] = int(total)
    tags: dict[str, list[float]] = defaultdict(list)
    for c in cases:
        for t in c.get("tags", []):
            tags[t].append(c["actual"] - c["expected"])
    m["error_by_tag"] = {t: round(mean(v), 3) for t, v in sorted(tags.items())}
    m["abs_error_by_tag"] = {t: round(mean(abs(x) for x in v), 3) for t, v in sorted(tags.items())}
    m["inflation"] = {t: round(mean(tags[t]), 3) for t in ADVERSARIAL_TAGS if tags.get(t)}
    m["inflation_max"] = round(max(m["inflation"].values()), 3) if m["inflation"] else None
    # consistency across repeats
    reps = [c["repeats"] for c in cases if len(c.get("repeats", [])) > 1]
    if reps:
        m["repeat_std"] = round(mean(pstdev(r) for r in reps), 4)
        m["flip_rate"] = round(mean(1.0 if len({round(x) for x in r}) > 1 else 0.0 for r in reps), 4)
    # per-criterion agreement
    crit_err, crit_exact = [], []
    for c in cases:
        exp = c.get("expected_criteria") or {}
        got = {g["id"]: g["awarded"] for g in c.get("criteria", [])}
        for cid, v in exp.items():
            if cid in got:
                pts = c["points"].get(cid, 1.0)
                crit_err.append(abs(got[cid] - v) / pts)
                crit_exact.append(1.0 if abs(got[cid] - v) <= 0.5 + 1e-9 else 0.0)
    if crit_err:
        m["criterion_mae_fraction"] = round(mean(crit_err), 4)
        m["criterion_agreement"] = round(mean(crit_exact), 4)
    return m


def rubric_quality(cases: list[dict], questions: dict[str, Question], reference_scores: dict[str, float]) -> list[dict]:
    """Per question a suite touches: reference score, ordering, criterion discrimination."""
    import numpy as np
    from scipy.stats import spearmanr

    out = []
    by_q: dict[str, list[dict]] = defaultdict(list)
    for c in cases:
        by_q[c["question_id"]].append(c)
    for qid, qcases in sorted(by_q.items()):
        q = questions.get(qid)
        if q is None:
            continue
        item = {"question_id": qid, "reference_score": reference_scores.get(qid), "answers": len(qcases)}
        item["reference_ok"] = item["reference_score"] is None or item["reference_score"] >= 9.0
        gold = [c["expected"] for c in qcases]
        pred = [c["actual"] for c in qcases]
        if len(qcases) >= 3 and len(set(gold)) > 1 and len(set(pred)) > 1:
            item["ordering_spearman"] = round(float(spearmanr(gold, pred).statistic), 3)
        crit_ids = [cr.id for cr in q.rubric]
        mat = []
        for c in qcases:
            got = {g["id"]: g["awarded"] / max(g["points"], 1e-9) for g in c.get("criteria", [])}
            mat.append([got.get(cid, 0.0) for cid in crit_ids])
        arr = np.array(mat) if mat else np.zeros((0, len(crit_ids)))
        crit = []
        for k, cid in enumerate(crit_ids):
            col = arr[:, k] if len(arr) else np.array([])
            entry = {"id": cid, "mean_credit": round(float(col.mean()), 3) if len(col) else None}
            if len(col) >= 3 and col.std() > 0 and np.std(pred) > 0:
                entry["discrimination"] = round(float(np.corrcoef(col, pred)[0, 1]), 3)
            if len(col) and col.max() == 0:
                entry["flag"] = "nobody earns it"
            elif len(col) and col.min() >= 1.0:
                entry["flag"] = "everybody earns it"
            crit.append(entry)
        together = []
        if len(arr) >= 3:
            for a in range(len(crit_ids)):
                for b in range(a + 1, len(crit_ids)):
                    if arr[:, a].std() > 0 and arr[:, b].std() > 0 and np.corrcoef(arr[:, a], arr[:, b])[0, 1] > 0.95:
                        together.append([crit_ids[a], crit_ids[b]])
        item["criteria"] = crit
        item["move_together"] = together
        out.append(item)
    return out


# ------------------------------------------------------------------------------------------
# running


class GradeCache:
    """A JSON-lines cache of grades under the cache dir; thread-safe appends."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()
        self.data: dict[str, dict] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    rec = json.loads(line)
                    self.data[rec["key"]] = rec["grade"]
                except (ValueError, KeyError):
                    continue

    def get(self, key: str) -> dict | None:
        return self.data.get(key)

    def put(self, key: str, grade: dict) -> None:
        with self.lock:
            self.data[key] = grade
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"key": key, "grade": grade}) + "\n")


def _resolve_questions(suite: EvalSuite, bank) -> dict[str, Question]:
    qs = {q.id: q for q in suite.questions}
    for c in suite.cases:
        if isinstance(c.question, Question):
            qs[c.question.id] = c.question
        elif isinstance(c.question, str) and c.question not in qs:
            q = bank.get(c.question) if bank is not None else None
            if q is None:
                raise UserError(f"suite {suite.suite}: case {c.id} names unknown question {c.question!r}", "use a bank id or an inline question")
            qs[q.id] = q
    return qs


def run_grading_suite(svc, suite: EvalSuite, grader_name: str, repeat: int, concurrency: int, use_cache: bool) -> dict:
    """Grade every case `repeat` times (and each question's reference answer once), in parallel.

    With the LLM grader, a case whose call fails (after the client's own retries) is graded
    offline instead and marked, so one bad reply never sinks a run; reference answers that fail
    are left out of the rubric-quality report. Only LLM grades are cached: the offline grader is
    deterministic and fast, and a fallback grade must not stand in for the model's next time.
    """
    from interviewer.chains.grader import answer_cache_key

    questions = _resolve_questions(suite, svc.bank)
    if grader_name == "llm":
        if svc.llm is None:
            raise UserError("--grader llm needs an endpoint", "set OPENAI_API_KEY / OPENAI_BASE_URL / --base-url and --model, or a --profile")
        from interviewer.chains.grader import LLMGrader

        grader = LLMGrader(svc.llm)
        model = svc.llm.model_name
        from interviewer.chains.prompting import load_prompt

        version = load_prompt("grader").version
        # Import the client stack (LangChain, openai, httpx) before the clock starts and before
        # the pool: otherwise the first calls all queue on the import lock, one after another.
        from interviewer.chains.grader import GradeVerdict

        svc.llm.chat.with_structured_output(GradeVerdict, method="json_schema", include_raw=True)
        grader.build_messages(next(iter(questions.values())), "")
    else:
        grader = svc.grading.offline
        model, version = None, "offline-v1"
    from interviewer.settings import cache_dir

    cache = GradeCache(cache_dir() / "eval-cache.jsonl") if use_cache and grader_name == "llm" else None
    # Coding tests are run once per answer and shared across repeats.
    test_reports: dict[str, object] = {}

    def tests_for(q: Question, answer: str):
        if q.round != "coding":
            return None
        k = q.id + "\x00" + answer
        if k not in test_reports:
            from interviewer.rounds.sandbox import run_tests

            test_reports[k] = run_tests(answer, q.tests or "")
        return test_reports[k]

    # A job: (case id or None for a reference answer, question, answer, repeat index).
    jobs: list[tuple[str | None, Question, str, int]] = []
    for c in suite.cases:
        qid = c.question.id if isinstance(c.question, Question) else c.question
        for r in range(repeat):
            jobs.append((c.id, questions[qid], c.answer or "", r))
    graded_qids = {c.question.id if isinstance(c.question, Question) else c.question for c in suite.cases if c.expected_score is not None}
    for qid in sorted(graded_qids):
        q = questions[qid]
        if q.round != "coding":  # a coding reference is checked by its own tests (bank lint)
            jobs.append((None, q, q.reference_answer, 0))

    errors: list[str] = []
    fallbacks: list[str] = []
    hits = 0
    count_lock = threading.Lock()

    def run(job):
        nonlocal hits
        cid, q, answer, r = job
        key = answer_cache_key(grader_name, model, version, q, answer, r)
        if cache is not None and (hit := cache.get(key)) is not None:
            with count_lock:
                hits += 1
            return cid, q.id, r, hit
        tests = tests_for(q, answer)
        try:
            g = grader.grade(q, answer, tests)
        except Exception as exc:  # noqa: BLE001 - for the LLM path, anything the reply does is a per-case failure
            if grader_name != "llm" and not isinstance(exc, UserError):
                raise
            why = exc.message if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
            if grader_name != "llm" or cid is None:
                if cid is not None:
                    errors.append(f"{cid}: {why}")
                return cid, q.id, r, None
            # The model failed on this case: grade it offline so the run finishes, and say so.
            fallbacks.append(f"{cid}: {why}")
            try:
                g = svc.grading.offline.grade(q, answer, tests)
            except UserError as exc2:
                errors.append(f"{cid}: {exc2.message}")
                return cid, q.id, r, None
            g.notices.append(f"the model endpoint failed ({why}); graded offline instead")
            return cid, q.id, r, _grade_dict(g)
        gd = _grade_dict(g)
        if cache is not None:
            cache.put(key, gd)
        return cid, q.id, r, gd

    t0 = time.monotonic()
    if grader_name != "llm":
        # Offline, the slow parts are the hidden tests (subprocesses that mostly wait: run side by
        # side) and the embedding (one bulk pass over every answer's sentences beats one small
        # batch per answer). Grading itself then runs in order, reading the prepared vectors.
        coding = list({(q.id, a): (q, a) for _, q, a, _ in jobs if q.round == "coding"}.values())
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            list(pool.map(lambda qa: tests_for(*qa), coding))
        if hasattr(grader, "prefetch"):
            grader.prefetch([a for _, q, a, _ in jobs if q.round != "coding"])
    workers = concurrency if grader_name == "llm" else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(run, jobs))
    elapsed = time.monotonic() - t0
    by_case: dict[str, list[dict]] = defaultdict(list)
    ref_scores: dict[str, float] = {}
    for cid, qid, r, gd in results:
        if gd is None:
            continue
        if cid is None:
            ref_scores[qid] = gd["score"]
        else:
            by_case[cid].append(gd)
    cases_out = []
    for c in suite.cases:
        qid = c.question.id if isinstance(c.question, Question) else c.question
        grades = by_case.get(c.id)
        if not grades or c.expected_score is None:
            continue
        q = questions[qid]
        scores = [g["score"] for g in grades]
        graders = {g.get("grader", grader_name) for g in grades}
        cases_out.append(
            {
                "id": c.id,
                "question_id": qid,
                "tags": c.tags,
                "expected": c.expected_score,
                "actual": round(mean(scores), 2),
                "repeats": scores,
                "criteria": grades[0]["criteria"],
                "expected_criteria": c.expected_criteria,
                "points": {cr.id: cr.points for cr in q.rubric},
                "grader": graders.pop() if len(graders) == 1 else "mixed",
                "fallback": any(g.get("grader", grader_name) != grader_name for g in grades),
                "notices": list(dict.fromkeys(n for g in grades for n in g.get("notices", []))),
            }
        )
    metrics = grading_metrics(cases_out)
    metrics["seconds"] = round(elapsed, 2)
    metrics["calls"] = len(jobs)
    metrics["cache_hits"] = hits
    metrics["fallbacks"] = len(fallbacks)
    return {
        "suite": suite.suite,
        "kind": "grading",
        "grader": grader_name,
        "model": model,
        "prompt_version": version,
        "concurrency": workers,
        "repeat": repeat,
        "metrics": metrics,
        "cases": cases_out,
        "rubric_quality": rubric_quality(cases_out, questions, ref_scores),
        "errors": errors,
        "fallbacks": fallbacks,
    }


def _grade_dict(g) -> dict:
    """What a run keeps (and caches) of a grade: enough for metrics, the report and an audit."""
    return {
        "score": g.score,
        "grader": g.grader,
        "criteria": [x.model_dump(include={"id", "awarded", "points", "evidence"}) for x in g.criteria],
        "notices": list(g.notices),
    }


GATE_METRICS = {
    # gate name -> (metric key, direction)
    "spearman_min": ("spearman", "min"),
    "pearson_min": ("pearson", "min"),
    "qwk_min": ("qwk", "min"),
    "pairwise_min": ("pairwise", "min"),
    "mae_max": ("mae", "max"),
    "inflation_max": ("inflation_max", "max"),
    "flip_rate_max": ("flip_rate", "max"),
    "responsibility_min": ("responsibility_acc", "min"),
    "specialization_min": ("specialization_acc", "min"),
    "level_min": ("level_acc", "min"),
    "domain_f1_min": ("domain_f1", "min"),
    "hit@1_min": ("hit@1", "min"),
    "hit@3_min": ("hit@3", "min"),
    "hit@5_min": ("hit@5", "min"),
    "mrr_min": ("mrr", "min"),
}


def check_gates(gates: dict[str, float], metrics: dict) -> list[dict]:
    out = []
    for name, threshold in gates.items():
        if name not in GATE_METRICS:
            out.append({"gate": name, "threshold": threshold, "value": None, "passed": False, "why": "unknown gate"})
            continue
        key, direction = GATE_METRICS[name]
        value = metrics.get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            passed = False
        else:
            passed = value >= threshold if direction == "min" else value <= threshold
        out.append({"gate": name, "threshold": threshold, "value": value, "passed": passed})
    return out


def run_suites(svc, paths: list[Path], grader: str = "offline", repeat: int = 1, concurrency: int = 4, use_cache: bool = True) -> dict:
    suites_out = []
    for path in expand_paths(paths):
        suite = load_suite(path)
        if suite.kind == "grading":
            res = run_grading_suite(svc, suite, grader, repeat, concurrency, use_cache)
        elif suite.kind == "role":
            from interviewer.chains.role_analyzer import OfflineRoleAnalyzer, run_role_suite

            analyzer = OfflineRoleAnalyzer()
            if grader == "llm" and svc.llm is not None:
                from interviewer.chains.role_analyzer import LLMRoleAnalyzer

                analyzer = LLMRoleAnalyzer(svc.llm)
            res = {"suite": suite.suite, "kind": "role", **run_role_suite(suite, analyzer)}
        else:
            from interviewer.knowledge.retrieve import get_retriever, run_retrieval_suite

            get_retriever(svc.config)
            res = {"suite": suite.suite, "kind": "retrieval", **run_retrieval_suite(suite)}
        res["file"] = str(path)
        res["gates"] = check_gates(suite.gates, res["metrics"])
        res["gates_passed"] = all(g["passed"] for g in res["gates"])
        suites_out.append(res)
    return {"suites": suites_out, "created_at": time.time()}


# ------------------------------------------------------------------------------------------
# rendering, reports, compare


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    return str(v)


SUMMARY_KEYS = ("n", "spearman", "pearson", "qwk", "mae", "bias", "pairwise", "inflation_max", "repeat_std", "flip_rate", "criterion_agreement",
                "responsibility_acc", "specialization_acc", "level_acc", "domain_f1", "hit@1", "hit@3", "hit@5", "mrr", "seconds", "calls", "cache_hits", "fallbacks")


def render_results(results: dict, console) -> None:
    from rich.markup import escape
    from rich.table import Table

    for s in results["suites"]:
        m = s["metrics"]
        t = Table("metric", "value", title=f"{s['suite']} ({s['kind']}{', ' + s.get('grader', '') if s.get('grader') else ''})")
        for k in SUMMARY_KEYS:
            if k in m:
                t.add_row(k, _fmt(m[k]))
        if m.get("inflation"):
            t.add_row("inflation by tag", _fmt(m["inflation"]))
        console.print(t)
        for g in s["gates"]:
            mark = "[green]pass[/]" if g["passed"] else "[red]FAIL[/]"
            console.print(f"  gate {g['gate']} {g['threshold']}: {_fmt(g['value'])} {mark}")
        for e in s.get("errors", [])[:5]:
            console.print(f"  [yellow]error[/] {escape(e)}")
        if s.get("fallbacks"):
            console.print(f"  [yellow]{len(s['fallbacks'])} grade(s) fell back to offline[/] (the endpoint failed): " + escape("; ".join(s["fallbacks"][:3])))
        weak = [r for r in s.get("rubric_quality", []) if not r["reference_ok"]]
        if weak:
            console.print(f"  rubric quality: {len(weak)} reference answers score < 9: " + ", ".join(r["question_id"] for r in weak[:6]))


def write_report(results: dict, path: Path) -> None:
    lines = ["# Eval report", ""]
    for s in results["suites"]:
        lines += [f"## {s['suite']} ({s['kind']})", "", "| metric | value |", "|---|---|"]
        for k in SUMMARY_KEYS:
            if k in s["metrics"]:
                lines.append(f"| {k} | {_fmt(s['metrics'][k])} |")
        if s["metrics"].get("inflation"):
            lines.append(f"| inflation | {_fmt(s['metrics']['inflation'])} |")
        lines += ["", "| gate | threshold | value | result |", "|---|---|---|---|"]
        lines += [f"| {g['gate']} | {g['threshold']} | {_fmt(g['value'])} | {'pass' if g['passed'] else 'FAIL'} |" for g in s["gates"]]
        if s.get("rubric_quality"):
            lines += ["", "### Rubric quality", "", "| question | reference score | ordering | flags |", "|---|---|---|---|"]
            for r in s["rubric_quality"]:
                flags = [f"{c['id']}: {c['flag']}" for c in r["criteria"] if c.get("flag")] + [f"{a}~{b} move together" for a, b in r["move_together"]]
                lines.append(f"| {r['question_id']} | {_fmt(r['reference_score'])} | {_fmt(r.get('ordering_spearman'))} | {'; '.join(flags) or '-'} |")
        lines += ["", "| case | expected | actual | tags |", "|---|---|---|---|"]
        for c in s["cases"]:
            exp = c.get("expected")
            lines.append(f"| {c['id']} | {_fmt(exp) if not isinstance(exp, dict) else json.dumps(exp)} | {_fmt(c.get('actual')) if not isinstance(c.get('actual'), dict) else json.dumps(c['actual'])[:120]} | {', '.join(c.get('tags', []))} |")
        lines.append("")
    md = "\n".join(lines)
    if path.suffix.lower() in (".html", ".htm"):
        import html

        body = "".join(f"<pre>{html.escape(md)}</pre>")
        try:
            from markdown_it import MarkdownIt

            body = MarkdownIt("commonmark").enable("table").render(md)
        except ImportError:
            pass
        path.write_text(f"<!doctype html><meta charset='utf-8'><title>Eval report</title><style>body{{font-family:sans-serif;max-width:70em;margin:auto}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px}}</style>{body}", encoding="utf-8")
    else:
        path.write_text(md, encoding="utf-8")


def compare_results(a: dict, b: dict) -> dict:
    if "suites" not in a or "suites" not in b:
        raise UserError("those files are not eval results", "write them with `interviewer eval run ... -o FILE`")
    out = []
    by_name = {s["suite"]: s for s in a["suites"]}
    for sb in b["suites"]:
        sa = by_name.get(sb["suite"])
        if sa is None:
            continue
        deltas = {}
        for k, vb in sb["metrics"].items():
            va = sa["metrics"].get(k)
            if isinstance(va, (int, float)) and isinstance(vb, (int, float)):
                deltas[k] = {"a": va, "b": vb, "delta": round(vb - va, 4)}
        out.append({"suite": sb["suite"], "a": {"grader": sa.get("grader"), "model": sa.get("model"), "prompt_version": sa.get("prompt_version")}, "b": {"grader": sb.get("grader"), "model": sb.get("model"), "prompt_version": sb.get("prompt_version")}, "metrics": deltas})
    return {"suites": out}


def render_compare(diff: dict, console) -> None:
    from rich.table import Table

    for s in diff["suites"]:
        t = Table("metric", "A", "B", "B - A", title=f"{s['suite']}: {s['a']} vs {s['b']}")
        for k, d in s["metrics"].items():
            t.add_row(k, _fmt(d["a"]), _fmt(d["b"]), f"{d['delta']:+.3f}")
        console.print(t)
