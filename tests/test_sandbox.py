"""The coding-round sandbox (interviewer.rounds.sandbox).

Each test names the behaviour it protects. The safety tests run once per isolation backend this
machine has (bwrap, unshare, rlimits-only; forced with MOCK_INTERVIEWER_SANDBOX) and skip a backend
that is not usable here, or a property that backend does not claim (see `isolation_status()`).
Small limits keep the whole file well under a minute.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from interviewer.rounds import sandbox
from interviewer.rounds.sandbox import Limits, isolation_status, run_tests

SECRET = "sk-test-secret"
SMALL = Limits(per_test_seconds=2.0, total_seconds=10.0, memory_mb=768, max_processes=16,
               max_open_files=64, max_file_mb=4, max_output_chars=2_000)
BACKENDS = {"bwrap": "bwrap", "unshare": "unshare-net+userns", "rlimits": "rlimits-only"}


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@pytest.fixture(autouse=True)
def fake_api_key(monkeypatch):
    """Every test runs with a secret in the app's environment; no candidate may ever see it."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)


@pytest.fixture(params=list(BACKENDS))
def backend(request, monkeypatch):
    """Run the test under one backend; skip when this machine cannot provide it."""
    monkeypatch.setenv(sandbox.FORCE_ENV, request.param)
    status = isolation_status()
    if status["isolation"] != BACKENDS[request.param]:
        pytest.skip(f"{request.param} is not usable here: {'; '.join(status['details'])}")
    return status


def names(report) -> dict[str, str]:
    return {r.name: r.outcome for r in report.results}


def no_secret(report) -> None:
    blob = report.model_dump_json()
    assert SECRET not in blob, "the candidate's run saw the user's API key"


NDCG = dedent('''
    import numpy as np


    def dcg_at_k(rels, k):
        rels = np.asarray(rels, dtype=float)[:k]
        if rels.size == 0:
            return 0.0
        return float(np.sum((2 ** rels - 1) / np.log2(np.arange(2, rels.size + 2))))


    def ndcg_at_k(rels, k):
        ideal = dcg_at_k(sorted(rels, reverse=True), k)
        return 0.0 if ideal == 0 else dcg_at_k(rels, k) / ideal
''')

NDCG_TESTS = dedent('''
    import numpy as np
    import pytest

    from solution import dcg_at_k, ndcg_at_k


    def test_perfect_ranking_scores_one():
        assert ndcg_at_k([3, 2, 1, 0], 4) == pytest.approx(1.0)


    def test_reversed_ranking_scores_less_than_one():
        assert ndcg_at_k([0, 1, 2, 3], 4) < 1.0, "a reversed ranking must score below 1"


    def test_all_zero_relevance_is_zero():
        assert ndcg_at_k([0, 0, 0], 3) == 0.0


    def test_cutoff_ignores_items_below_k():
        assert dcg_at_k([1, 0, 5], 2) == pytest.approx(1.0)


    def test_known_value():
        assert ndcg_at_k([3, 2, 3, 0, 1, 2], 6) == pytest.approx(0.9488, abs=1e-3)
''')


# ---------------------------------------------------------------------------------------------------
# results


def test_correct_numpy_solution_passes_every_test():
    report = run_tests(NDCG, NDCG_TESTS, SMALL)
    assert report.status == "ok", report.message or report.stderr
    assert report.passed == 5 and report.failed == 0 and report.errors == 0
    assert list(names(report)) == ["test_perfect_ranking_scores_one", "test_reversed_ranking_scores_less_than_one",
                                   "test_all_zero_relevance_is_zero", "test_cutoff_ignores_items_below_k",
                                   "test_known_value"], "results come back in collection order, short names"
    assert report.isolation == isolation_status()["isolation"]
    assert all(r.duration >= 0 for r in report.results)


def test_wrong_solution_shows_failed_tests_with_assertion_messages():
    wrong = NDCG.replace("reverse=True", "reverse=False")
    report = run_tests(wrong, NDCG_TESTS, SMALL)
    assert report.status == "ok"
    assert report.failed >= 1 and report.passed >= 1
    failed = {r.name: r.message for r in report.results if r.outcome == "failed"}
    assert "test_reversed_ranking_scores_less_than_one" in failed
    assert "a reversed ranking must score below 1" in failed["test_reversed_ranking_scores_less_than_one"]
    assert "assert" in failed["test_perfect_ranking_scores_one"], "pytest's assertion introspection is kept"


def test_exception_in_solution_names_the_solution_line():
    code = "def f(x):\n    return 1 / x\n"
    tests = "from solution import f\n\ndef test_f():\n    assert f(0) == 0\n"
    report = run_tests(code, tests, SMALL)
    (res,) = report.results
    assert res.outcome == "failed"
    assert "ZeroDivisionError" in res.message and "solution.py, line 2" in res.message


def test_syntax_error_is_reported_with_its_line_without_running():
    report = run_tests("import numpy as np\n\ndef f(:\n    pass\n", NDCG_TESTS, SMALL)
    assert report.status == "syntax_error"
    assert report.message.startswith("SyntaxError at line 3"), report.message
    assert report.results == [] and report.duration < 0.5


def test_missing_module_import_is_a_clear_error_result():
    code = "import sklearn_not_installed_anywhere\n\ndef f():\n    return 1\n"
    tests = "from solution import f\n\ndef test_f():\n    assert f() == 1\n"
    report = run_tests(code, tests, SMALL)
    assert report.errors == 1 and report.passed == 0
    (res,) = report.results
    assert res.outcome == "error"
    assert "No module named 'sklearn_not_installed_anywhere'" in res.message
    assert "solution.py, line 1" in res.message
    assert "sklearn_not_installed_anywhere" in report.message


def test_no_tests_found_is_its_own_status():
    report = run_tests("x = 1\n", "from solution import x\n\ndef helper():\n    return x\n", SMALL)
    assert report.status == "no_tests" and report.total == 0


# ---------------------------------------------------------------------------------------------------
# runaway code


LOOPY = dedent('''
    import signal
    import time

    def fine():
        return 1

    def spin():
        while True:
            pass

    def stubborn():
        signal.signal(signal.SIGALRM, signal.SIG_IGN)  # swallows the in-process timeout
        while True:
            time.sleep(0.05)
''')


def test_infinite_loop_times_out_that_test_and_the_others_still_report():
    tests = dedent('''
        from solution import fine, spin

        def test_one():
            assert fine() == 1

        def test_two():
            assert fine() == 1

        def test_three_hangs():
            spin()

        def test_four():
            assert fine() == 1
    ''')
    limits = Limits(per_test_seconds=1.0, total_seconds=10.0, memory_mb=768, max_processes=16)
    t0 = time.monotonic()
    report = run_tests(LOOPY, tests, limits)
    assert time.monotonic() - t0 < 6
    assert names(report) == {"test_one": "passed", "test_two": "passed", "test_three_hangs": "error",
                             "test_four": "passed"}
    hung = next(r for r in report.results if r.name == "test_three_hangs")
    assert "did not finish within 1 s" in hung.message
    assert report.status == "timeout" and "test_three_hangs" in report.message


def test_code_that_swallows_the_alarm_is_killed_by_the_parent():
    tests = dedent('''
        from solution import fine, stubborn

        def test_one():
            assert fine() == 1

        def test_two_stubborn():
            stubborn()

        def test_three():
            assert fine() == 1
    ''')
    limits = Limits(per_test_seconds=1.0, total_seconds=15.0, memory_mb=768, max_processes=16)
    t0 = time.monotonic()
    report = run_tests(LOOPY, tests, limits)
    assert time.monotonic() - t0 < 5, "the parent's per-test watchdog must not wait for the total limit"
    assert report.status == "timeout" and "test_two_stubborn" in report.message
    assert names(report) == {"test_one": "passed", "test_two_stubborn": "error", "test_three": "error"}
    assert "not run" in report.results[2].message


def test_sleeping_forever_hits_the_total_timeout():
    code = "import time\n\ndef wait():\n    time.sleep(10**6)\n"
    tests = "from solution import wait\n\ndef test_wait():\n    wait()\n"
    limits = Limits(per_test_seconds=60.0, total_seconds=2.0, memory_mb=768, max_processes=16)
    t0 = time.monotonic()
    report = run_tests(code, tests, limits)
    assert time.monotonic() - t0 < 4.5
    assert report.status == "timeout"
    assert report.message == "your code did not finish within 2 s"
    assert names(report) == {"test_wait": "error"}


def test_memory_bomb_is_stopped_and_reported_as_memory():
    code = dedent('''
        import numpy as np

        def grow():
            blocks = []
            while True:  # a runaway cache: 64 MB more each round
                blocks.append(np.empty(64 * 1024 * 1024, dtype=np.uint8))

        def huge_array():
            return np.ones((100_000, 100_000))
    ''')
    tests = dedent('''
        from solution import grow, huge_array

        def test_grow():
            grow()

        def test_huge_array():
            huge_array()

        def test_still_runs_after():
            assert sum(range(10)) == 45
    ''')
    report = run_tests(code, tests, SMALL)
    assert report.status == "memory", (report.status, report.message, report.stderr[-500:])
    assert report.message == "your code used more than 768 MB of memory"
    assert names(report) == {"test_grow": "error", "test_huge_array": "error", "test_still_runs_after": "passed"}
    assert "MemoryError" in report.results[0].message


def test_printing_a_gigabyte_is_truncated_and_fills_no_disk():
    code = dedent('''
        import sys

        def spam():
            chunk = "x" * (1 << 20)
            for _ in range(1024):  # 1 GiB
                sys.stdout.write(chunk)
            sys.stderr.write("done\\n")
    ''')
    tests = "from solution import spam\n\ndef test_spam():\n    spam()\n"
    limits = Limits(per_test_seconds=6.0, total_seconds=10.0, memory_mb=768, max_processes=16,
                    max_output_chars=2_000)
    tmp_before = shutil.disk_usage(tempfile.gettempdir()).used
    t0 = time.monotonic()
    report = run_tests(code, tests, limits)
    assert time.monotonic() - t0 < 12
    assert report.status in ("ok", "timeout")
    assert len(report.stdout) < 2_000 + 300
    assert "output truncated" in report.stdout
    grew = shutil.disk_usage(tempfile.gettempdir()).used - tmp_before
    assert grew < 500 * 1024 * 1024, f"the disk grew by {grew} bytes (1 GiB was printed)"


def test_os_exit_inside_a_test_is_a_crash_that_keeps_earlier_results():
    code = "import os\n\ndef ok():\n    return 1\n\ndef leave():\n    os._exit(0)\n"
    tests = dedent('''
        from solution import leave, ok

        def test_first():
            assert ok() == 1

        def test_leaves():
            leave()

        def test_after():
            assert ok() == 1
    ''')
    report = run_tests(code, tests, SMALL)
    assert report.status == "crashed"
    assert "exited early" in report.message and "test_leaves" in report.message
    assert names(report) == {"test_first": "passed", "test_leaves": "error", "test_after": "error"}


def test_os_exit_at_import_is_a_crash():
    report = run_tests("import os\nos._exit(0)\n", "from solution import x\n\ndef test_x():\n    pass\n", SMALL)
    assert report.status == "crashed"
    assert "exited early" in report.message


def test_sys_exit_at_import_is_a_crash_not_an_empty_pass():
    report = run_tests("import sys\nsys.exit(0)\n", "from solution import x\n\ndef test_x():\n    pass\n", SMALL)
    assert report.status == "crashed" and "sys.exit()" in report.message


def test_segfault_is_a_crash_that_names_the_test():
    code = "import ctypes\n\ndef boom():\n    ctypes.string_at(0)\n"
    tests = "from solution import boom\n\ndef test_fine():\n    pass\n\ndef test_boom():\n    boom()\n"
    report = run_tests(code, tests, SMALL)
    assert report.status == "crashed" and "SIGSEGV" in report.message and "test_boom" in report.message
    assert names(report) == {"test_fine": "passed", "test_boom": "error"}


def test_threads_and_subprocesses_still_work_inside_the_limits():
    code = dedent('''
        import subprocess
        import sys
        import threading

        def work():
            out = []
            t = threading.Thread(target=lambda: out.append(1))
            t.start()
            t.join()
            r = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True)
            return out, r.stdout.strip()
    ''')
    tests = "from solution import work\n\ndef test_work():\n    assert work() == ([1], '42')\n"
    report = run_tests(code, tests, SMALL)
    assert report.passed == 1, report.results


def test_cancel_from_another_thread_stops_the_run_promptly():
    code = "import time\n\ndef wait():\n    time.sleep(30)\n"
    tests = "from solution import wait\n\ndef test_wait():\n    wait()\n"
    cancel = threading.Event()
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("r", run_tests(code, tests, Limits(), cancel)))
    worker.start()
    time.sleep(1.0)
    t0 = time.monotonic()
    cancel.set()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert time.monotonic() - t0 < 1.0, "cancel must stop the run promptly"
    assert out["r"].status == "cancelled"


def test_a_preset_cancel_does_not_start_anything():
    cancel = threading.Event()
    cancel.set()
    report = run_tests(NDCG, NDCG_TESTS, SMALL, cancel)
    assert report.status == "cancelled" and report.results == []


# ---------------------------------------------------------------------------------------------------
# isolation, under each backend


def _process_count() -> int:
    return sum(1 for p in os.listdir("/proc") if p.isdigit())


def _sandbox_processes(token: str = "") -> list[int]:
    """Processes of a sandbox run (each carries its run's token in its environment)."""
    needle = f"{sandbox._TOKEN_ENV}={token}".encode()
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                if needle in fh.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def _wait_until(predicate, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_fork_bomb_is_contained_and_leaves_no_processes(backend):
    if backend["processes"] != "limited":
        pytest.skip(f"{backend['isolation']} does not limit processes here (it says so in isolation_status)")
    code = dedent('''
        import os
        import time

        def bomb_linear(n):
            kids = []
            for _ in range(n):
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    time.sleep(30)
                    os._exit(0)
                kids.append(pid)
            for pid in kids:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            return len(kids)

        def bomb(seconds):
            me = os.getpid()
            end = time.time() + seconds
            while time.time() < end:
                try:
                    os.fork()  # parent and child both go on forking
                except OSError:
                    pass
            if os.getpid() != me:
                os._exit(0)

        def orphan():
            # a double-forked, setsid'd sleeper: it leaves the process group on purpose
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    time.sleep(60)
                os._exit(0)
    ''')
    tests = dedent('''
        from solution import bomb, bomb_linear, orphan

        import os

        LIMIT = 16

        def test_token():
            print("token", os.environ["MI_SANDBOX_RUN"])

        def test_linear_bomb_is_capped():
            n = bomb_linear(200)
            print("forked", n)
            assert n < LIMIT, f"forked {n} processes despite a limit of {LIMIT}"

        def test_real_bomb():
            bomb(1.0)

        def test_orphan():
            orphan()
    ''')
    baseline = _process_count()
    t0 = time.monotonic()
    report = run_tests(code, tests, Limits(per_test_seconds=4.0, total_seconds=12.0, memory_mb=768,
                                           max_processes=16))
    assert time.monotonic() - t0 < 14, "the run must end within its limits"
    linear = next(r for r in report.results if r.name == "test_linear_bomb_is_capped")
    assert linear.outcome == "passed", linear.message
    assert report.status in ("ok", "timeout"), (report.status, report.message)
    token = report.stdout.split("token ", 1)[1].split()[0]
    assert _wait_until(lambda: not _sandbox_processes(token)), f"left behind: {_sandbox_processes(token)}"
    # other work on the machine (other tests, -n 2) moves the count a little; an escaped bomb, a lot
    assert _wait_until(lambda: _process_count() <= baseline + 40), (baseline, _process_count())


def test_candidate_sees_no_api_keys(backend):
    code = dedent('''
        import os

        def environment():
            return dict(os.environ)

        def environ_files_with(needle):
            hits = []
            try:
                pids = [p for p in os.listdir("/proc") if p.isdigit()]
            except OSError:
                return hits
            for pid in pids:
                try:
                    with open(f"/proc/{pid}/environ", "rb") as fh:
                        if needle.encode() in fh.read():
                            hits.append(pid)
                except OSError:
                    pass
            return hits
    ''')
    tests = dedent(f'''
        from solution import environ_files_with, environment

        def test_environment_is_clean():
            env = environment()
            print(env)
            assert "OPENAI_API_KEY" not in env and "ANTHROPIC_API_KEY" not in env
            assert not [k for k, v in env.items() if "{SECRET[:3]}" + "-test" in v]

        def test_no_process_environment_shows_the_key():
            assert environ_files_with("{SECRET[:3]}" + "-test-secret") == []
    ''')
    report = run_tests(code, tests, SMALL)
    assert report.status == "ok", report.message
    assert report.passed == 2, [(r.name, r.message) for r in report.results]
    no_secret(report)
    assert "HOME" in report.stdout, "the candidate's environment is printed, and it is ours"


def test_writes_outside_the_sandbox_do_not_land(backend, tmp_path):
    if not backend["filesystem"].startswith("confined"):
        pytest.skip(f"{backend['isolation']} does not confine the filesystem here: {backend['filesystem']}")
    tmp_path.chmod(0o777)  # only the sandbox, not file permissions, may stop these writes
    existing = tmp_path / "existing.txt"
    existing.write_text("original")
    existing.chmod(0o666)
    new_file = tmp_path / "escaped.txt"
    tmp_file = Path("/tmp") / f"mi-sandbox-escape-{uuid.uuid4().hex}.txt"
    code = dedent('''
        import os

        def try_write(path, text="written by the candidate"):
            try:
                with open(path, "w") as fh:
                    fh.write(text)
                return "written"
            except OSError as exc:
                return type(exc).__name__
    ''')
    tests = dedent(f'''
        import os

        from solution import try_write

        def test_try_outside():
            for path in ({str(existing)!r}, {str(new_file)!r}, {str(tmp_file)!r}):
                print(path, try_write(path))

        def test_own_directory_is_writable():
            assert try_write("scratch.txt") == "written"
            assert open("scratch.txt").read() == "written by the candidate"

        def test_file_size_is_limited():
            assert try_write("big.bin", "x" * (8 * 1024 * 1024)) != "written"
    ''')
    try:
        report = run_tests(code, tests, SMALL)
        assert report.status == "ok", (report.message, report.stderr[-500:])
        assert report.passed == 3, [(r.name, r.message) for r in report.results]
        assert existing.read_text() == "original", "a file outside the sandbox was changed"
        assert not new_file.exists(), "a file was created outside the sandbox"
        assert not tmp_file.exists(), "a file was created in the host's /tmp"
    finally:
        tmp_file.unlink(missing_ok=True)


def test_network_is_unreachable(backend):
    tcp_blocked = backend["network"] == "blocked" or any("TCP connect/bind blocked" in d for d in backend["details"])
    if not tcp_blocked:
        pytest.skip(f"{backend['isolation']} has no network isolation on this machine")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    accepted = []
    stop = threading.Event()

    def accept_loop():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                accepted.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    code = dedent(f'''
        import socket

        def reach():
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect(("127.0.0.1", {port}))
            except OSError as exc:
                return type(exc).__name__ + ": " + str(exc)
            finally:
                s.close()
            return "connected"
    ''')
    tests = dedent('''
        from solution import reach

        def test_reach():
            r = reach()
            print(r)
            assert r != "connected"
    ''')
    try:
        report = run_tests(code, tests, SMALL)
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()
        for conn in accepted:
            conn.close()
    assert report.passed == 1, (report.results, report.stdout)
    assert accepted == [], "the candidate's code reached a listener on the host"


# ---------------------------------------------------------------------------------------------------
# doctor


def test_isolation_status_is_cached_and_well_formed():
    status = isolation_status()
    assert status["isolation"] in ("bwrap", "unshare-net+userns", "rlimits-only")
    assert status["network"] in ("blocked", "not blocked")
    assert isinstance(status["details"], list) and status["details"]
    t0 = time.perf_counter()
    for _ in range(100):
        isolation_status()
    assert time.perf_counter() - t0 < 0.05, "isolation_status must not probe again"
