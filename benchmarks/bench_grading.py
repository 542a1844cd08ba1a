"""Offline grading latency once the model is warm, beside a bare embedding of the same answer.

Every measured answer is new to the grader (its per-question targets are warm, its sentences are
not). The third row is what the round screen sees at submit: it embeds the sentences typed so
far whenever the candidate pauses, so only the last sentence is new when they press ctrl+s. Wall time depends on what else the machine runs; CPU time of this
process much less so, so both are shown.

Run: .venv/bin/python benchmarks/bench_grading.py
"""

from __future__ import annotations

import random
import statistics
import time


def main() -> None:
    from interviewer.bank import load_bank
    from interviewer.chains.answer_text import neutralise, units
    from interviewer.chains.grader import OfflineGrader
    from interviewer.embedding import get_embedder

    bank = load_bank()
    emb = get_embedder()
    grader = OfflineGrader(embedder=emb, bank=bank)
    grader.warm()
    qs = [q for q in bank.questions.values() if q.round in ("breadth", "depth")]
    rng = random.Random(0)
    sample = rng.sample(qs, 60)
    for q in sample:  # the first grade of a question embeds its rubric once; warm that, not the answer
        grader.grade(q, q.prompt)
    rows = {"bare": ([], []), "grade": ([], []), "typed": ([], [])}
    for i, q in enumerate(sample):
        answer = q.reference_answer
        sentences = [u.text for u in units(neutralise(answer)[0])]
        # The same answer with a different last sentence: its first sentences are already embedded.
        typed = " ".join(sentences[:-1] + [f"To sum up, case {i}: that is the answer I would give."])
        steps = (
            ("bare", lambda: emb.encode(sentences)),
            ("grade", lambda: grader.grade(q, answer)),
            ("typed", lambda: grader.grade(q, typed)),
        )
        for name, fn in steps:
            w, c = time.perf_counter(), time.process_time()
            fn()
            rows[name][0].append(time.perf_counter() - w)
            rows[name][1].append(time.process_time() - c)

    def p(xs, q):
        return statistics.quantiles(xs, n=100)[q - 1] * 1000

    print(f"{'measure (ms)':<36}{'wall p50':>10}{'wall p95':>10}{'cpu p50':>10}{'cpu p95':>10}")
    for name, label in (("bare", "bare embedding of its sentences"), ("grade", "offline grade, cold answer"), ("typed", "grade at submit (typed, prefetched)")):
        wall, cpu = rows[name]
        print(f"{label:<36}{p(wall, 50):>10.1f}{p(wall, 95):>10.1f}{p(cpu, 50):>10.1f}{p(cpu, 95):>10.1f}")
    ratio = statistics.median(rows["grade"][0]) / statistics.median(rows["bare"][0])
    print(f"grade / bare embedding (median wall): {ratio:.2f}x")


if __name__ == "__main__":
    main()
