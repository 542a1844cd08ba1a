"""Benchmark the offline role analyzer: a 1,000-word posting once the model is warm.

Target (issue): under 300 ms per analysis of a 1,000-word posting with the model warm.

    .venv/bin/python benchmarks/bench_analyze.py [--runs 15] [--words 1000]

The posting is built from the eval suite's own postings (real posting text, several sections
and dozens of list items) cut to the word count; each run analyzes a different rotation of them,
so nothing is served from a cache. Prints cold start (imports, model load, anchor vectors), the
warm median / p90 / min wall time, the process CPU time per run (on a busy machine wall time
includes waiting for the CPU), and the time for a 200 KB paste (truncated to the token budget).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_postings(words: int, n: int) -> list[str]:
    import yaml

    cases = yaml.safe_load((ROOT / "evals" / "roles" / "postings.yaml").read_text(encoding="utf-8"))["cases"]
    texts = [c["posting"] for c in cases if "<html" not in c["posting"].lower()]
    out = []
    for r in range(n):
        parts, count, i = [], 0, r
        while count < words:
            t = texts[i % len(texts)]
            parts.append(t)
            count += len(t.split())
            i += 1
        text = "\n\n".join(parts)
        # cut to the word budget at a line boundary
        lines, kept, total = text.split("\n"), [], 0
        for ln in lines:
            w = len(ln.split())
            if total + w > words:
                break
            kept.append(ln)
            total += w
        out.append("\n".join(kept))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--words", type=int, default=1000)
    args = ap.parse_args()

    t0 = time.perf_counter()
    from interviewer.chains.role_analyzer import OfflineRoleAnalyzer
    from interviewer.embedding import get_embedder

    emb = get_embedder()
    t_load = time.perf_counter() - t0
    analyzer = OfflineRoleAnalyzer(embedder=emb)
    t1 = time.perf_counter()
    analyzer.warm()
    t_anchor = time.perf_counter() - t1

    postings = build_postings(args.words, args.runs + 2)
    for p in postings[:2]:  # warm-up: first inference allocates buffers
        analyzer.analyze(p)
    walls, cpus = [], []
    for p in postings[2:]:
        c0, w0 = time.process_time(), time.perf_counter()
        analyzer.analyze(p)
        walls.append((time.perf_counter() - w0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    walls.sort()
    big = (postings[0] + "\n\n") * 40
    w0 = time.perf_counter()
    prof = analyzer.analyze(big)
    t_big = (time.perf_counter() - w0) * 1000

    n_words = [len(p.split()) for p in postings[2:]]
    print(f"embedding backend: {emb.backend}; load {t_load:.2f} s, anchor vectors {t_anchor * 1000:.0f} ms")
    print(f"posting: {statistics.mean(n_words):.0f} words, {args.runs} runs")
    print(
        f"warm analysis: median {statistics.median(walls):.0f} ms, p90 {walls[int(0.9 * (len(walls) - 1))]:.0f} ms, "
        f"min {walls[0]:.0f} ms (process CPU median {statistics.median(cpus):.0f} ms)"
    )
    print(f"200 KB paste ({len(big) // 1024} KB): {t_big:.0f} ms; notices: {prof.notices[:1]}")
    target = 300
    verdict = "OK" if statistics.median(walls) < target else "OVER"
    print(f"target < {target} ms (median): {verdict}")


if __name__ == "__main__":
    main()
