"""Does the UI ever freeze? Event-loop blocking during a scripted session of every round type.

Target (issue 7): no handler blocks the event loop for more than 50 ms.

The app runs headless (App.run_test) in this process, driven like a user would: keys typed into
the editor, a paste, ctrl+s, ctrl+n, ctrl+r, the home menu. Two sessions, each in a fresh
INTERVIEWER_HOME:
- offline: breadth (5 questions), depth (follow-ups), system design (checklist), coding (tests);
- LLM, first run: the notes index is built in the warm-up worker while a depth round streams its
  follow-ups from the loopback server (tests/fake_openai.py) and a breadth answer is graded.

How blocking is measured, and why this way:
- Every callback the asyncio loop runs goes through `Handle._run`; we time each call with
  perf_counter. That is exactly what asyncio's debug mode measures for its "Executing <Handle>
  took 0.123 seconds" warnings, but for every callback (so we get p99 and max, not only the
  ones over the line) and without debug mode's own cost (it captures a traceback on every
  call_soon, which slows the very loop we are measuring). A callback's wall time includes any
  wait for the GIL held by a worker thread: that is blocking the user feels too.
- Textual runs each widget's handlers inside one task per widget, so the Handle only names a
  message pump. To name the handler, a watchdog thread samples the loop thread's stack while a
  callback runs past 40 ms, and also notes what the other threads were doing (a worker holding
  the GIL, an import). Each callback over 50 ms is reported with that stack.
- A heartbeat task (sleep 10 ms, measure how late it wakes) is a cross-check: its lateness is
  what a key press would wait.
The benchmark driver's own steps (setting up, pressing keys) and the heartbeat run as callbacks
too; they are counted apart and left out of the figures.

Run: .venv/bin/python benchmarks/bench_tui_responsiveness.py [--offline-only | --llm-only] [-v: full stacks]
"""

from __future__ import annotations

import asyncio
import collections
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THRESHOLD = 0.050
SAMPLE_AFTER = 0.040
SIZE = (120, 40)
VERBOSE = "-v" in sys.argv


# -- the monitor ----------------------------------------------------------------------------------


def _where(frame, limit: int = 400) -> list[str]:
    """A stack as 'Class.func' names, outermost first, trimmed to code worth naming."""
    out = []
    while frame is not None and len(out) < limit:
        code = frame.f_code
        fn = code.co_filename
        owner = frame.f_locals.get("self")
        name = f"{type(owner).__name__}.{code.co_name}" if owner is not None else code.co_name
        if "/interviewer/" in fn:
            out.append(f"<import {fn.split('/interviewer/')[-1]}>" if code.co_name == "<module>" else name)
        elif VERBOSE and "importlib" not in fn and "/asyncio/" not in fn and "/textual/" not in fn:
            out.append(f"{Path(fn).name}:{code.co_name}")
        elif "/textual/" in fn and (code.co_name.startswith(("on_", "_on_", "action_", "watch_", "_watch_", "compose", "_compose", "_update", "refresh", "_refresh")) or "render" in code.co_name or "reflow" in code.co_name or "layout" in code.co_name):
            out.append(f"textual:{name}")
        elif "importlib" in fn:
            out.append("<import>")
        frame = frame.f_back
    out.reverse()
    # collapse repeats (recursive renders, nested imports)
    dedup = [x for i, x in enumerate(out) if i == 0 or x != out[i - 1]]
    return dedup


class LoopMonitor:
    def __init__(self) -> None:
        self.app_durations: list[float] = []
        self.app_cpu: list[float] = []
        self.driver_durations: list[float] = []
        self.slow: list[tuple[float, float, str, list[str], list[str]]] = []
        self.lags: list[float] = []
        self.driver_task: asyncio.Task | None = None
        self.heartbeat_task: asyncio.Task | None = None
        self._current: tuple[int, float] | None = None
        self._samples: dict[int, tuple[list[str], list[str]]] = {}
        self._seq = 0
        self._stop = threading.Event()
        self._loop_thread = threading.get_ident()
        self._orig = None
        self.gc_pauses: list[tuple[int, float, bool]] = []  # generation, seconds, on the loop thread
        self._gc_t0 = 0.0
        self._gc_in_callback: dict[int, float] = {}

    def install(self) -> None:
        import asyncio.events as ev

        self._orig = orig = ev.Handle._run
        mon = self

        def _run(handle):
            mon._seq += 1
            seq = mon._seq
            t0 = time.perf_counter()
            c0 = time.thread_time()
            mon._current = (seq, t0)
            try:
                return orig(handle)
            finally:
                dt = time.perf_counter() - t0
                cpu = time.thread_time() - c0
                mon._current = None
                owner = getattr(handle._callback, "__self__", None)
                if owner is not None and (owner is mon.driver_task or owner is mon.heartbeat_task):
                    mon.driver_durations.append(dt)
                else:
                    mon.app_durations.append(dt)
                    mon.app_cpu.append(cpu)
                    if dt > THRESHOLD:
                        stack, others = mon._samples.pop(seq, ([], []))
                        gc_s = mon._gc_in_callback.get(seq, 0.0)
                        mon.slow.append((dt, cpu, _describe(handle), stack, others + ([f"garbage collection {gc_s * 1e3:.0f} ms of it"] if gc_s > 0.005 else [])))
                mon._samples.pop(seq, None)
                mon._gc_in_callback.pop(seq, None)

        ev.Handle._run = _run
        threading.Thread(target=self._watch, daemon=True, name="loop-watchdog").start()
        import gc

        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict) -> None:
        # The collector stops every thread (it holds the GIL): a long one freezes the loop
        # whichever thread triggered it.
        if phase == "start":
            self._gc_t0 = time.perf_counter()
            return
        dt = time.perf_counter() - self._gc_t0
        on_loop = threading.get_ident() == self._loop_thread
        self.gc_pauses.append((info.get("generation", -1), dt, on_loop))
        cur = self._current
        if cur is not None and on_loop:
            self._gc_in_callback[cur[0]] = self._gc_in_callback.get(cur[0], 0.0) + dt

    def uninstall(self) -> None:
        import asyncio.events as ev
        import gc

        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        self._stop.set()
        if self._orig is not None:
            ev.Handle._run = self._orig

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            cur = self._current
            if cur is None or cur[0] in self._samples or time.perf_counter() - cur[1] < SAMPLE_AFTER:
                continue
            frames = sys._current_frames()
            main = _where(frames.get(self._loop_thread))
            others = []
            for tid, fr in frames.items():
                if tid in (self._loop_thread, threading.get_ident()):
                    continue
                w = _where(fr)
                if w:
                    others.append(" > ".join(w[-4:]))
            self._samples[cur[0]] = (main, others)

    async def heartbeat(self) -> None:
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.010)
            self.lags.append(max(0.0, time.perf_counter() - t - 0.010))

    def reset(self) -> None:
        self.app_durations.clear()
        self.app_cpu.clear()
        self.driver_durations.clear()
        self.slow.clear()
        self.lags.clear()
        self.gc_pauses.clear()


def _describe(handle) -> str:
    owner = getattr(handle._callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        return owner.get_name()
    cb = handle._callback
    return getattr(cb, "__qualname__", None) or repr(cb)[:80]


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


# -- the scripted sessions --------------------------------------------------------------------------


async def wait_workers(pilot, app, timeout: float = 60.0) -> None:
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        await pilot.pause(0.05)
        if not any(w.is_running for w in app.workers if w.group in ("grading", "tests", "coverage")):
            await pilot.pause(0.05)
            return
    raise TimeoutError("workers still running")


async def type_and_paste(pilot, app, text: str, typed: int = 40) -> None:
    """Type the start key by key (each keystroke saves the draft), paste the rest."""
    from textual import events

    editor = app.screen.query_one("#answer")
    editor.focus()
    editor.move_cursor(editor.document.end)
    head, tail = text[:typed], text[typed:]
    for ch in head:
        await pilot.press("space" if ch == " " else ch.lower() if ch.isalnum() else "full_stop" if ch == "." else "comma" if ch == "," else "minus")
    if tail:
        editor.post_message(events.Paste(tail))
    await pilot.pause(0.1)


async def open_round(pilot, app, key: str) -> None:
    from interviewer.tui.practice import PracticeScreen

    menu = app.screen.query_one("#home-menu")
    menu.focus()
    menu.highlighted = menu.get_option_index(key)
    await pilot.press("enter")
    for _ in range(200):
        await pilot.pause(0.02)
        if isinstance(app.screen, PracticeScreen):
            return
    raise TimeoutError(f"round {key} did not start")


async def finish_question(pilot, app, answer: str, follow_up_answer: str) -> None:
    """Answer, then any follow-ups, until the grade shows; then ctrl+n."""
    await type_and_paste(pilot, app, answer)
    await pilot.press("ctrl+s")
    await wait_workers(pilot, app)
    for _ in range(4):
        if app.screen.awaiting_next:
            break
        await type_and_paste(pilot, app, follow_up_answer)
        await pilot.press("ctrl+s")
        await wait_workers(pilot, app)
    await pilot.pause(0.2)  # let the feedback render: that is part of the handler cost
    await pilot.press("ctrl+n")
    await pilot.pause(0.2)


async def run_round(pilot, app, key: str) -> None:
    from interviewer.tui.app import HomeScreen, SummaryScreen

    await open_round(pilot, app, key)
    for _ in range(8):
        if isinstance(app.screen, SummaryScreen):
            break
        q = app.screen.engine.question
        if key == "coding":
            await type_and_paste(pilot, app, "\n# first try\n", typed=0)
            app.screen.query_one("#answer").text = q.reference_answer
            await pilot.press("ctrl+r")
            await wait_workers(pilot, app)
            await pilot.pause(0.2)
            await pilot.press("ctrl+s")
            await wait_workers(pilot, app)
            await pilot.pause(0.2)
            await pilot.press("ctrl+n")
            await pilot.pause(0.2)
            continue
        first = q.reference_answer.split(". ")[0] + "." if key == "depth" else q.reference_answer
        if key == "system_design":
            await type_and_paste(pilot, app, first)
            await pilot.pause(1.5)  # the checklist refreshes after the typing pause
            app.screen.query_one("#answer").text = ""
        await finish_question(pilot, app, first, "I would compare the two data distributions first, then check the labels.")
    for _ in range(100):
        if isinstance(app.screen, SummaryScreen):
            break
        await pilot.pause(0.05)
    await pilot.pause(0.5)  # the summary renders
    await pilot.press("h")
    for _ in range(100):
        if isinstance(app.screen, HomeScreen):
            break
        await pilot.pause(0.05)


async def baseline_session(mon: LoopMonitor) -> dict:
    """The floor: a bare Textual app with the same widgets and content, no workers, no engine.

    Header, a status line on a 250 ms timer, a question Markdown, a soft-wrapped TextArea, a
    feedback Markdown with a criteria table, a Footer; the same typing and pasting."""
    mon.driver_task = asyncio.current_task()
    from textual.app import App
    from textual.containers import VerticalScroll
    from textual.widgets import Footer, Header, Markdown, Static, TextArea

    from interviewer.bank import load_bank

    qs = [q for q in load_bank().questions.values() if q.round == "breadth"][:5]

    class Bare(App):
        def compose(self):
            yield Header()
            yield Static("", id="status")
            with VerticalScroll():
                yield Markdown("", id="question")
            yield TextArea("", id="answer", soft_wrap=True)
            with VerticalScroll():
                yield Markdown("", id="feedback")
            yield Footer()

        def on_mount(self):
            self.set_interval(0.25, lambda: self.query_one("#status", Static).update(f"question {time.monotonic():.0f}"))

    app = Bare()
    async with app.run_test(size=SIZE) as pilot:
        hb = mon.heartbeat_task = asyncio.create_task(mon.heartbeat())
        for q in qs:
            app.query_one("#question", Markdown).update(f"**Question.** {q.prompt}")
            app.query_one("#answer", TextArea).text = ""
            await type_and_paste(pilot, app, q.reference_answer)
            table = ["| criterion | points | feedback |", "|---|---|---|"] + [f"| {c.id} | {c.points:g}/{c.points:g} | Covered: {c.criterion} |" for c in q.rubric]
            app.query_one("#feedback", Markdown).update(f"### Score 9.0 / 10\n\n" + "\n".join(table) + f"\n\n**Reference answer**\n\n{q.reference_answer}")
            await pilot.pause(0.5)
        hb.cancel()
    return {}


async def offline_session(mon: LoopMonitor) -> dict:
    mon.driver_task = asyncio.current_task()
    from interviewer.services import Services
    from interviewer.settings import Overrides
    from interviewer.tui.app import InterviewerApp

    svc = Services(Overrides(offline=True))
    app = InterviewerApp(svc, start_home=True)
    async with app.run_test(size=SIZE) as pilot:
        hb = mon.heartbeat_task = asyncio.create_task(mon.heartbeat())
        while any(w.is_running for w in app.workers if w.group == "models") or app.first_frame is None:
            await pilot.pause(0.05)
        for key in ("breadth", "depth", "system_design", "coding"):
            await run_round(pilot, app, key)
        hb.cancel()
    return {"sessions": len(svc.journal.sessions())}


async def llm_session(mon: LoopMonitor) -> dict:
    mon.driver_task = asyncio.current_task()
    sys.path.insert(0, str(ROOT / "tests"))
    from fake_openai import FakeOpenAI, Reply

    from interviewer.services import Services
    from interviewer.settings import Overrides, config_path
    from interviewer.tui.app import InterviewerApp

    follow = "Which single measurement would you take first to confirm the shift between the two sites, and why that one before any other?"
    with FakeOpenAI() as server:
        server.chunk_size = 3
        path = config_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'[profiles.loop]\nbase_url = "{server.base_url}"\nmodel = "test-model"\ntimeout = 10\nmax_retries = 0\n', encoding="utf-8")
        svc = Services(Overrides(profile="loop"))
        app = InterviewerApp(svc, start_home=True)

        def reply(body: dict) -> Reply:
            if body.get("stream"):
                return Reply(text=follow, delay=0.02)
            q = app.screen.engine.question
            quote = app.screen.engine.attempt.full_answer().split(".")[0][:30]
            return Reply(
                json={"criteria": [{"id": c.id, "awarded": c.points / 2, "evidence": [quote], "feedback": "Part of it."} for c in q.rubric], "overall_feedback": "A fair start.", "missing": "More detail."},
                delay=0.2,
            )

        server.default = reply
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            hb = mon.heartbeat_task = asyncio.create_task(mon.heartbeat())
            while app.first_frame is None:
                await pilot.pause(0.05)
            # the warm-up worker is indexing the notes now (a first run): play a round meanwhile
            await run_round(pilot, app, "depth")
            t = time.monotonic()
            while any(w.is_running for w in app.workers if w.group == "models"):
                await pilot.pause(0.1)
            waited = time.monotonic() - t
            await run_round(pilot, app, "breadth")
            hb.cancel()
        streamed = sum(1 for b in server.requests if b.get("stream"))
    return {"stream_requests": streamed, "index_wait_after_depth_s": round(waited, 1)}


def report(name: str, mon: LoopMonitor, extra: dict, wall: float) -> None:
    d = mon.app_durations
    load = os.getloadavg()[0]
    print(f"\n== {name}: {len(d)} loop callbacks in {wall:.1f} s ({len(mon.driver_durations)} driver steps left out) {extra}")
    print(f"machine: {os.cpu_count()} cores, load average {load:.2f} at the end (other processes inflate wall times)")
    print(f"{'measure (ms)':<38}{'p50':>8}{'p99':>8}{'max':>8}{'target':>10}")
    print(f"{'callback duration (app handlers)':<38}{pct(d, 50) * 1e3:>8.2f}{pct(d, 99) * 1e3:>8.2f}{max(d, default=0) * 1e3:>8.1f}{'max < 50':>10}")
    c = mon.app_cpu
    print(f"{'  of which the loop thread on CPU':<38}{pct(c, 50) * 1e3:>8.2f}{pct(c, 99) * 1e3:>8.2f}{max(c, default=0) * 1e3:>8.1f}{'':>10}")
    print(f"{'heartbeat lateness (10 ms period)':<38}{pct(mon.lags, 50) * 1e3:>8.2f}{pct(mon.lags, 99) * 1e3:>8.2f}{max(mon.lags, default=0) * 1e3:>8.1f}{'':>10}")
    for gen in (0, 1, 2):
        g = [dt for gg, dt, _ in mon.gc_pauses if gg == gen]
        if g:
            print(f"{f'garbage collections, generation {gen} ({len(g)})':<38}{pct(g, 50) * 1e3:>8.2f}{pct(g, 99) * 1e3:>8.2f}{max(g) * 1e3:>8.1f}{'':>10}")
    if not mon.slow:
        print("no callback over 50 ms")
        return
    print(f"callbacks over 50 ms: {len(mon.slow)}")
    groups: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
    detail: dict[str, tuple[list[str], list[str]]] = {}
    for dt, cpu, label, stack, others in mon.slow:
        ours = [f for f in stack if not f.startswith(("textual:", "<import>"))]
        # name our handler (outermost frame of ours) and what was running when sampled
        key = " > ".join(([ours[0], "…"] if ours and ours[0] not in stack[-4:] else []) + stack[-4:]) if stack else label
        groups[key].append((dt, cpu))
        detail.setdefault(key, (stack, others))
    print("  (wall ms / the loop thread's own CPU ms: wall far above CPU means it waited for the CPU or the GIL)")
    for key, xs in sorted(groups.items(), key=lambda kv: -max(x[0] for x in kv[1])):
        worst = max(xs)
        print(f"  {len(xs):>3} x, worst {worst[0] * 1e3:6.1f} / {worst[1] * 1e3:5.1f} ms: {key}")
        stack, others = detail[key]
        if VERBOSE:
            print(f"        stack: {' > '.join(stack)}")
        for o in others[:3]:
            print(f"        meanwhile in another thread: {o}")


SCENARIOS = {
    "baseline": ("baseline: a bare Textual app, same widgets and typing", baseline_session),
    "offline": ("offline, every round type", offline_session),
    "llm": ("LLM mode, first run (notes indexed meanwhile)", llm_session),
}


def run_scenario(key: str) -> None:
    name, fn = SCENARIOS[key]
    os.environ["INTERVIEWER_HOME"] = tempfile.mkdtemp(prefix="bench-tui-")
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "INTERVIEWER_MODEL", "INTERVIEWER_PROFILE"):
        os.environ.pop(var, None)
    mon = LoopMonitor()
    mon.install()
    try:
        t = time.perf_counter()
        extra = asyncio.run(fn(mon))
        report(name, mon, extra, time.perf_counter() - t)
    finally:
        mon.uninstall()


def main() -> None:
    if "--scenario" in sys.argv:
        run_scenario(sys.argv[sys.argv.index("--scenario") + 1])
        return
    keys = list(SCENARIOS)
    if "--offline-only" in sys.argv:
        keys.remove("llm")
    if "--llm-only" in sys.argv:
        keys = ["llm"]
    # One process per scenario, as a user starts the app: what one session imports, loads and
    # freezes must not carry over into the next one's figures.
    flags = ["-v"] if VERBOSE else []
    for key in keys:
        subprocess.run([sys.executable, __file__, "--scenario", key, *flags], check=False)


if __name__ == "__main__":
    main()
