"""The coding-round sandbox: run a candidate's solution against a question's hidden pytest tests.

The candidate's code is untrusted. A mistake (an infinite loop, a memory blow-up, printing forever)
or a bad habit must never hang the app, fill the disk, reach the network or see the user's secrets.

How a run goes (`run_tests`):

* `solution.py` is compiled here first (cheap), so a syntax error is reported without starting anything.
* The code, the tests and `_sandbox_plugin.py` go into a fresh temporary directory; a child process
  runs pytest on them with a from-scratch environment (never a copy of `os.environ`: no API keys).
* The child is isolated by the best backend this machine has, probed once and cached:

  ``bwrap``                bubblewrap: new pid/net/ipc/uts (+ user) namespaces, a root filesystem that
                           holds only read-only binds of what python needs, and a private /tmp (tmpfs
                           of limited size) for the sandbox directory.
  ``unshare-net+userns``   util-linux ``unshare``: the same namespaces; the child builds the same
                           private root itself (`_sandbox_plugin.build_root`) and pivots into it.
  ``rlimits-only``         no namespaces: resource limits, plus Landlock where the kernel has it
                           (writes only in the sandbox directory, reads only where python lives, no
                           TCP, no signals outside), plus an unprivileged uid where one is usable, or a
                           pids cgroup per run when the app is root and a cgroup is writable.

  In every backend: limits on address space, CPU time, open files, file size and processes; no core
  dumps; no_new_privs; a seccomp filter so the code cannot create namespaces of its own. RLIMIT_NPROC
  does not bind root, so when the app runs as root the child gives up root (a fresh unprivileged uid
  per run) before the candidate's code runs; as a normal user the user namespace gives the limit its
  own count. `isolation_status()` says what is in force (and what is not).
* Per-test timeouts are a SIGALRM inside the child; the parent also watches each test's start and
  kills the run if a test outlives its budget (code that swallows the alarm), and enforces the total
  wall time, the disk quota and `cancel` by killing the whole process group (and with it the pid
  namespace, whose processes die with its first process).
* The plugin writes one JSON line per event to a pipe, so a hang or a crash in test 4 still reports
  tests 1-3 and names the test that was running.

`run_tests` never raises for anything the candidate's code does; it returns a `TestReport`.
Only the standard library (and the shared pydantic schema) is imported here.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from interviewer.schema import TestReport, TestResult

__all__ = ["Limits", "run_tests", "isolation_status"]

PLUGIN_FILE = Path(__file__).with_name("_sandbox_plugin.py")
SOLUTION_FILE = "solution.py"
TESTS_FILE = "test_hidden.py"
INNER_WORKDIR = "/tmp/sandbox"  # where the files are inside the namespace backends
FORCE_ENV = "MOCK_INTERVIEWER_SANDBOX"  # bwrap | unshare | rlimits: force a backend (tests, debugging)
LANDLOCK_ENV = "MOCK_INTERVIEWER_SANDBOX_LANDLOCK"  # "0" disables Landlock in the rlimits-only backend

# A fresh uid per run comes from here when the app runs as root (no passwd entry is expected).
_UID_BASE, _UID_SPAN = 2_100_000_000, 1_000_000
_TOKEN_ENV = "MI_SANDBOX_RUN"  # marks every process of a run (rlimits-only: find the ones that left the group)
_KILL_GRACE = 2.0  # seconds a test may overrun its alarm (a busy machine) before the parent kills the run
_DRAIN_GRACE = 0.3  # seconds to keep reading output after the child exits


@dataclass
class Limits:
    per_test_seconds: float = 5.0
    total_seconds: float = 20.0
    memory_mb: int = 1024  # address space (numpy needs ~300-500 MB of AS)
    max_processes: int = 32
    max_open_files: int = 64
    max_file_mb: int = 16
    max_output_chars: int = 20_000  # stdout/stderr kept, truncated with a note


# ---------------------------------------------------------------------------------------------------
# backend probe (once per process)


@dataclass
class _Backend:
    name: str  # bwrap | unshare-net+userns | rlimits-only
    network: str = "not blocked"
    filesystem: str = "not confined"
    processes: str = "not limited"
    details: list[str] = field(default_factory=list)
    tool: str = ""  # path of bwrap / unshare
    extra_flags: list[str] = field(default_factory=list)
    switch_uid: bool = False  # give up root for a fresh uid inside the child
    landlock_abi: int = 0
    nproc_offset: bool = False
    cgroup_base: str = ""  # rlimits-only as root: a pids cgroup to put each run in
    broken: str = ""  # not even python starts: why

    @property
    def namespaced(self) -> bool:
        return self.name != "rlimits-only"


_probe_lock = threading.Lock()
_probe_cache: dict[tuple[str, str], _Backend] = {}


def _probe_key() -> tuple[str, str]:
    return os.environ.get(FORCE_ENV, "").strip().lower(), os.environ.get(LANDLOCK_ENV, "1")


def _reset_probe() -> None:
    """Forget the probed backends (the next run probes again)."""
    with _probe_lock:
        _probe_cache.clear()


def _backend() -> _Backend:
    key = _probe_key()
    b = _probe_cache.get(key)
    if b is not None:
        return b
    with _probe_lock:
        if key not in _probe_cache:
            _probe_cache[key] = _probe()
        return _probe_cache[key]


def isolation_status() -> dict:
    """What isolation the coding round has on this machine, for `interviewer doctor` (cached probe)."""
    try:
        b = _backend()
    except Exception as exc:  # noqa: BLE001 - doctor must always get an answer
        b = _Backend("rlimits-only", details=[f"the sandbox probe failed: {_one_line(str(exc))}"])
        b.broken = b.details[0]
    return {
        "isolation": b.name,
        "network": b.network,
        "filesystem": b.filesystem,
        "processes": b.processes,
        "usable": not b.broken,
        "details": list(b.details),
    }


def _is_root() -> bool:
    return os.geteuid() == 0


def _runtime_paths() -> list[str]:
    """Directories python and its packages live in (bound read-only into the sandbox)."""
    import site

    cands = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(sys.executable), os.path.dirname(os.path.realpath(sys.executable))}
    try:
        cands.update(site.getsitepackages())
    except Exception:  # noqa: BLE001 - some embedded pythons lack it
        pass
    out: set[str] = set()
    for p in cands:
        if p and os.path.isdir(p):
            out.add(os.path.abspath(p))
            out.add(os.path.realpath(p))
    # keep only the top-most of nested paths, and nothing under the always-bound /usr
    keep = []
    for p in sorted(out, key=len):
        if p == "/" or p.startswith("/usr/") or p == "/usr":
            continue
        if any(p == k or p.startswith(k + "/") for k in keep):
            continue
        keep.append(p)
    return keep


@functools.lru_cache(maxsize=1)
def _binds() -> tuple[tuple[str, str, str], ...]:
    """(kind, source, destination): symlink | ro (read-only bind). Computed once per process."""
    binds: list[tuple[str, str, str]] = [("ro", "/usr", "/usr")]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            binds.append(("symlink", os.readlink(top), top))
        elif os.path.isdir(top):
            binds.append(("ro", top, top))
    for f in ("/etc/ld.so.cache", "/etc/localtime"):
        if os.path.exists(f):
            binds.append(("ro", os.path.realpath(f), f))
    for p in _runtime_paths():
        if not any(p == d or p.startswith(d + "/") for k, _, d in binds if k == "ro"):
            binds.append(("ro", p, p))
    return tuple(binds)


def _landlock_abi() -> int:
    if os.environ.get(LANDLOCK_ENV, "1") == "0":
        return 0
    try:
        import ctypes
        import platform

        if platform.machine().lower() not in ("x86_64", "amd64", "aarch64", "arm64"):
            return 0
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        abi = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
        return int(abi) if abi > 0 else 0
    except Exception:  # noqa: BLE001
        return 0


def _other_can_reach(paths: list[str]) -> bool:
    """Could an unprivileged uid reach every one of `paths` (execute on every ancestor, read itself)?"""
    for p in paths:
        parts = Path(p).parts
        for i in range(1, len(parts) + 1):
            try:
                mode = os.stat(os.path.join(*parts[:i])).st_mode
            except OSError:
                return False
            if not mode & stat.S_IXOTH:
                return False
        if not os.stat(p).st_mode & stat.S_IROTH:
            return False
    return True


def _pids_cgroup_base() -> str:
    """A pids-controller cgroup directory this (root) process can create children in, or ""."""
    try:
        with open("/proc/self/mountinfo") as fh:
            mounts = fh.read().splitlines()
        with open("/proc/self/cgroup") as fh:
            mine = [line.split(":", 2) for line in fh.read().splitlines() if line.count(":") >= 2]
    except OSError:
        return ""
    cands = []
    for line in mounts:
        left, _, right = line.partition(" - ")
        f, r = left.split(), right.split()
        if len(f) < 5 or len(r) < 3:
            continue
        mount_root, mnt, fstype, opts = f[3], f[4], r[0], r[2].split(",")
        if fstype == "cgroup" and "pids" in opts:
            rel = next((c[2] for c in mine if "pids" in c[1].split(",")), "/")
        elif fstype == "cgroup2":
            rel = next((c[2] for c in mine if c[0] == "0" and c[1] == ""), "/")
        else:
            continue
        if mount_root != "/" and rel.startswith(mount_root):
            rel = rel[len(mount_root):] or "/"
        cands.append(os.path.normpath(mnt + "/" + rel))
    for base in cands:
        test = os.path.join(base, f"mi-sandbox-probe-{secrets.token_hex(4)}")
        try:
            os.mkdir(test)
        except OSError:
            continue
        try:
            with open(os.path.join(test, "pids.max"), "w") as fh:
                fh.write("8")
            return base
        except OSError:
            continue
        finally:
            try:
                os.rmdir(test)
            except OSError:
                pass
    return ""


def _cgroup_kill(cg: str, remove: bool) -> None:
    """SIGKILL everything in cgroup `cg` (it cannot have escaped it); then remove the cgroup."""
    deadline = time.monotonic() + 3.0
    while True:
        try:
            with open(os.path.join(cg, "cgroup.procs")) as fh:
                pids = [int(x) for x in fh.read().split()]
        except (OSError, ValueError):
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if not pids:
            if remove:
                try:
                    os.rmdir(cg)
                except OSError:
                    if time.monotonic() < deadline:
                        time.sleep(0.02)
                        continue
            return
        if time.monotonic() > deadline:
            return
        time.sleep(0.02)


def _probe() -> _Backend:
    forced = os.environ.get(FORCE_ENV, "").strip().lower()
    order = ["bwrap", "unshare", "rlimits"]
    if forced in order:
        order = [forced] + (["rlimits"] if forced != "rlimits" else [])
    order.append("rlimits-plain")  # last resort: rlimits without Landlock, cgroup or uid switch
    notes: list[str] = []
    for name in order:
        try:
            backend = _make_backend(name, notes)
            if backend is None:
                continue
            try:
                info = _probe_run(backend)
            except Exception:  # noqa: BLE001
                if "--disable-userns" not in backend.extra_flags:
                    raise
                # an older bwrap: go on without it (seccomp still stops new namespaces)
                backend.extra_flags.remove("--disable-userns")
                info = _probe_run(backend)
        except Exception as exc:  # noqa: BLE001 - a failed probe only means "try the next backend"
            notes.append(f"{name}: probe failed ({_one_line(str(exc))})")
            continue
        backend.details = notes + backend.details
        if "seccomp" in (info.get("applied") or []):
            backend.details.append("seccomp: the candidate's code cannot create namespaces (unshare/clone/setns)")
        else:
            backend.details.append("seccomp: not available, the candidate's code could create namespaces")
        numpy_state = info.get("numpy")
        if numpy_state and numpy_state != "ok":
            backend.details.append(f"numpy is not importable in the sandbox: {numpy_state}")
        elif numpy_state == "ok":
            backend.details.append("numpy imports in the sandbox")
        if forced and forced != name.split("-")[0]:
            backend.details.append(f"{FORCE_ENV}={forced} was requested but is not usable here")
        return backend
    broken = _Backend("rlimits-only", details=notes)
    broken.broken = "; ".join(notes) or "python could not be started"
    return broken


def _make_backend(name: str, notes: list[str]) -> _Backend | None:
    root = _is_root()
    if name == "bwrap":
        tool = shutil.which("bwrap") or next((p for p in ("/usr/bin/bwrap", "/bin/bwrap") if os.path.exists(p)), "")
        if not tool:
            notes.append("bwrap: not installed (apt-get install bubblewrap)")
            return None
        b = _Backend("bwrap", tool=tool, network="blocked",
                     filesystem="confined (read-only system files, private /tmp)")
        b.switch_uid = root
        if not root:
            b.extra_flags = ["--unshare-user", "--disable-userns"]
        b.processes = "limited"
        b.details = [
            f"bubblewrap at {tool}: new {'' if root else 'user/'}pid/net/ipc/uts namespaces, no network interfaces",
            "filesystem: only python, its packages and /usr are visible, read-only; /tmp is a private tmpfs",
            "processes: " + ("a fresh unprivileged uid per run (the app runs as root), RLIMIT_NPROC applies"
                             if root else "RLIMIT_NPROC counted inside the sandbox's user namespace"),
        ]
        return b
    if name == "unshare":
        tool = shutil.which("unshare") or ("/usr/bin/unshare" if os.path.exists("/usr/bin/unshare") else "")
        if not tool:
            notes.append("unshare: not installed (util-linux)")
            return None
        import platform

        if platform.machine().lower() not in ("x86_64", "amd64", "aarch64", "arm64"):
            notes.append(f"unshare: the private root needs syscall numbers for {platform.machine()}")
            return None
        flags = ["--mount", "--net", "--pid", "--fork", "--kill-child", "--ipc", "--uts"]
        if not root:
            flags = ["--user", "--map-root-user"] + flags
        b = _Backend("unshare-net+userns", tool=tool, extra_flags=flags, network="blocked",
                     filesystem="confined (read-only system files, private /tmp)", processes="limited")
        b.switch_uid = root
        b.details = [
            f"util-linux unshare at {tool}: " + ("new mount/net/pid/ipc/uts namespaces (running as root)"
                                                  if root else "new user/mount/net/pid/ipc/uts namespaces"),
            "filesystem: the child pivots into a root holding read-only binds of python, its packages and /usr",
            "processes: " + ("a fresh unprivileged uid per run (the app runs as root), RLIMIT_NPROC applies"
                             if root else "RLIMIT_NPROC counted inside the sandbox's user namespace"),
        ]
        return b
    # rlimits-only
    b = _Backend("rlimits-only")
    if name == "rlimits-plain":
        b.details = ["processes, filesystem and network are NOT isolated (the safer setups failed)",
                     "time, memory, open files and file size are limited with rlimits"]
        b.processes = "limited" if not root else "not limited"
        b.nproc_offset = not root
        return b
    b.landlock_abi = _landlock_abi()
    reach = [p for _, p, _ in _binds() if os.path.exists(p)] + [tempfile.gettempdir()]
    b.switch_uid = root and _other_can_reach(reach)
    if b.switch_uid:
        b.processes = "limited"
        b.details.append("processes: a fresh unprivileged uid per run, RLIMIT_NPROC applies")
    elif root and (cg := _pids_cgroup_base()):
        b.cgroup_base = cg
        b.processes = "limited"
        b.details.append(f"processes: each run gets its own pids cgroup under {cg} (RLIMIT_NPROC does not "
                         "bind root); capabilities are dropped")
    elif root:
        b.processes = "not limited"
        b.details.append("processes: NOT limited - the app runs as root, python is not reachable by an "
                         "unprivileged uid, RLIMIT_NPROC does not bind root and no pids cgroup is writable "
                         "(install bubblewrap); capabilities are dropped")
    else:
        b.processes = "limited"
        b.nproc_offset = True
        b.details.append("processes: RLIMIT_NPROC counts all of this user's processes (offset by the current count)")
    if b.landlock_abi:
        b.filesystem = "confined (Landlock)"
        b.details.append(f"Landlock ABI {b.landlock_abi}: writes only in the sandbox directory, reads only "
                         "where python and its packages live"
                         + (", TCP connect/bind blocked" if b.landlock_abi >= 4 else "")
                         + (", no signals or abstract sockets outside the sandbox" if b.landlock_abi >= 6 else ""))
    elif b.switch_uid:
        b.filesystem = "partly confined (unprivileged uid; world-writable directories stay writable)"
    else:
        b.details.append("filesystem: NOT confined (no namespaces, no Landlock)")
    b.details.append("network: NOT blocked (no network namespace)"
                     + ("; Landlock blocks TCP but not UDP" if b.landlock_abi >= 4 else ""))
    b.details.append("time, memory, open files and file size are limited with rlimits; the parent kills "
                     "the process group on timeout")
    return b


def _probe_run(b: _Backend) -> dict | None:
    import importlib.util

    host = tempfile.mkdtemp(prefix="mi-sandbox-probe-")
    proc = None
    try:
        cfg_extra = {"probe": True, "probe_numpy": importlib.util.find_spec("numpy") is not None}
        proc, rfd = _spawn(b, host, Limits(), cfg_extra)
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.communicate()
            out, err = b"", b"probe timed out"
        data = b""
        while True:
            chunk = os.read(rfd, 65536)
            if not chunk:
                break
            data += chunk
        os.close(rfd)
        events = [json.loads(line) for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
        probe = next((e for e in events if e.get("event") == "probe"), None)
        if proc.returncode != 0 or probe is None:
            setup = next((e.get("message") for e in events if e.get("event") == "setup_error"), "")
            why = setup or _one_line(err.decode("utf-8", "replace")) or f"exit status {proc.returncode}"
            raise RuntimeError(why)
        if b.switch_uid and probe.get("uid") == 0:
            raise RuntimeError("the child is still root after the uid switch")
        return probe
    finally:
        if proc is not None and getattr(proc, "sandbox_cgroup", ""):
            _cgroup_kill(proc.sandbox_cgroup, remove=True)
        shutil.rmtree(host, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------
# spawning


def _env(workdir: str, token: str) -> dict[str, str]:
    """A from-scratch environment: nothing of the user's (no API keys, no tokens, no proxies)."""
    bindir = os.path.dirname(sys.executable)
    return {
        _TOKEN_ENV: token,
        "PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "TMPDIR": workdir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONNOUSERSITE": "1",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
        "VECLIB_MAXIMUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "USER": "sandbox",
        "LOGNAME": "sandbox",
        "TERM": "dumb",
        "NO_COLOR": "1",
    }


def _pick_uid() -> int:
    import pwd

    for _ in range(20):
        uid = _UID_BASE + secrets.randbelow(_UID_SPAN)
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
    return _UID_BASE + secrets.randbelow(_UID_SPAN)


def _tmp_bytes(limits: Limits) -> int:
    return max(4 * int(limits.max_file_mb), 32) * 1024 * 1024


def _spawn(b: _Backend, host: str, limits: Limits, extra: dict | None = None, uid: int | None = None):
    """Start the child for backend `b` on host directory `host`; returns (Popen, result read fd)."""
    shutil.copyfile(PLUGIN_FILE, os.path.join(host, PLUGIN_FILE.name))
    files = [n for n in (SOLUTION_FILE, TESTS_FILE, PLUGIN_FILE.name) if os.path.exists(os.path.join(host, n))]
    rfd, wfd = os.pipe()
    workdir = INNER_WORKDIR if b.namespaced else host
    cfg: dict = {
        "fd": wfd,
        "workdir": workdir,
        "tests": TESTS_FILE,
        "per_test": float(limits.per_test_seconds),
        "memory_mb": int(limits.memory_mb),
        "limits": {
            "as": int(limits.memory_mb) * 1024 * 1024,
            "cpu": int(limits.total_seconds + 0.999) + 1,
            "nofile": int(limits.max_open_files),
            "fsize": int(limits.max_file_mb) * 1024 * 1024,
            "nproc": int(limits.max_processes),
        },
        "uid": uid,
        "nproc_offset": b.nproc_offset,
    }
    if extra:
        cfg.update(extra)
    if b.switch_uid and uid is None:
        cfg["uid"] = uid = _pick_uid()
    token = secrets.token_hex(8)
    cgroup = ""
    if b.cgroup_base:
        cgroup = os.path.join(b.cgroup_base, f"mi-sandbox-{token}")
        os.mkdir(cgroup)
        with open(os.path.join(cgroup, "pids.max"), "w") as fh:
            fh.write(str(int(limits.max_processes)))
        cfg["cgroup_procs"] = os.path.join(cgroup, "cgroup.procs")
    python = sys.executable
    script_args = ["-s", "-B", "-u"]
    if b.name == "bwrap":
        cmd = _bwrap_cmd(b, host, files, limits) + ["--", python, *script_args,
                                                     f"{INNER_WORKDIR}/{PLUGIN_FILE.name}"]
    elif b.name == "unshare-net+userns":
        os.mkdir(os.path.join(host, ".root"), 0o755)
        cfg["pivot"] = {
            "host_dir": host,
            "newroot": os.path.join(host, ".root"),
            "files": files,
            "binds": list(_binds()) + [("dev", d, d) for d in ("/dev/null", "/dev/zero", "/dev/full",
                                                          "/dev/random", "/dev/urandom") if os.path.exists(d)],
            "tmp_size": _tmp_bytes(limits),
            "workdir": INNER_WORKDIR,
        }
        cmd = [b.tool, *b.extra_flags, "--", python, *script_args, os.path.join(host, PLUGIN_FILE.name)]
    else:
        if uid is not None:
            os.chown(host, uid, uid)
        if b.landlock_abi:
            read = [p for k, p, _ in _binds() if k == "ro"]
            read += [p for p in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
                     if os.path.exists(p)]
            read += [d for d in ("/dev/zero", "/dev/random", "/dev/urandom") if os.path.exists(d)]
            cfg["landlock"] = {"abi": b.landlock_abi, "read": read, "write": [host, "/dev/null"]}
        cmd = [python, *script_args, os.path.join(host, PLUGIN_FILE.name)]
    cmd.append(json.dumps(cfg))
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(workdir, token),
            cwd=host,
            pass_fds=(wfd,),
            start_new_session=True,
            close_fds=True,
        )
    except BaseException:
        os.close(rfd)
        if cgroup:
            _cgroup_kill(cgroup, remove=True)
        raise
    finally:
        os.close(wfd)
    proc.sandbox_uid = uid  # type: ignore[attr-defined]
    proc.sandbox_namespaced = b.namespaced  # type: ignore[attr-defined]
    proc.sandbox_token = token  # type: ignore[attr-defined]
    proc.sandbox_cgroup = cgroup  # type: ignore[attr-defined]
    for stream in (proc.stdout, proc.stderr):
        try:  # bigger pipes: fewer wake-ups when the candidate prints a lot
            import fcntl

            fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
        except (OSError, AttributeError, ImportError):
            pass
    return proc, rfd


def _bwrap_cmd(b: _Backend, host: str, files: list[str], limits: Limits) -> list[str]:
    a = [b.tool, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
         *b.extra_flags, "--die-with-parent", "--new-session", "--hostname", "sandbox",
         "--perms", "1777", "--size", str(_tmp_bytes(limits)), "--tmpfs", "/tmp",
         "--perms", "1777", "--dir", INNER_WORKDIR]
    made = {"/", "/tmp", INNER_WORKDIR}
    for kind, src, dest in _binds():
        if kind == "symlink":
            a += ["--symlink", src, dest]
            made.add(dest)
            continue
        parent = os.path.dirname(dest)
        chain = []
        while parent not in made and parent != "/":
            chain.append(parent)
            parent = os.path.dirname(parent)
        for d in reversed(chain):
            a += ["--perms", "0755", "--dir", d]
            made.add(d)
        a += ["--ro-bind", src, dest]
        made.add(dest)
    a += ["--proc", "/proc", "--dev", "/dev"]
    for name in files:
        a += ["--ro-bind", os.path.join(host, name), f"{INNER_WORKDIR}/{name}"]
    a += ["--remount-ro", "/", "--chdir", INNER_WORKDIR]
    return a


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if getattr(proc, "sandbox_namespaced", True):
        return  # the pid namespace dies with its first process: nothing can outlive it
    if getattr(proc, "sandbox_cgroup", ""):
        _cgroup_kill(proc.sandbox_cgroup, remove=False)
    # rlimits-only: a process that left the group (setsid) still carries the run's token.
    needle = f"{_TOKEN_ENV}={getattr(proc, 'sandbox_token', '')}".encode() + b"\0"
    for _ in range(3):
        found = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as fh:
                    if needle not in fh.read():
                        continue
                os.kill(int(pid), signal.SIGKILL)
                found = True
            except OSError:
                continue
        if not found:
            break


# ---------------------------------------------------------------------------------------------------
# output capture


class _Capture:
    """Keeps the head and the tail of a stream, counts the rest; never holds more than ~5x the limit."""

    def __init__(self, limit: int):
        self.limit = max(int(limit), 200)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self._head_cap = self.limit * 4
        self._tail_cap = self.limit

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self._head_cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > self._tail_cap:
                del self.tail[: len(self.tail) - self._tail_cap]

    def text(self) -> str:
        head = self.head.decode("utf-8", "replace")
        if not self.tail and len(head) <= self.limit:
            return head
        tail = self.tail.decode("utf-8", "replace")
        keep_head = self.limit * 3 // 4
        keep_tail = self.limit - keep_head
        body = head + tail
        return (
            body[:keep_head]
            + f"\n\n[... output truncated: {self.total:,} bytes in all; showing the first {keep_head:,}"
            f" and the last {keep_tail:,} characters ...]\n\n"
            + body[-keep_tail:]
        )


def _dir_size(path: str, max_entries: int = 5000) -> int:
    total, seen, stack = 0, 0, [path]
    while stack:
        try:
            it = os.scandir(stack.pop())
        except OSError:
            continue
        with it:
            for entry in it:
                seen += 1
                if seen > max_entries:
                    return 1 << 62  # a flood of files counts as over quota
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    else:
                        total += entry.stat(follow_symlinks=False).st_blocks * 512
                except OSError:
                    continue
    return total


# ---------------------------------------------------------------------------------------------------
# the run


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _syntax_problem(source: str, filename: str) -> str | None:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f" at line {exc.lineno}" if exc.lineno else ""
        line = (exc.text or "").strip()
        return f"{type(exc).__name__}{where}: {exc.msg}" + (f" ({_one_line(line, 80)})" if line else "")
    except (ValueError, TypeError) as exc:  # e.g. null bytes
        return f"SyntaxError: {exc}"
    return None


def _short_name(nodeid: str) -> str:
    prefix = TESTS_FILE + "::"
    return nodeid[len(prefix):] if nodeid.startswith(prefix) else nodeid


_SIGNAL_WORDS = {
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGILL: "illegal instruction",
    signal.SIGKILL: "killed",
    signal.SIGXFSZ: "file too large",
}


def run_tests(
    code: str,
    tests: str,
    limits: Limits | None = None,
    cancel: threading.Event | None = None,
) -> TestReport:
    """Run the hidden `tests` against the candidate's `code` (saved as solution.py) in the sandbox."""
    limits = limits or Limits()
    t0 = time.monotonic()
    known = _probe_cache.get(_probe_key())
    iso = known.name if known is not None else ""

    def done(**kw) -> TestReport:
        kw.setdefault("duration", round(time.monotonic() - t0, 4))
        kw.setdefault("isolation", iso)
        return TestReport(**kw)

    # Cheap checks first: none of them needs the sandbox (or its one-time probe).
    problem = _syntax_problem(code, SOLUTION_FILE)
    if problem:
        return done(status="syntax_error", message=problem)
    problem = _syntax_problem(tests, TESTS_FILE)
    if problem:
        return done(status="crashed", message=f"the question's hidden tests do not compile: {problem}")
    if cancel is not None and cancel.is_set():
        return done(status="cancelled", message="the run was cancelled")
    try:
        backend = _backend()
        iso = backend.name
        if backend.broken:
            raise RuntimeError(backend.broken)
    except Exception as exc:  # noqa: BLE001
        return done(status="crashed", message=f"the sandbox is not usable here: {_one_line(str(exc))}")

    host = tempfile.mkdtemp(prefix="mi-sandbox-")
    proc = None
    rfd = -1
    try:
        os.chmod(host, 0o755)
        for name, text in ((SOLUTION_FILE, code), (TESTS_FILE, tests)):
            with open(os.path.join(host, name), "w", encoding="utf-8") as fh:
                fh.write(text)
        try:
            proc, rfd = _spawn(backend, host, limits)
        except Exception as exc:  # noqa: BLE001
            return done(status="crashed", message=f"could not start the sandbox: {_one_line(str(exc))}")
        return _supervise(proc, rfd, host, backend, limits, cancel, done)
    finally:
        if proc is not None:
            _kill_group(proc)  # also whatever the candidate left behind in the group
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
            if getattr(proc, "sandbox_cgroup", ""):
                _cgroup_kill(proc.sandbox_cgroup, remove=True)
        if rfd >= 0:
            try:
                os.close(rfd)
            except OSError:
                pass
        shutil.rmtree(host, ignore_errors=True)


def _supervise(proc, rfd, host, backend: _Backend, limits: Limits, cancel, done) -> TestReport:
    start = time.monotonic()
    total_deadline = start + float(limits.total_seconds)
    out, err = _Capture(limits.max_output_chars), _Capture(limits.max_output_chars)
    buf = bytearray()
    events: list[dict] = []
    current: str | None = None
    current_since = 0.0
    stop_reason = ""  # why the parent killed the run
    quota = max(4 * int(limits.max_file_mb), 64) * 1024 * 1024
    next_disk_check = start + 0.25

    sel = selectors.DefaultSelector()
    sinks = {proc.stdout.fileno(): out.feed, proc.stderr.fileno(): err.feed}
    for fd in (*sinks, rfd):
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    exited_at: float | None = None

    def handle_events() -> None:
        nonlocal current, current_since
        while True:
            nl = buf.find(b"\n")
            if nl < 0:
                return
            line = bytes(buf[:nl])
            del buf[: nl + 1]
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if not isinstance(ev, dict):
                continue
            events.append(ev)
            kind = ev.get("event")
            if kind == "start":
                current, current_since = str(ev.get("name")), time.monotonic()
            elif kind == "result":
                current = None

    while sel.get_map():
        now = time.monotonic()
        if proc.poll() is not None and exited_at is None:
            exited_at = now
        if exited_at is not None and now - exited_at > _DRAIN_GRACE:
            break  # something that outlived the child still holds a pipe open
        if cancel is not None and cancel.is_set():
            stop_reason = "cancelled"
        elif now >= total_deadline:
            stop_reason = "total"
        elif current is not None and now - current_since > limits.per_test_seconds + _KILL_GRACE:
            stop_reason = "test"
        elif not backend.namespaced and now >= next_disk_check:
            next_disk_check = now + 0.25
            if _dir_size(host) > quota:
                stop_reason = "disk"
        if stop_reason:
            _kill_group(proc)
            break
        wait = min(0.05, max(total_deadline - now, 0.0))
        for key, _ in sel.select(timeout=wait):
            fd = key.fd
            try:
                data = os.read(fd, 1 << 20)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(fd)
                continue
            if fd == rfd:
                buf += data
                if len(buf) > 1 << 24:  # a flood on the result pipe is not ours
                    del buf[:]
                handle_events()
            else:
                sinks[fd](data)
    # Take whatever is still buffered, without waiting for writers that may never close.
    for key in list(sel.get_map().values()):
        try:
            while True:
                data = os.read(key.fd, 1 << 20)
                if not data:
                    break
                if key.fd == rfd:
                    buf += data
                else:
                    sinks[key.fd](data)
        except OSError:
            pass
    sel.close()
    handle_events()
    if proc.poll() is None:
        _kill_group(proc)
    try:
        rc = proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        rc = None
    return _build_report(events, rc, stop_reason, current, out, err, backend, limits, done)


def _build_report(events, rc, stop_reason, current, out, err, backend: _Backend, limits: Limits, done):
    collected: list[str] | None = None
    results: dict[str, TestResult] = {}
    kinds: dict[str, str] = {}
    collect_errors: list[TestResult] = []
    finished = False
    exitstatus = None
    setup_error = ""
    internal_error = ""
    for ev in events:
        kind = ev.get("event")
        if kind == "collected":
            collected = [str(n) for n in ev.get("tests") or []]
        elif kind == "result":
            name = str(ev.get("name"))
            outcome = ev.get("outcome")
            if outcome not in ("passed", "failed", "error", "skipped"):
                outcome = "error"
            results[name] = TestResult(name=_short_name(name), outcome=outcome, message=str(ev.get("message", "")),
                                       duration=float(ev.get("duration") or 0.0))
            kinds[name] = str(ev.get("kind") or "")
        elif kind == "collect_error":
            name = str(ev.get("name") or "collection")
            collect_errors.append(TestResult(name=f"{_short_name(name)} (collection)", outcome="error",
                                             message=str(ev.get("message", ""))))
            if ev.get("kind"):
                kinds[name + " (collection)"] = str(ev.get("kind"))
        elif kind == "finish":
            finished = True
            exitstatus = ev.get("exitstatus")
        elif kind == "setup_error":
            setup_error = str(ev.get("message", ""))
        elif kind == "internal_error":
            internal_error = str(ev.get("message", ""))

    stderr_text = err.text()
    sig = None
    if rc is not None:
        if rc < 0:
            sig = -rc
        elif rc > 128 and backend.namespaced and not finished:
            sig = rc - 128  # bwrap and unshare report a child killed by signal N as 128 + N
    names = collected if collected is not None else list(results)
    missing = [n for n in names if n not in results]
    running = current if current in missing else None  # the test that was running when the run stopped
    run_name = _short_name(running) if running else ""
    during = f" while running {run_name}" if running else ""

    status, message = "ok", ""
    not_run = "not run: the run stopped before this test"
    running_msg = ""
    if stop_reason == "cancelled":
        status, message = "cancelled", "the run was cancelled"
        not_run = "not run: the run was cancelled"
        running_msg = "cancelled while running"
    elif stop_reason == "total":
        status = "timeout"
        message = f"your code did not finish within {limits.total_seconds:g} s"
        not_run = f"not run: the whole run stopped at its {limits.total_seconds:g} s limit"
        running_msg = f"still running when the {limits.total_seconds:g} s limit for the whole run was reached"
    elif stop_reason == "test":
        status = "timeout"
        message = f"{run_name or 'a test'} did not finish within {limits.per_test_seconds:g} s (infinite loop?)"
        not_run = f"not run: the run stopped after {run_name or 'a test'} timed out"
        running_msg = f"did not finish within {limits.per_test_seconds:g} s (infinite loop?)"
    elif stop_reason == "disk":
        status = "crashed"
        message = f"your code wrote more than {max(4 * limits.max_file_mb, 64)} MB of files"
        not_run = "not run: the run was stopped (too much written to disk)"
        running_msg = message
    elif setup_error:
        status, message = "crashed", f"the sandbox could not be set up: {_one_line(setup_error)}"
    elif not finished:
        memory_hint = any(s in stderr_text for s in ("MemoryError", "Cannot allocate memory", "bad_alloc",
                                                     "out of memory"))
        if sig == signal.SIGXCPU:
            status = "timeout"
            message = f"your code used more than {int(limits.total_seconds + 0.999) + 1} s of CPU time"
        elif memory_hint or "memory" in kinds.values():
            status, message = "memory", f"your code used more than {limits.memory_mb} MB of memory"
        elif sig:
            try:
                signame = signal.Signals(sig).name
            except ValueError:
                signame = f"signal {sig}"
            word = _SIGNAL_WORDS.get(sig)
            status = "crashed"
            message = f"the test process crashed ({signame}{': ' + word if word else ''})"
        elif internal_error:
            status, message = "crashed", f"pytest failed inside the sandbox: {_one_line(internal_error)}"
        else:
            status = "crashed"
            message = "the test process exited early (os._exit? sys.exit?)"
        message += during
        not_run = "not run: the test process ended before this test"
        running_msg = message
    elif (collected is None or exitstatus == 3) and not collect_errors and not results:
        status = "crashed"
        if "SystemExit" in stderr_text:
            message = "your code called sys.exit() while the tests were loading it"
        else:
            message = "the tests stopped while loading your code (pytest internal error)"
    elif missing:
        status = "crashed"
        message = "the test session stopped early (KeyboardInterrupt? pytest.exit()?)" + during
        not_run = "not run: the test session stopped early"
        running_msg = message

    # Per-test results in collection order; fill in the test that was running and those never run.
    ordered: list[TestResult] = list(collect_errors)
    for name in names:
        if name in results:
            ordered.append(results[name])
        else:
            ordered.append(TestResult(name=_short_name(name), outcome="error",
                                      message=running_msg if name == running and running_msg else not_run))

    if status == "ok":
        if "memory" in kinds.values():
            status, message = "memory", f"your code used more than {limits.memory_mb} MB of memory"
        elif "timeout" in kinds.values():
            first = next(n for n in results if kinds.get(n) == "timeout")
            status = "timeout"
            message = f"{_short_name(first)} did not finish within {limits.per_test_seconds:g} s (infinite loop?)"
        elif collect_errors:
            message = f"the tests could not load your code: {_one_line(collect_errors[0].message)}"
        elif not names:
            status, message = "no_tests", "no tests were found in the hidden tests"

    passed = sum(r.outcome == "passed" for r in ordered)
    failed = sum(r.outcome == "failed" for r in ordered)
    errors = sum(r.outcome == "error" for r in ordered)
    return done(passed=passed, failed=failed, errors=errors, results=ordered, stdout=out.text(),
                stderr=stderr_text, status=status, message=message)
