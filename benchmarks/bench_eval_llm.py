"""An LLM eval against a loopback server that answers in 200 ms, at concurrency 8, vs the ideal.

The server is the test suite's OpenAI-compatible fake (tests/fake_openai.py) with a fixed
latency per request; it reads the rubric ids from each grading prompt and returns a verdict for
each, quoting the answer. The real openai client and LangChain talk to it over TCP.
The ideal time is calls x latency / concurrency: what a run costs if nothing but the server's
latency counted and every slot were always busy.

Reported: the grading phase of `eval run --grader llm` (the run's own `seconds`, every case and
each question's reference answer) against the ideal, with the ratio (target <= 1.3, issue 6);
the same run served from the cache; and the whole command in a fresh process for context
(imports and the bank load included, which the ideal does not count).

Run: .venv/bin/python benchmarks/bench_eval_llm.py [--cases 160] [--latency 0.2] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

SUITE = ROOT / "evals" / "grading" / "grading-breadth.yaml"
RUBRIC_LINE = re.compile(r"^- (\S+) \(([\d.]+) points\): ", re.M)
ANSWER_BLOCK = re.compile(r"<answer-([0-9a-f]{8})>\n(.*)\n</answer-\1>", re.S)


def make_server(latency: float):
    from fake_openai import FakeOpenAI, Reply

    server = FakeOpenAI()
    state = {"in_flight": 0, "max": 0}
    lock = threading.Lock()

    def reply(body: dict) -> Reply:
        with lock:
            state["in_flight"] += 1
            state["max"] = max(state["max"], state["in_flight"])
        try:
            time.sleep(latency)
            prompt = next(m["content"] for m in body["messages"] if m["role"] == "user" and "<answer-" in str(m["content"]))
            answer = ANSWER_BLOCK.search(prompt).group(2)
            quote = answer.split(". ")[0][:120]
            rubric = RUBRIC_LINE.findall(prompt.split("Reference answer")[0])
            crits = [{"id": cid, "awarded": float(p) / 2, "evidence": [quote], "feedback": "ok"} for cid, p in rubric]
            return Reply(json={"criteria": crits, "overall_feedback": "ok", "missing": ""})
        finally:
            with lock:
                state["in_flight"] -= 1

    server.default = reply
    return server.start(), state


def write_suite(n: int, folder: Path) -> Path:
    import yaml

    data = yaml.safe_load(SUITE.read_text(encoding="utf-8"))
    cases = data["cases"]
    while len(cases) < n:  # more than the file holds: grade the answers again under new ids
        cases = cases + [dict(c, id=f"{c['id']}-x{len(cases)}", answer=c["answer"] + " ") for c in data["cases"]]
    data["cases"] = cases[:n]
    data["gates"] = {}
    path = folder / "bench-suite.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=160)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="bench-eval-llm-"))
    os.environ["INTERVIEWER_HOME"] = str(home)
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "INTERVIEWER_MODEL", "INTERVIEWER_PROFILE"):
        os.environ.pop(var, None)
    suite = write_suite(args.cases, home)
    server, state = make_server(args.latency)
    try:
        from interviewer.evaluation import run_suites
        from interviewer.services import Services
        from interviewer.settings import Overrides

        # Warm the imports (LangChain, openai) with one call, so the timed run is the eval itself.
        svc = Services(Overrides(base_url=server.base_url, model="test-model"))
        from interviewer.chains.grader import LLMGrader

        q = next(iter(svc.bank.questions.values()))
        LLMGrader(svc.llm).grade(q, q.reference_answer)
        server.requests.clear()
        state["max"] = 0

        t = time.perf_counter()
        out = run_suites(svc, [suite], grader="llm", concurrency=args.concurrency, use_cache=True)
        wall = time.perf_counter() - t
        s = out["suites"][0]
        calls, phase = s["metrics"]["calls"], s["metrics"]["seconds"]
        ideal = calls * args.latency / args.concurrency
        assert len(server.requests) == calls, (len(server.requests), calls)

        t = time.perf_counter()
        cached = run_suites(svc, [suite], grader="llm", concurrency=args.concurrency, use_cache=True)["suites"][0]
        cached_wall = time.perf_counter() - t

        env = dict(os.environ, INTERVIEWER_HOME=str(home))
        t = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "interviewer.cli", "--base-url", server.base_url, "--model", "test-model", "eval", "run", str(suite), "--grader", "llm", "--concurrency", str(args.concurrency), "--no-cache", "--json"],
            capture_output=True, text=True, env=env, cwd=ROOT,
        )
        command = time.perf_counter() - t
        if proc.returncode != 0:
            raise SystemExit(f"eval run failed: {proc.stderr.strip()[-400:]}")
        sub_phase = json.loads(proc.stdout)["suites"][0]["metrics"]["seconds"]
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)

    print(f"{s['metrics']['n']} cases + {calls - args.cases} reference answers = {calls} calls, latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}; server saw at most {state['max']} in flight")
    print(f"{'measure (s)':<48}{'ideal':>8}{'ours':>8}{'ratio':>8}{'target':>8}")
    print(f"{'grading phase (the run`s own seconds)':<48}{ideal:>8.2f}{phase:>8.2f}{phase / ideal:>8.2f}{'<= 1.3':>8}")
    print(f"{'run_suites in-process, suite load included':<48}{ideal:>8.2f}{wall:>8.2f}{wall / ideal:>8.2f}{'':>8}")
    print(f"{'same run from the cache (0 calls)':<48}{0:>8.2f}{cached_wall:>8.2f}{'':>8}{'':>8}  cache hits {cached['metrics']['cache_hits']}/{calls}")
    print(f"{'whole command, fresh process, --no-cache':<48}{ideal:>8.2f}{command:>8.2f}{command / ideal:>8.2f}{'':>8}  (its grading phase {sub_phase:.2f})")


if __name__ == "__main__":
    main()
