"""`interviewer progress` over a journal of 10,000 graded answers, beside `interviewer --help`.

The journal is built through the journal's own API (record_answer, record_grade with its
spaced-repetition cards, finish_session) from real bank questions: two years of sessions, every
round, per-criterion grades with feedback and evidence, answers of a few hundred words. Only the
clock is moved, so answers spread over many days as a real history does.

Then it times, as whole commands in fresh processes, `interviewer progress` (rich tables) and
`interviewer progress --json`, with `interviewer --help` as the baseline: the difference is what
progress itself costs. It also times the in-process progress computation alone.
Target (issue 9): `interviewer progress` over 10,000 graded answers in under 1 s.

Run: .venv/bin/python benchmarks/bench_progress.py [--answers 10000] [--runs 9] [--keep DIR]
(--keep DIR builds the journal there once and reuses it on later runs.)
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DAY = 86_400.0


class _Clock:
    """Stands in for the `time` module inside interviewer.journal while the history is built."""

    def __init__(self, start: float):
        self.now = start

    def time(self) -> float:
        return self.now


def build_journal(home: Path, n_answers: int, seed: int = 7) -> dict:
    """Fill INTERVIEWER_HOME/journal.sqlite with `n_answers` graded answers; returns counts."""
    os.environ["INTERVIEWER_HOME"] = str(home)
    import interviewer.journal as journal_mod
    from interviewer.bank import load_bank
    from interviewer.journal import Journal
    from interviewer.schema import CriterionGrade, Grade

    rng = random.Random(seed)
    bank = load_bank()
    by_round: dict[str, list] = {}
    for q in bank.questions.values():
        by_round.setdefault(q.round, []).append(q)
    # A candidate's own skill per topic, improving over the months: scores are not noise.
    skill = {t: rng.uniform(2.5, 7.5) for q in bank.questions.values() for t in q.topics}
    filler = [s for q in bank.questions.values() for s in q.reference_answer.split(". ") if len(s) > 40]

    start = time.time() - 800 * DAY  # about 2,600 sessions at a few a day end near today
    clock = _Clock(start)
    real_time = journal_mod.time
    journal_mod.time = clock  # the journal stamps rows with time.time(): move that clock only
    j = Journal()
    answers = sessions = 0
    try:
        while answers < n_answers:
            clock.now += rng.uniform(0.2, 1.6) * DAY / 3  # a few sessions a day, some days none
            rounds = rng.sample(["breadth", "depth", "system_design", "coding"], k=rng.choice([1, 1, 1, 2]))
            sid = j.start_session(rng.choice(["practice", "mock"]), rounds, endpoint=None, model=None, state={"position": 0})
            sessions += 1
            in_session = 0
            for rnd in rounds:
                per_round = {"breadth": rng.randint(4, 10), "depth": rng.randint(2, 4), "system_design": 1, "coding": rng.randint(1, 2)}[rnd]
                for q in rng.sample(by_round[rnd], k=min(per_round, len(by_round[rnd]))):
                    if answers >= n_answers:
                        break
                    months = (clock.now - start) / (30 * DAY)
                    level = min(9.5, sum(skill[t] for t in q.topics) / len(q.topics) + 0.12 * months)
                    text = ". ".join(rng.sample(filler, k=rng.randint(3, 9))) + "."
                    seconds = rng.uniform(40, 240) if rnd == "breadth" else rng.uniform(300, 2400)
                    clock.now += seconds
                    aid = j.record_answer(sid, q, text, seconds, timed_out=rng.random() < 0.05, hints=rng.choice([0, 0, 0, 1]))
                    crit = []
                    for c in q.rubric:
                        share = min(1.0, max(0.0, rng.gauss(level / 10, 0.2)))
                        awarded = round(share * c.points * 2) / 2
                        quote = text[: rng.randint(30, 90)] if awarded else ""
                        crit.append(CriterionGrade(id=c.id, awarded=awarded, points=c.points, feedback=f"{'Covered' if awarded >= c.points else 'Partly covered' if awarded else 'Missing'}: {c.criterion}", evidence=[quote] if quote else []))
                    score = Grade.score_from(crit)
                    g = Grade(question_id=q.id, score=score, criteria=crit, feedback=f"Score {score:.1f}/10.", missing=" ".join(c.criterion for c in q.rubric[:2]), grader=rng.choice(["offline", "llm"]), prompt_version="grader-v1", relevance=0.6, tokens=rng.randint(800, 2400))
                    j.record_grade(aid, g)
                    answers += 1
                    in_session += 1
            j.finish_session(sid, {"answers": in_session})
        counts = {t: j.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("sessions", "answers", "criterion_grades", "answer_topics", "answer_domains", "cards")}
        counts["days"] = j.db.execute("SELECT COUNT(DISTINCT date(submitted_at, 'unixepoch')) FROM answers").fetchone()[0]
        j.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        journal_mod.time = real_time
        j.close()
    counts["mb"] = round((home / "journal.sqlite").stat().st_size / 1e6, 1)
    return counts


def timed(cmd: list[str], env: dict, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
        out.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-300:]}")
    return out


def p95(xs: list[float]) -> float:
    return sorted(xs)[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--answers", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--keep", type=Path, help="build the journal here and keep it")
    args = ap.parse_args()
    home = args.keep or Path(tempfile.mkdtemp(prefix="bench-progress-"))
    home.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        if (home / "journal.sqlite").exists():
            counts = {"reused": str(home / "journal.sqlite")}
        else:
            counts = build_journal(home, args.answers)
        print(f"journal built in {time.perf_counter() - t:.1f} s: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

        from interviewer.journal import Journal

        os.environ["INTERVIEWER_HOME"] = str(home)
        j = Journal()
        j.progress()  # first read warms the OS page cache, as any earlier command would have
        inproc = []
        for _ in range(args.runs):
            t = time.perf_counter()
            data = j.progress()
            inproc.append(time.perf_counter() - t)
        t = time.perf_counter()
        j.weak_topics()
        weak_s = time.perf_counter() - t
        j.close()

        env = dict(os.environ, INTERVIEWER_HOME=str(home), COLUMNS="120")
        for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "INTERVIEWER_MODEL", "INTERVIEWER_PROFILE"):
            env.pop(var, None)
        exe = str(BIN / "interviewer")
        help_t = timed([exe, "--help"], env, args.runs)
        # A second baseline: a command that opens the same journal through the same CLI path
        # (typer's option parsing, services, the journal's open and migration check) and
        # aggregates nothing. progress minus this is what the aggregation and rendering cost.
        list_t = timed([exe, "journal", "list", "--json"], env, args.runs)
        table_t = timed([exe, "progress"], env, args.runs)
        json_t = timed([exe, "progress", "--json"], env, args.runs)

        print(f"\n{data['answers']} graded answers, {len(data['by_topic'])} topics, {len(data['trend'])} trend points, {len(data['topic_trend'])} topic-trend points")
        print(f"{'measure (s)':<44}{'median':>9}{'p95':>9}{'target':>9}")
        print(f"{'baseline: interviewer --help':<44}{statistics.median(help_t):>9.3f}{p95(help_t):>9.3f}{'':>9}")
        print(f"{'baseline: interviewer journal list --json':<44}{statistics.median(list_t):>9.3f}{p95(list_t):>9.3f}{'':>9}")
        print(f"{'interviewer progress':<44}{statistics.median(table_t):>9.3f}{p95(table_t):>9.3f}{'< 1.0':>9}")
        print(f"{'interviewer progress --json':<44}{statistics.median(json_t):>9.3f}{p95(json_t):>9.3f}{'< 1.0':>9}")
        print(f"{'in-process Journal.progress()':<44}{statistics.median(inproc):>9.3f}{p95(inproc):>9.3f}{'':>9}")
        print(f"{'in-process Journal.weak_topics() (once)':<44}{weak_s:>9.3f}{'':>9}{'':>9}")
        med = statistics.median
        print(f"progress costs {med(table_t) - med(help_t):+.3f} s over --help ({med(table_t) / med(help_t):.2f}x) "
              f"and {med(table_t) - med(list_t):+.3f} s over journal list; --json {med(json_t) - med(list_t):+.3f} s over journal list")
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
