"""How much does the coding-round sandbox cost per run?

    python benchmarks/bench_sandbox.py [--n 10] [--autoload]

Times N runs of the same small correct solution (NDCG@k with numpy) against 5 tests, interleaved:

  bare     `python -m pytest -q` in a fresh temporary directory: no limits, no isolation, no plugin.
           pytest's plugin autoload is off here (PYTEST_DISABLE_PLUGIN_AUTOLOAD=1), as it is in the
           sandbox: otherwise the venv's plugins (textual snapshots, ...) dominate and hide the
           sandbox's own cost. `--autoload` adds a column with autoload on, for reference.
  sandbox  `interviewer.rounds.sandbox.run_tests` with the default limits and whatever isolation
           this machine has (probed once, before timing; the probe time is printed separately).

Prints medians and the overhead (target: under 300 ms per run).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SOLUTION = '''\
import numpy as np


def dcg_at_k(rels, k):
    rels = np.asarray(rels, dtype=float)[:k]
    if rels.size == 0:
        return 0.0
    return float(np.sum((2 ** rels - 1) / np.log2(np.arange(2, rels.size + 2))))


def ndcg_at_k(rels, k):
    ideal = dcg_at_k(sorted(rels, reverse=True), k)
    return 0.0 if ideal == 0 else dcg_at_k(rels, k) / ideal
'''

TESTS = '''\
import pytest

from solution import dcg_at_k, ndcg_at_k


def test_perfect_ranking_scores_one():
    assert ndcg_at_k([3, 2, 1, 0], 4) == pytest.approx(1.0)


def test_reversed_ranking_scores_less_than_one():
    assert ndcg_at_k([0, 1, 2, 3], 4) < 1.0


def test_all_zero_relevance_is_zero():
    assert ndcg_at_k([0, 0, 0], 3) == 0.0


def test_cutoff_ignores_items_below_k():
    assert dcg_at_k([1, 0, 5], 2) == pytest.approx(1.0)


def test_known_value():
    assert ndcg_at_k([3, 2, 3, 0, 1, 2], 6) == pytest.approx(0.9488, abs=1e-3)
'''


def bare_once(autoload: bool) -> float:
    tmp = tempfile.mkdtemp(prefix="mi-bench-bare-")
    try:
        Path(tmp, "solution.py").write_text(SOLUTION)
        Path(tmp, "test_hidden.py").write_text(TESTS)
        env = dict(os.environ)
        if autoload:
            env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
        else:
            env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=tmp, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"bare pytest failed:\n{proc.stdout.decode(errors='replace')}")
        return elapsed
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sandbox_once(run_tests) -> float:
    t0 = time.perf_counter()
    report = run_tests(SOLUTION, TESTS)
    elapsed = time.perf_counter() - t0
    if report.status != "ok" or report.passed != 5:
        raise SystemExit(f"sandbox run failed: {report.status} {report.message}\n{report.results}\n{report.stderr}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10, help="runs per variant (default 10)")
    ap.add_argument("--autoload", action="store_true", help="also time bare pytest with plugin autoload on")
    args = ap.parse_args()

    t0 = time.perf_counter()
    from interviewer.rounds.sandbox import isolation_status, run_tests

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    status = isolation_status()
    probe_s = time.perf_counter() - t0
    print(f"isolation: {status['isolation']}  network: {status['network']}  "
          f"filesystem: {status.get('filesystem', '?')}  processes: {status.get('processes', '?')}")
    print(f"import of the sandbox module: {import_s * 1000:.0f} ms; one-time probe: {probe_s * 1000:.0f} ms")

    # warm up the OS caches for both paths (not timed)
    bare_once(False)
    sandbox_once(run_tests)

    bare, boxed, auto = [], [], []
    for _ in range(args.n):
        bare.append(bare_once(False))
        boxed.append(sandbox_once(run_tests))
        if args.autoload:
            auto.append(bare_once(True))

    def row(label: str, xs: list[float]) -> None:
        print(f"{label:<34} median {statistics.median(xs) * 1000:7.0f} ms   "
              f"min {min(xs) * 1000:7.0f} ms   max {max(xs) * 1000:7.0f} ms")

    print(f"\n{args.n} runs each, 1 solution + 5 tests (numpy):")
    row("bare  python -m pytest -q", bare)
    row("sandbox  run_tests()", boxed)
    if auto:
        row("bare, plugin autoload on", auto)
    overhead = statistics.median(boxed) - statistics.median(bare)
    best = min(boxed) - min(bare)
    verdict = "OK" if overhead < 0.300 else "OVER TARGET"
    print(f"\nsandbox overhead (median - median): {overhead * 1000:+.0f} ms per run "
          f"(target < 300 ms): {verdict}")
    print(f"sandbox overhead (min - min, steadier on a busy machine): {best * 1000:+.0f} ms per run")
    try:
        load = os.getloadavg()[0]
        if load > (os.cpu_count() or 1):
            print(f"note: load average {load:.1f} on {os.cpu_count()} CPUs - other work is inflating wall times")
    except OSError:
        pass


if __name__ == "__main__":
    main()
