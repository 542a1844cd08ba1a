"""The system-design stage checklist: which stages an answer has covered so far, 0..1 each.

Each stage is described generically and, where the question gives one, specifically for the
problem; an answer's sentence units are matched to those descriptions with the embedding model.
"""

from __future__ import annotations

import numpy as np

from interviewer.chains.answer_text import units
from interviewer.schema import DESIGN_STAGES, Question

STAGE_TITLES = {
    "problem_framing": "Problem framing",
    "metrics": "Metrics",
    "data": "Data",
    "features": "Features",
    "model": "Model",
    "offline_evaluation": "Offline evaluation",
    "serving": "Serving",
    "online_testing": "Online testing",
    "monitoring": "Monitoring",
}

GENERIC = {
    "problem_framing": "clarify the goal, users, scale and constraints; frame it as an ML task with a prediction target",
    "metrics": "business and online metrics and offline metrics such as precision, recall, AUC or NDCG, with guardrails",
    "data": "where training data and labels come from, logging, sampling, label delay and data quality",
    "features": "user, item and context features, embeddings, aggregates and how they are computed and stored",
    "model": "model choice, baseline first, architecture, loss function and training setup",
    "offline_evaluation": "offline evaluation on held-out data, time-based splits, validation and error analysis",
    "serving": "real-time versus batch inference, latency budget, caching, throughput and cost of serving",
    "online_testing": "A/B test or interleaving experiment, ramp-up, guardrail metrics and launch decision",
    "monitoring": "monitoring data drift and model quality, alerts, retraining and feedback loops",
}


def coverage(q: Question, answer: str, embedder=None, floor: float = 0.30, full: float = 0.55) -> dict[str, float]:
    if embedder is None:
        from interviewer.embedding import get_embedder

        embedder = get_embedder()
    us = [u.text for u in units(answer) if not u.listlike]
    if not us:
        return {s: 0.0 for s in DESIGN_STAGES}
    targets = [(q.stages or {}).get(s) or GENERIC[s] for s in DESIGN_STAGES]
    generic = [GENERIC[s] for s in DESIGN_STAGES]
    vecs = embedder.encode(us + targets + generic)
    uv = vecs[: len(us)]
    tv = vecs[len(us) : len(us) + len(targets)]
    gv = vecs[len(us) + len(targets) :]
    sim = np.maximum(uv @ tv.T, uv @ gv.T).max(axis=0)
    cov = np.clip((sim - floor) / (full - floor), 0.0, 1.0)
    return {s: round(float(c), 2) for s, c in zip(DESIGN_STAGES, cov)}


def thinnest_stage(cov: dict[str, float]) -> str:
    # In interview order, the first stage that is clearly thin: interviewers walk the funnel.
    for s in DESIGN_STAGES:
        if cov.get(s, 0.0) < 0.5:
            return s
    return min(cov, key=cov.get)
