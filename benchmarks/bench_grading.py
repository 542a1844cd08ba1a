"""Offline grading latency once the model is warm, beside a bare embedding of the same answer.

Run: .venv/bin/python benchmarks/bench_grading.py
"""

from __future__ import annotations

import random
import statistics
import time


def main() -> None:
    from interviewer.bank import load_bank
    from interviewer.chains.grader import OfflineGrader
    from interviewer.embedding import get_embedder

    bank = load_bank()
    emb = get_embedder()
    grader = OfflineGrader(embedder=emb, bank=bank)
    grader.warm()
    qs = [q for q in bank.questions.values() if q.round in ("breadth", "depth")]
    rng = random.Random(0)
    sample = rng.sample(qs, 60)
    for q in sample:  # first grade of a question also embeds its rubric once
        grader.grade(q, q.reference_answer)
    ours, bare = [], []
    for q in sample:
        answer = q.reference_answer
        t = time.perf_counter()
        emb.encode([s for s in answer.split(". ")])
        bare.append(time.perf_counter() - t)
        t = time.perf_counter()
        grader.grade(q, answer)
        ours.append(time.perf_counter() - t)

    def p(xs, q):
        return statistics.quantiles(xs, n=100)[q - 1] * 1000

    print(f"{'measure (ms)':<32}{'p50':>8}{'p95':>8}")
    print(f"{'bare embedding of the answer':<32}{p(bare, 50):>8.1f}{p(bare, 95):>8.1f}")
    print(f"{'offline grade (target p95<100)':<32}{p(ours, 50):>8.1f}{p(ours, 95):>8.1f}")


if __name__ == "__main__":
    main()
