"""Startup benchmarks, each beside its baseline in the same run.

- `interviewer --help` vs a bare `python -c pass` (the interpreter's own floor).
- First frame of the practice screen (the app records it in `first_frame`) vs a bare Textual
  app's first frame in the same process conditions.
Run: .venv/bin/python benchmarks/bench_startup.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def timed(cmd: list[str], n: int = 7, env=None) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


FIRST_FRAME = r'''
import time, sys
t0 = time.perf_counter()
import asyncio
kind = sys.argv[1]
if kind == "bare":
    from textual.app import App
    from textual.widgets import Static
    class A(App):
        def compose(self):
            yield Static("hello")
        def on_mount(self):
            self.call_after_refresh(self.done)
        def done(self):
            print(time.perf_counter() - t0); self.exit()
    app = A()
else:
    from interviewer.services import Services
    from interviewer.settings import Overrides
    from interviewer.tui.app import InterviewerApp
    svc = Services(Overrides(offline=True))
    engine = svc.new_engine(round="breadth", questions=3, seed=1)
    app = InterviewerApp(svc, engine=engine)
async def main():
    async with app.run_test(size=(120, 40)) as pilot:
        if kind == "bare":
            await pilot.pause(1)
            return
        while getattr(app, "first_frame", None) is None:
            await pilot.pause(0.01)
        # the app measures from its own import; report from this process's start for parity
        print(time.perf_counter() - t0)
asyncio.run(main())
'''


def first_frame(kind: str, env) -> float:
    out = []
    for _ in range(3):
        r = subprocess.run([sys.executable, "-c", FIRST_FRAME, kind], capture_output=True, text=True, env=env)
        out.append(float(r.stdout.strip().splitlines()[0]))
    return statistics.median(out)


def main() -> None:
    env = dict(os.environ, INTERVIEWER_HOME=tempfile.mkdtemp())
    base = timed([sys.executable, "-c", "pass"], env=env)
    help_t = timed([str(BIN / "interviewer"), "--help"], env=env)
    print(f"{'measure':<34}{'baseline':>10}{'ours':>10}{'target':>10}")
    print(f"{'interviewer --help (s)':<34}{base:>10.3f}{help_t:>10.3f}{'< 0.3':>10}")
    bare = first_frame("bare", env)
    ours = first_frame("ours", env)
    print(f"{'practice screen first frame (s)':<34}{bare:>10.3f}{ours:>10.3f}{'< 1.0':>10}")


if __name__ == "__main__":
    main()
