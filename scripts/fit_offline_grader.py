"""Fit the offline grader's credit model on the grading eval suites.

One logistic model maps a criterion's features (similarity above that criterion's null level,
lexical recall of its key terms, list-likeness, relevance, ...) to the share of its points a
careful human awarded. It is a handful of global weights, never per question. The script reports
GroupKFold cross-validation *by question* (every fold's questions are unseen in training), so the
printed figures estimate performance on new questions, then fits on everything and writes
interviewer/chains/offline_grader_weights.json.

Run: .venv/bin/python scripts/fit_offline_grader.py [evals/grading]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Length and list-shape are computed but deliberately not used: a model that can see them learns
# to reward padding and bullet lists, which is exactly what the grader must resist. (A "second
# best sentence" feature was dropped too: a one-sentence answer has none, and whatever stands in
# for it becomes a bonus for vague one-liners.)
# "distinct" (how much more the best window matches this criterion than the others) is what
# tells a specific point from a vague on-topic sentence that is a little like every criterion.
# tok_crit / tok_ref (token-alignment recall of the criterion and of its reference sentences) are
# what credit a terse answer that packs several points into one sentence. wrong_share / wrong_lean
# (how much of the answer states the question's known misconceptions) are what tell a confident,
# fluent, wrong answer from a right one; they are 0 for questions that list no misconceptions.
FEATURES = ["z", "z_ref", "z_crit", "lexical", "tok_crit", "tok_ref", "relevance", "answer_z", "distinct", "wrong_share", "wrong_lean"]
OUT = ROOT / "interviewer" / "chains" / "offline_grader_weights.json"


def collect(paths):
    from interviewer.bank import load_bank
    from interviewer.chains.grader import OfflineGrader
    from interviewer.evaluation import _resolve_questions, expand_paths, load_suite

    bank = load_bank()
    grader = OfflineGrader(bank=bank)
    rows = []
    for path in expand_paths(paths):
        suite = load_suite(path)
        if suite.kind != "grading":
            continue
        qs = _resolve_questions(suite, bank)
        for c in suite.cases:
            qid = c.question if isinstance(c.question, str) else c.question.id
            q = qs[qid]
            if q.round == "coding" or not c.expected_criteria:
                continue
            feats, ctx = grader.features(q, c.answer or "")
            for crit, f in zip(q.rubric, feats or [None] * len(q.rubric)):
                gold = c.expected_criteria.get(crit.id)
                if gold is None or f is None:
                    continue
                rows.append({"q": qid, "case": c.id, "tags": c.tags, "points": crit.points, "gold": gold / crit.points,
                             "x": [f[k] for k in FEATURES], "relevance": f["relevance"], "expected": c.expected_score})
    return rows


C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def fit(X, y, C=1.0):
    # Fractional labels: each row twice, as a positive weighted y and a negative weighted 1 - y.
    Xd = np.vstack([X, X])
    yd = np.r_[np.ones(len(y)), np.zeros(len(y))]
    wd = np.r_[y, 1 - y] + 1e-6
    m = LogisticRegression(C=C, max_iter=5000)
    m.fit(Xd, yd, sample_weight=wd)
    return m


def case_scores(rows, credits) -> dict:
    """Case scores from per-criterion credits, scored as `interviewer eval run` scores them."""
    from interviewer.evaluation import grading_metrics

    by_case = {}
    for r, c in zip(rows, credits):
        c = 0.0 if r["relevance"] <= 0 else c
        d = by_case.setdefault(r["case"], {"aw": 0.0, "tot": 0.0, "expected": r["expected"], "question_id": r["q"], "tags": r["tags"]})
        d["aw"] += round(c * r["points"] * 2) / 2
        d["tot"] += r["points"]
    return grading_metrics([{**d, "actual": 10 * d["aw"] / d["tot"]} for d in by_case.values()])


def ranking(m: dict) -> float:
    """What the regularisation is chosen by: the mean of Spearman and pairwise accuracy."""
    return (m["spearman"] + m["pairwise"]) / 2


def report(m: dict, label: str) -> None:
    print(f"{label}: spearman {m['spearman']:.3f}  pairwise {m['pairwise']:.3f}  mae {m['mae']:.2f}")
    print("   error by tag: " + ", ".join(f"{t}={v:+.2f}" for t, v in m["error_by_tag"].items()))


def main() -> None:
    # grading-mixed.yaml is held out: written after the model was fitted, on questions no other
    # suite uses, it is the honest check of how the fitted weights do on new questions.
    paths = [Path(p) for p in sys.argv[1:]] or sorted(p for p in (ROOT / "evals" / "grading").glob("*.yaml") if p.name != "grading-mixed.yaml")
    rows = collect(paths)
    X = np.array([r["x"] for r in rows])
    y = np.array([r["gold"] for r in rows])
    groups = np.array([r["q"] for r in rows])
    print(f"{len(rows)} criterion rows from {len(set(groups))} questions")

    def cross_validated(C):
        cv = np.zeros(len(rows))
        for tr, te in GroupKFold(n_splits=5).split(X, y, groups):
            cv[te] = fit(X[tr], y[tr], C).predict_proba(X[te])[:, 1]
        return case_scores(rows, cv)

    # The regularisation strength is chosen by the same by-question cross-validation (never by
    # the held-out suite): the mean of Spearman and pairwise accuracy on unseen questions.
    results = {C: cross_validated(C) for C in C_GRID}
    quality = {C: ranking(r) for C, r in results.items()}
    print("regularisation C -> cross-validated (Spearman + pairwise) / 2: " + ", ".join(f"{C:g}: {v:.3f}" for C, v in quality.items()))
    best = max(quality, key=quality.get)
    report(results[best], f"cross-validated by question (C={best:g})")
    m = fit(X, y, best)
    report(case_scores(rows, m.predict_proba(X)[:, 1]), "fitted on all (in-sample)")
    OUT.write_text(json.dumps({"features": FEATURES, "coef": dict(zip(FEATURES, map(float, m.coef_[0]))), "intercept": float(m.intercept_[0]),
                               "C": best, "trained_on": sorted({p.resolve().relative_to(ROOT).as_posix() for p in paths}), "rows": len(rows)}, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
