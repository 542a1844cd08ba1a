"""The half of the coding-round sandbox that runs *inside* the sandbox.

`interviewer.rounds.sandbox` copies this file into the sandbox directory and runs it as a script with
the venv's python:

    python -s -B -u _sandbox_plugin.py '<json config>'

It first finishes the isolation that only the child can do (in this order, each step optional):

0. join the run's pids cgroup (`rlimits-only` as root, when one is writable),
1. build a private root filesystem and pivot into it (the `unshare` backend; bwrap does this itself),
2. resource limits (address space, CPU, open files, file size, processes, no core dumps),
3. give up root: switch to an unprivileged uid, or drop every capability when it has to stay uid 0,
4. no_new_privs, then Landlock (the `rlimits-only` backend): writes only in the sandbox directory,
   reads only where python lives, no TCP, no signals or abstract sockets outside the sandbox,
5. a seccomp filter: no new namespaces (unshare, setns, clone with CLONE_NEW*),

and then runs pytest on the hidden tests with `ResultPlugin`, which writes one JSON line per event
(collected, start, result, collect_error, finish) to an inherited pipe, so the parent learns about
each test as soon as it finishes, even if a later test hangs or kills the process.

Only the standard library is imported before the sandbox is in place; ctypes only when a step needs
it. Nothing here may trust the candidate's code: it runs in this same process once pytest starts.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time

# ---------------------------------------------------------------------------------------------------
# result channel

_FD = -1
_PID = os.getpid()


def emit(event: str, **fields) -> None:
    if _FD < 0 or os.getpid() != _PID:  # a fork of the candidate's must not speak for the run
        return
    fields["event"] = event
    data = (json.dumps(fields, default=str) + "\n").encode("utf-8", "replace")
    try:
        while data:
            n = os.write(_FD, data)
            data = data[n:]
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------------
# low-level helpers (ctypes, loaded lazily)

_SYSCALLS = {
    # name: (x86_64, aarch64)
    "capset": (126, 91),
    "pivot_root": (155, 41),
    "mount_setattr": (442, 442),
    "landlock_create_ruleset": (444, 444),
    "landlock_add_rule": (445, 445),
    "landlock_restrict_self": (446, 446),
}

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 24, 47, 4

_libc = None
APPLIED: list[str] = []  # which optional layers took effect (reported by the probe)


def _c():
    global _libc
    if _libc is None:
        import ctypes

        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.syscall.restype = ctypes.c_long
    return _libc


def _sysno(name: str) -> int:
    import platform

    arch = platform.machine().lower()
    idx = 0 if arch in ("x86_64", "amd64") else 1 if arch in ("aarch64", "arm64") else -1
    if idx < 0:
        raise OSError(f"unsupported architecture {arch} for {name}")
    return _SYSCALLS[name][idx]


def _check(ret: int, what: str) -> int:
    if ret < 0:
        import ctypes

        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def _mount(src, dst, fstype, flags, data=None) -> None:
    import ctypes

    libc = _c()
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    r = libc.mount(enc(src), enc(dst), enc(fstype), ctypes.c_ulong(flags), enc(data))
    _check(r, f"mount {src} on {dst}")


def _make_readonly(path: str) -> None:
    """Make the mount at `path` (and everything under it) read-only."""
    import ctypes

    class MountAttr(ctypes.Structure):
        _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                    ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]

    attr = MountAttr(1, 0, 0, 0)  # MOUNT_ATTR_RDONLY
    try:
        r = _c().syscall(_sysno("mount_setattr"), ctypes.c_int(-100), os.fsencode(path),
                         ctypes.c_uint(0x8000), ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)))
        if r == 0:
            return
    except OSError:
        pass
    # Older kernels: remount this one mount, keeping the flags a user namespace may not clear.
    # ST_* and MS_* share values for these: nosuid, nodev, noexec, noatime, nodiratime, relatime.
    keep = os.statvfs(path).f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC | 1024 | 2048)
    if os.statvfs(path).f_flag & 4096:  # ST_RELATIME
        keep |= 1 << 21  # MS_RELATIME
    _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | keep)


# ---------------------------------------------------------------------------------------------------
# 1. private root filesystem (unshare backend)


def build_root(p: dict) -> None:
    """Pivot into a fresh root that holds only read-only binds of what python needs + a small /tmp.

    Runs as (namespace) root inside fresh mount and pid namespaces. Mirrors what bwrap does.
    """
    files = {}
    for name in p["files"]:
        with open(os.path.join(p["host_dir"], name), "rb") as fh:
            files[name] = fh.read()
    os.umask(0o022)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = p["newroot"]
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=4m")

    def parents(path: str) -> None:
        os.makedirs(os.path.dirname(root + path), mode=0o755, exist_ok=True)

    # /tmp first, so that binds of anything that lives under /tmp (a venv, say) land on top of it.
    os.makedirs(root + "/tmp", exist_ok=True)
    _mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={int(p['tmp_size'])}")

    for kind, src, dest in p["binds"]:
        target = root + dest
        if kind == "symlink":
            parents(dest)
            os.symlink(src, target)
        elif kind in ("ro", "dev"):
            parents(dest)
            if os.path.isdir(src):
                os.makedirs(target, mode=0o755, exist_ok=True)
            else:
                open(target, "ab").close()
            _mount(src, target, None, MS_BIND | MS_REC)
            if kind == "ro":
                _make_readonly(target)
    os.makedirs(root + "/proc", mode=0o555, exist_ok=True)
    try:
        _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError:
        pass  # no /proc at all rather than the host's (it would show the parent's environment)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        if not os.path.lexists(f"{root}/dev/{name}"):
            os.makedirs(f"{root}/dev", mode=0o755, exist_ok=True)
            os.symlink(target, f"{root}/dev/{name}")
    work = root + p["workdir"]
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o1777)
    for name, data in files.items():
        with open(os.path.join(work, name), "wb") as fh:
            fh.write(data)
        os.chmod(os.path.join(work, name), 0o444)
    os.chdir(root)
    _check(_c().syscall(_sysno("pivot_root"), b".", b"."), "pivot_root")
    _check(_c().umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")
    try:
        _mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------------
# 2./3. limits and privileges


def apply_limits(lim: dict) -> None:
    import resource

    def setl(res, soft, hard=None):
        hard = soft if hard is None else hard
        try:
            cur_soft, cur_hard = resource.getrlimit(res)
            if cur_hard != resource.RLIM_INFINITY:
                hard = min(hard, cur_hard)
                soft = min(soft, hard)
            resource.setrlimit(res, (soft, hard))
        except (ValueError, OSError):
            pass

    setl(resource.RLIMIT_CORE, 0)
    if lim.get("cpu"):
        setl(resource.RLIMIT_CPU, int(lim["cpu"]), int(lim["cpu"]) + 2)
    if lim.get("fsize"):
        setl(resource.RLIMIT_FSIZE, int(lim["fsize"]))
    if lim.get("nofile"):
        setl(resource.RLIMIT_NOFILE, int(lim["nofile"]))
    if lim.get("nproc"):
        setl(resource.RLIMIT_NPROC, int(lim["nproc"]))
    if lim.get("as"):
        setl(resource.RLIMIT_AS, int(lim["as"]))


def user_task_count(uid: int) -> int:
    """Tasks (threads count: RLIMIT_NPROC counts them) the user already runs, to offset the limit."""
    n = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as fh:
                text = fh.read()
        except OSError:
            continue
        m_uid = re.search(r"^Uid:\s+(\d+)", text, re.M)
        m_thr = re.search(r"^Threads:\s+(\d+)", text, re.M)
        if m_uid and int(m_uid.group(1)) == uid:
            n += int(m_thr.group(1)) if m_thr else 1
    return n


def drop_root(uid: int | None) -> None:
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)  # from real root to an unprivileged uid: every capability goes with it
        return
    # Stay uid 0 (user namespace root, or root without a usable unprivileged uid): drop capabilities.
    import ctypes

    libc = _c()
    for cap in range(64):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(libc.syscall(_sysno("capset"), header, data), "capset")


def no_new_privs() -> None:
    try:
        _c().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------------
# 4. Landlock


def landlock(read: list[str], write: list[str], abi: int) -> int:
    import ctypes

    libc = _c()
    fs_all = (1 << 13) - 1
    if abi >= 2:
        fs_all |= 1 << 13  # REFER
    if abi >= 3:
        fs_all |= 1 << 14  # TRUNCATE
    if abi >= 5:
        fs_all |= 1 << 15  # IOCTL_DEV
    file_only = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 14) | (1 << 15)
    read_rights = (1 << 0) | (1 << 2) | (1 << 3)  # EXECUTE, READ_FILE, READ_DIR
    attr = (ctypes.c_uint64 * 3)(fs_all, 3 if abi >= 4 else 0, 3 if abi >= 6 else 0)
    size = 8 * (3 if abi >= 6 else 2 if abi >= 4 else 1)
    ruleset = _check(libc.syscall(_sysno("landlock_create_ruleset"), attr, ctypes.c_size_t(size),
                                  ctypes.c_uint32(0)), "landlock_create_ruleset")

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    def allow(path: str, rights: int) -> None:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return
        try:
            if not os.path.isdir(path):
                rights &= file_only
            rule = PathBeneath(rights & fs_all, fd)
            _check(libc.syscall(_sysno("landlock_add_rule"), ctypes.c_int(ruleset), ctypes.c_int(1),
                                ctypes.byref(rule), ctypes.c_uint32(0)), f"landlock rule for {path}")
        finally:
            os.close(fd)

    for path in read:
        allow(path, read_rights)
    for path in write:
        allow(path, fs_all)
    no_new_privs()
    _check(libc.syscall(_sysno("landlock_restrict_self"), ctypes.c_int(ruleset), ctypes.c_uint32(0)),
           "landlock_restrict_self")
    os.close(ruleset)
    return abi


# seccomp: no new namespaces (a user namespace would let code mount an unbounded tmpfs, for one)
_SECCOMP = {
    # arch: (AUDIT_ARCH, unshare, clone, clone3, setns)
    "x86_64": (0xC000003E, 272, 56, 435, 308),
    "aarch64": (0xC00000B7, 97, 220, 435, 268),
}
_CLONE_NEW_MASK = 0x7E020000  # NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET


def seccomp_no_namespaces() -> bool:
    """unshare/setns fail with EPERM, clone with a CLONE_NEW* flag too, clone3 with ENOSYS
    (glibc then falls back to clone). Everything else is allowed. Needs no_new_privs."""
    import ctypes
    import platform

    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine().lower())
    if arch not in _SECCOMP:
        return False
    audit, nr_unshare, nr_clone, nr_clone3, nr_setns = _SECCOMP[arch]
    LD, JEQ, JSET, RET = 0x20, 0x15, 0x45, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JSET|K, BPF_RET|K
    ALLOW, ERRNO = 0x7FFF0000, 0x00050000
    EPERM, ENOSYS = 1, 38
    # jt/jf are relative: 0 is the next instruction
    prog = [
        (LD, 0, 0, 4),                    # 0  A = arch
        (JEQ, 1, 0, audit),               # 1  arch ok -> 3
        (RET, 0, 0, ERRNO | EPERM),       # 2
        (LD, 0, 0, 0),                    # 3  A = nr
        (JSET, 0, 1, 0x40000000),         # 4  x32 -> 5, else 6
        (RET, 0, 0, ERRNO | EPERM),       # 5
        (JEQ, 0, 1, nr_clone3),           # 6  clone3 -> 7, else 8
        (RET, 0, 0, ERRNO | ENOSYS),      # 7
        (JEQ, 3, 0, nr_unshare),          # 8  unshare -> 12
        (JEQ, 2, 0, nr_setns),            # 9  setns -> 12
        (JEQ, 2, 0, nr_clone),            # 10 clone -> 13
        (RET, 0, 0, ALLOW),               # 11
        (RET, 0, 0, ERRNO | EPERM),       # 12
        (LD, 0, 0, 16),                   # 13 A = clone flags (args[0], low half)
        (JSET, 0, 1, _CLONE_NEW_MASK),    # 14 new namespace -> 15, else 16
        (RET, 0, 0, ERRNO | EPERM),       # 15
        (RET, 0, 0, ALLOW),               # 16
    ]

    class SockFilter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                    ("k", ctypes.c_uint32)]

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(SockFilter))]

    filters = (SockFilter * len(prog))(*[SockFilter(c, jt, jf, k) for c, jt, jf, k in prog])
    fprog = SockFprog(len(prog), filters)
    no_new_privs()
    PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
    _check(_c().prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")
    return True


def setup_sandbox(cfg: dict) -> None:
    if cfg.get("cgroup_procs"):  # first of all: everything this process starts stays in the cgroup
        with open(cfg["cgroup_procs"], "w") as fh:
            fh.write(str(os.getpid()))
    if cfg.get("pivot"):
        build_root(cfg["pivot"])
    lim = dict(cfg.get("limits") or {})
    if lim.get("nproc") and cfg.get("nproc_offset"):
        lim["nproc"] = int(lim["nproc"]) + user_task_count(os.getuid())
    apply_limits(lim)
    if os.getuid() == 0 and cfg.get("drop", True):
        drop_root(cfg.get("uid"))
    no_new_privs()
    if cfg.get("landlock"):
        ll = cfg["landlock"]
        landlock(ll["read"], ll["write"], int(ll["abi"]))
        APPLIED.append("landlock")
    if cfg.get("seccomp", True):
        try:
            if seccomp_no_namespaces():
                APPLIED.append("seccomp")
        except OSError:
            if cfg.get("seccomp") == "required":
                raise
    os.chdir(cfg["workdir"])
    # The script's own directory may not exist any more (after a pivot); the tests import from workdir.
    script_dir = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [cfg["workdir"]] + [p for p in sys.path if p not in (script_dir, cfg["workdir"], "")]


# ---------------------------------------------------------------------------------------------------
# the pytest plugin


class SandboxTimeout(BaseException):
    """Raised by SIGALRM in the running test; a BaseException so `except Exception` cannot eat it."""


_STRIP: list[str] = []  # path prefixes (the sandbox directory) taken out of messages


def _short(text: str, lines: int = 4, chars: int = 500) -> str:
    for prefix in _STRIP:
        text = text.replace(prefix, "")
    out = "\n".join(line.rstrip() for line in text.strip().splitlines()[:lines])
    return out if len(out) <= chars else out[: chars - 1] + "…"


_SOLUTION_LINE = re.compile(r'solution\.py(?:", line |:)(\d+)')


def _where(text: str) -> str:
    lines = _SOLUTION_LINE.findall(text)
    return f" (solution.py, line {lines[-1]})" if lines else ""


def make_plugin(pytest, per_test: float, memory_mb: int):
    class ResultPlugin:
        def __init__(self):
            self.current = None
            self.deadline = 0.0
            self.phases: dict[str, dict] = {}
            self.real_stdout = None

        @pytest.hookimpl(trylast=True)
        def pytest_configure(self, config):
            if self.real_stdout is not None:
                sys.stdout = self.real_stdout
                self.real_stdout = None

        # -- timing ---------------------------------------------------------------------------------
        def _on_alarm(self, signum, frame):
            raise SandboxTimeout(f"did not finish within {per_test:g} s")

        def _arm(self):
            signal.signal(signal.SIGALRM, self._on_alarm)
            signal.setitimer(signal.ITIMER_REAL, max(self.deadline - time.monotonic(), 0.01))

        def _disarm(self):
            signal.setitimer(signal.ITIMER_REAL, 0)

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_setup(self, item):
            self._arm()
            try:
                yield
            finally:
                self._disarm()

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_call(self, item):
            self._arm()
            try:
                yield
            finally:
                self._disarm()

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_teardown(self, item):
            self._arm()
            try:
                yield
            finally:
                self._disarm()

        # -- events ---------------------------------------------------------------------------------
        def pytest_collection_finish(self, session):
            emit("collected", tests=[item.nodeid for item in session.items])

        def pytest_collectreport(self, report):
            if report.failed:
                text = str(report.longrepr)
                errs = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
                msg = errs[-1] if errs else (text.strip().splitlines() or ["collection failed"])[-1]
                kind = "memory" if "MemoryError" in msg else ""
                emit("collect_error", name=report.nodeid or "collection", message=_short(msg) + _where(text),
                     kind=kind)

        def pytest_runtest_logstart(self, nodeid, location):
            self.current = nodeid
            self.deadline = time.monotonic() + per_test
            self.phases = {}
            emit("start", name=nodeid)

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_makereport(self, item, call):
            outcome = yield
            rep = outcome.get_result()
            if call.excinfo is not None:
                if call.excinfo.errisinstance(SandboxTimeout):
                    rep.sbx_kind = "timeout"
                elif call.excinfo.errisinstance(MemoryError):
                    rep.sbx_kind = "memory"

        def pytest_runtest_logreport(self, report):
            self.phases[report.when] = report

        def pytest_runtest_logfinish(self, nodeid, location):
            phases = self.phases
            duration = sum(getattr(r, "duration", 0.0) for r in phases.values())
            outcome, message, kind = "passed", "", ""
            for when in ("setup", "call", "teardown"):
                rep = phases.get(when)
                if rep is None:
                    continue
                if rep.skipped:
                    if outcome == "passed":
                        outcome = "skipped"
                        lr = rep.longrepr
                        reason = lr[2] if isinstance(lr, tuple) and len(lr) == 3 else getattr(rep, "wasxfail", "")
                        message = _short(str(reason))
                    continue
                if not rep.failed:
                    continue
                kind = getattr(rep, "sbx_kind", "")
                outcome = "failed" if when == "call" and not kind else "error"
                if kind == "timeout":
                    message = f"did not finish within {per_test:g} s (infinite loop?)"
                elif kind == "memory":
                    message = f"MemoryError: your code used more than {memory_mb} MB of memory"
                else:
                    crash = getattr(rep.longrepr, "reprcrash", None)
                    text = str(rep.longrepr)
                    message = _short(crash.message if crash is not None else text.strip().splitlines()[-1])
                    if when != "call":
                        message = f"{when} failed: {message}"
                    message += _where(text)
                break
            emit("result", name=nodeid, outcome=outcome, message=message, duration=round(duration, 4),
                 kind=kind)
            self.current = None

        def pytest_sessionfinish(self, session, exitstatus):
            emit("finish", exitstatus=int(exitstatus))

    return ResultPlugin()


# ---------------------------------------------------------------------------------------------------


def _status_field(name: str) -> str:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(name + ":"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def main() -> None:
    global _FD, _PID
    cfg = json.loads(sys.argv[1])
    _FD = int(cfg["fd"])
    _PID = os.getpid()
    try:
        setup_sandbox(cfg)
    except BaseException as exc:  # noqa: BLE001 - report any setup failure to the parent
        emit("setup_error", message=f"{type(exc).__name__}: {exc}")
        sys.stderr.flush()
        os._exit(70)
    if cfg.get("probe"):
        info = {"uid": os.getuid(), "cap_eff": _status_field("CapEff"), "applied": APPLIED}
        if cfg.get("probe_numpy"):
            try:
                import numpy  # noqa: F401

                info["numpy"] = "ok"
            except BaseException as exc:  # noqa: BLE001
                info["numpy"] = f"{type(exc).__name__}: {exc}"
        emit("probe", **info)
        os._exit(0)

    import pytest

    _STRIP.append(cfg["workdir"].rstrip("/") + "/")
    plugin = make_plugin(pytest, float(cfg["per_test"]), int(cfg.get("memory_mb", 0)))
    args = [
        "-p", "no:cacheprovider", "-p", "no:stepwise", "-p", "no:pastebin", "-q",
        "-c", os.devnull, "--rootdir", cfg["workdir"], "--confcutdir", cfg["workdir"],
        "-s", "-W", "ignore::DeprecationWarning", "--import-mode=prepend",
        cfg["tests"],
    ]
    # pytest's own report goes nowhere (results travel on the pipe): the terminal reporter takes
    # sys.stdout when it is configured, and ResultPlugin.pytest_configure puts the real one back.
    # (`-p no:terminal` would also lose the assertion introspection in failure messages.)
    plugin.real_stdout = sys.stdout
    sys.stdout = open(os.devnull, "w")
    code = 3
    try:
        code = int(pytest.main(args, plugins=[plugin]))
    except BaseException as exc:  # noqa: BLE001
        emit("internal_error", message=f"{type(exc).__name__}: {exc}")
    if plugin.real_stdout is not None:
        sys.stdout = plugin.real_stdout
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001
        pass
    emit("exit", code=code)
    # Skip atexit handlers and non-daemon threads the candidate may have left behind.
    os._exit(code)


if __name__ == "__main__":
    main()
