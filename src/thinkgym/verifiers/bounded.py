"""Run a picklable function with a hard bound on its CPU time in a killable worker process.

Why not ``signal.alarm`` or a thread: an alarm only works on the main thread of the main
interpreter (trainers call rewards from threads and event loops), and a thread cannot be stopped
while sympy grinds inside a C-level loop. A separate process can always be killed.

How: a *template* process (a fresh interpreter started with ``subprocess``) imports the
``preload`` modules and runs the ``initializer`` once, then forks a worker whenever the pool
needs one. Forking from the single-threaded template takes milliseconds and the worker inherits
the warm imports and caches, so a worker killed for overrunning its bound is replaced at once.
Each worker runs one call at a time; the caller waits on its socket and kills it when its time
is up. The call that caused a kill or a crash gets a `BoundedResult` that says so.

**What a call is charged** (why: a trainer's node is always loaded, and a bound that counts the
machine's load, not the input's cost, scores right answers as timeouts):

- *Start-up is never charged.* A call on a cold pool first waits for the template (imports,
  initializer) and the fork of its worker, up to the pool's ``startup_timeout`` (60 s by
  default), a bound of its own. A pool that cannot start a worker in that time (or whose
  template keeps dying) gives status ``"unavailable"`` with the reason: a failure of the
  machinery, not a verdict on the call.
- *The budget is CPU time.* ``timeout`` counts the CPU seconds the worker spends on the call
  (user + system, read from ``/proc/<pid>/stat`` while the caller polls the socket in short
  slices), which is what an adversarial input actually burns and what a loaded machine does not
  inflate. Where ``/proc`` cannot be read (not Linux) it falls back to wall-clock seconds.
- *A wall-clock cap is the safety net* for a worker that blocks without using CPU (a sleep, a
  lock, a machine so overloaded the worker is not scheduled): ``wall_timeout``, by default
  ``max(10 * timeout, timeout + 5)`` seconds from the moment the call is sent. A call ended by
  the cap before it used its CPU budget is a ``"timeout"`` with ``stalled=True``. Pass
  ``wall_timeout=timeout`` for a plain wall-clock bound (latency over fairness).
- ``includes_start=True`` makes the wall-clock cap cover the whole call, the wait for a cold
  pool included (a pool not ready within it gives ``"unavailable"``: "still starting"); the CPU
  budget is unchanged. For callers who need a hard latency bound more than a verdict.

Functions sent to workers must be importable by module path (the caller's ``sys.path`` is
passed along). ``subprocess`` rather than ``multiprocessing`` because spawn and forkserver
re-import the caller's ``__main__`` and plain fork is unsafe in a threaded trainer.

>>> pool = BoundedPool(size=2)
>>> pool.call(pow, 2, 10, timeout=1.0).value
1024
"""

from __future__ import annotations

import asyncio
import atexit
import importlib
import json
import os
import pickle
import queue
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.reduction import recv_handle, send_handle
from typing import Any

__all__ = ["BoundedResult", "BoundedPool", "default_wall_timeout", "run_bounded"]


@dataclass(frozen=True)
class BoundedResult:
    """The outcome of one bounded call.

    ``status`` is ``"ok"`` (``value`` holds the return value), ``"error"`` (the function raised;
    ``error`` holds ``Type: message``), ``"timeout"`` (killed: it used ``timeout`` seconds of CPU,
    or, with ``stalled`` set, it reached the wall-clock cap first), ``"died"`` (the worker process
    exited mid-call, e.g. killed for memory) or ``"unavailable"`` (no worker could be started
    within the start-up bound: the call never ran). ``elapsed`` is the call's wall time from the
    moment it was sent (start-up not included), ``cpu`` the worker's CPU seconds on it (``None``
    where they cannot be read, or the call never reached a worker).
    """

    status: str
    value: Any = None
    error: str | None = None
    elapsed: float = 0.0
    cpu: float | None = None
    stalled: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def inconclusive(self) -> bool:
        """The outcome says nothing about the call itself: no worker could be started, or the
        wall-clock cap ended it before it had used its CPU budget (blocked or starved)."""
        return self.status == "unavailable" or self.stalled


# ---------------------------------------------------------------------------------------------
# Code that runs in the template and worker processes
# ---------------------------------------------------------------------------------------------


def _serve(conn: Any) -> None:
    """A worker's loop: answer ``(fn, args, kwargs)`` messages until the parent hangs up."""
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            message = pickle.loads(data)
        except Exception as exc:  # e.g. a function defined in the caller's __main__
            conn.send(("error", f"the call could not be loaded in the worker: {type(exc).__name__}: {exc}"[:2000]))
            continue
        if message is None:
            return
        fn, args, kwargs = message
        try:
            reply: tuple[str, Any] = ("ok", fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - report everything, the parent decides
            reply = ("error", f"{type(exc).__name__}: {exc}"[:2000])
        try:
            conn.send(reply)
        except Exception as exc:  # an unpicklable return value
            conn.send(("error", f"result could not be sent back: {type(exc).__name__}: {exc}"[:2000]))


def _limit_memory(memory_limit_mb: int | None) -> None:
    if not memory_limit_mb:
        return
    try:
        import resource

        limit = int(memory_limit_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when the template exits, even while it grinds in C code.

    (Set only in workers: their parent is the template's single thread. The template itself
    exits when the caller's end of its socket closes.)"""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _template_main(conn: Any, preload: Sequence[str], memory_limit_mb: int | None, initializer: str | None) -> None:
    """The template: import and warm up once, then fork a worker for each ``"fork"`` request."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped automatically
    for name in preload:
        importlib.import_module(name)
    warming = None
    if initializer:
        module, _, function = initializer.partition(":")
        result = getattr(importlib.import_module(module), function)()
        if hasattr(result, "__next__"):  # a generator: warm up step by step until the first fork request
            warming = result
    try:
        conn.send(("ready", os.getpid()))
    except OSError:  # the caller is gone already
        return
    while True:
        if warming is not None and not conn.poll(0):
            warming = _warm_step(warming, 1)
            continue
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message == "warm":  # finish the warm-up now: workers forked from here on are fully warm
            warming = _warm_step(warming, None)
            conn.send("warm")
            continue
        if message != "fork":
            return
        # every worker starts fully warm: a first call must not pay (in its CPU budget) for warm-up
        # steps its worker inherited unfinished (start-up, this included, is never charged)
        warming = _warm_step(warming, None)
        _fork_worker(conn, memory_limit_mb)


def _warm_step(warming: Any, steps: int | None) -> Any:
    """Run ``steps`` steps (all if ``None``) of a warm-up generator; ``None`` once it is done."""
    try:
        count = 0
        while warming is not None and (steps is None or count < steps):
            next(warming)
            count += 1
        return warming
    except Exception:  # noqa: BLE001 - StopIteration, or a failed warm-up step: it only costs speed
        return None


def _fork_worker(conn: Any, memory_limit_mb: int | None) -> None:
    """Fork one worker serving the socket the caller just sent, and tell the caller its pid."""
    fd = recv_handle(conn)
    pid = os.fork()
    if pid == 0:  # the worker
        code = 0
        try:
            conn.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _die_with_parent()
            _limit_memory(memory_limit_mb)
            _serve(Connection(fd))
        except BaseException:  # noqa: BLE001 - never fall back into the template's loop
            code = 1
        finally:
            os._exit(code)
    os.close(fd)
    conn.send(pid)


def _template_entry(fd: int, config_json: str) -> None:
    """Entry point of ``python -c`` in the template interpreter."""
    config = json.loads(config_json)
    for path in reversed(config["sys_path"]):
        if path not in sys.path:
            sys.path.insert(0, path)
    _template_main(Connection(fd), config["preload"], config["memory_limit_mb"], config["initializer"])


# ---------------------------------------------------------------------------------------------
# The caller's side
# ---------------------------------------------------------------------------------------------


class _Template:
    """The caller's handle on the template process."""

    def __init__(self, preload: Sequence[str], memory_limit_mb: int | None, initializer: str | None):
        parent_sock, child_sock = socket.socketpair()
        config = json.dumps(
            {
                "preload": list(preload),
                "memory_limit_mb": memory_limit_mb,
                "initializer": initializer,
                "sys_path": [p for p in sys.path if p],
            }
        )
        # This file is loaded by path, so a template that preloads nothing does not pay for
        # importing the thinkgym package.
        code = (
            "import sys, importlib.util as u; "
            "s = u.spec_from_file_location('_thinkgym_bounded', sys.argv[3]); "
            "m = sys.modules[s.name] = u.module_from_spec(s); s.loader.exec_module(m); "
            "m._template_entry(int(sys.argv[1]), sys.argv[2])"
        )
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(var, "1")  # no thread pools in a process that forks
        fd = child_sock.fileno()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, str(fd), config, os.path.abspath(__file__)],
                pass_fds=(fd,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                close_fds=True,
                env=env,
            )
        finally:
            child_sock.close()
        self.conn = Connection(parent_sock.detach())
        self.lock = threading.Lock()
        self.ready = False
        self.failed = False  # it hung up or said something else than "ready": restart it

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s (in all, the wait for another waiter included) for "ready"."""
        if self.ready:
            return True
        deadline = time.monotonic() + timeout
        if not self.lock.acquire(timeout=max(timeout, 0.0)):
            return self.ready
        try:
            if not self.ready and not self.failed:
                try:
                    if self.conn.poll(max(deadline - time.monotonic(), 0.0)):
                        tag, _ = self.conn.recv()
                        self.ready = tag == "ready"
                        self.failed = not self.ready
                except (EOFError, OSError, ValueError):
                    self.failed = True
            return self.ready
        finally:
            self.lock.release()

    def finish_warm_up(self, timeout: float) -> bool:
        """Ask the template to finish its warm-up and wait until it has."""
        try:
            with self.lock:
                self.conn.send("warm")
                return bool(self.conn.poll(timeout)) and self.conn.recv() == "warm"
        except (EOFError, OSError):
            return False

    def fork(self) -> _Worker | None:
        """A new worker forked from the template, or ``None`` if the template is gone."""
        ours, theirs = socket.socketpair()
        try:
            with self.lock:
                self.conn.send("fork")
                send_handle(self.conn, theirs.fileno(), self.process.pid)
                if not self.conn.poll(_FORK_TIMEOUT):
                    raise OSError("the template did not answer a fork request")
                pid = self.conn.recv()
        except (EOFError, OSError, ValueError):
            self.failed = True  # a late answer would be read as the next fork's: start afresh
            ours.close()
            return None
        finally:
            theirs.close()
        return _Worker(Connection(ours.detach()), pid)

    def alive(self) -> bool:
        return not self.failed and self.process.poll() is None

    def exit_note(self) -> str:
        """How the template ended, for a start-up failure's reason."""
        try:
            code = self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            return "it stopped answering"
        return f"it exited with code {code} (see its stderr: an import or the initializer failed?)"

    def stop(self) -> None:
        try:
            self.conn.close()
        except OSError:
            pass
        if not self.ready:  # still importing: it would only notice the closed socket afterwards
            self.process.kill()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


class _Worker:
    """One forked worker: its socket and a pidfd (so a kill never hits a recycled pid)."""

    def __init__(self, conn: Connection, pid: int):
        self.conn = conn
        self.pid = pid
        self.pidfd: int | None = None
        try:
            self.pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self.pidfd = None

    def alive(self) -> bool:
        if self.pidfd is not None:
            readable, _, _ = select.select([self.pidfd], [], [], 0)
            return not readable
        try:
            os.kill(self.pid, 0)
        except OSError:
            return False
        return True

    def kill(self) -> None:
        try:
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
        self.close()

    def close(self) -> None:
        try:
            self.conn.close()
        except OSError:
            pass
        if self.pidfd is not None:
            try:
                os.close(self.pidfd)
            except OSError:
                pass
            self.pidfd = None


_LIVE_POOLS: weakref.WeakSet[BoundedPool] = weakref.WeakSet()
_FORK_TIMEOUT = 60.0
#: Longest wait on a worker's socket between two reads of its CPU time. A single-threaded worker
#: cannot use more CPU than the wall time that passes, so a slice never longer than the budget
#: left cannot overshoot it; the cap bounds the overshoot of a worker that runs threads.
_POLL_SLICE = 0.25
_MIN_SLICE = 0.005

try:
    _CLOCK_TICKS = float(os.sysconf("SC_CLK_TCK"))
except (AttributeError, ValueError, OSError):
    _CLOCK_TICKS = 100.0


def _cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system, its reaped children's included) process ``pid`` has used, from
    ``/proc/<pid>/stat``; ``None`` where that cannot be read (not Linux, or the process is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        # after the command name: state is field 3, utime..cstime are fields 14-17
        return sum(int(f) for f in fields[11:15]) / _CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return None


def default_wall_timeout(timeout: float) -> float:
    """The wall-clock cap of a call whose CPU budget is ``timeout``: ``max(10 * timeout,
    timeout + 5)`` — room for a tenfold slowdown by load, and a few seconds for short budgets."""
    return max(10.0 * timeout, timeout + 5.0)


def _positive(name: str, value: Any) -> float:
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def _await_answer(
    worker: _Worker, base: float | None, timeout: float, cap: float, start: float
) -> tuple[str | None, float | None]:
    """Wait for ``worker``'s answer: ``(None, cpu)`` once it can be read, else ``(why, cpu)`` with
    ``why`` ``"cpu"`` (it used ``timeout`` s of CPU), ``"wall"`` (``timeout`` s of wall time, where
    CPU time cannot be read) or ``"stalled"`` (the wall-clock cap ``cap`` passed first)."""
    cpu: float | None = 0.0 if base is not None else None
    while True:
        waited = time.perf_counter() - start
        if base is not None:
            now = _cpu_seconds(worker.pid)
            if now is not None:
                cpu = now - base
            left = timeout - (cpu or 0.0)
        else:
            left = timeout - waited
        over = None
        if left <= 0:
            over = "cpu" if base is not None else "wall"
        elif waited >= cap:
            over = "stalled"
        try:
            if worker.conn.poll(0 if over else max(min(left, cap - waited, _POLL_SLICE), _MIN_SLICE)):
                return None, cpu  # (an answer already there when the time ran out still counts)
        except (OSError, EOFError):
            return None, cpu  # recv reports the death
        if over:
            return over, cpu


class BoundedPool:
    """A fixed number of worker processes that run calls with a hard bound each: ``timeout``
    seconds of the worker's CPU time, under a wall-clock cap (see the module docstring).

    Thread-safe: any thread may call `call` (at most ``size`` run at once; the others wait for a
    free worker, and that wait is not counted against their bound). `acall` is the asyncio
    form. ``preload`` names modules the template imports once, ``initializer``
    ("module:function") runs once after them (warm caches there, so first calls are not slower
    than the rest), and every worker inherits both. An initializer that returns a generator is
    stepped in the background after the template reports ready, and finished before the first
    worker is forked, so every worker starts fully warm (the wait is start-up: never charged). ``memory_limit_mb`` caps each worker's
    address space so a runaway allocation fails the call, not the machine. ``startup_timeout``
    bounds the wait for the template and a worker's fork (never charged to a call's ``timeout``);
    a pool not ready by then answers ``"unavailable"`` and keeps starting for the next call.
    """

    def __init__(
        self,
        size: int = 1,
        *,
        preload: Sequence[str] = (),
        memory_limit_mb: int | None = None,
        initializer: str | None = None,
        startup_timeout: float = 60.0,
    ):
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"BoundedPool size must be a positive int, got {size!r}")
        self.size = size
        self.preload = tuple(preload)
        self.memory_limit_mb = memory_limit_mb
        self.initializer = initializer
        self.startup_timeout = _positive("startup_timeout", startup_timeout)
        self._slots: queue.Queue[list[_Worker | None]] = queue.Queue()
        for _ in range(size):
            self._slots.put([None])
        self._lock = threading.Lock()
        self._template: _Template | None = None
        self._closed = False
        self._pid = os.getpid()
        self.replaced = 0  # workers killed or found dead (for monitoring and tests)
        _LIVE_POOLS.add(self)

    # ---- worker management --------------------------------------------------------------

    def _after_fork(self) -> None:
        """In a forked copy of the caller, start afresh: the workers belong to the parent."""
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._template = None
            self._slots = queue.Queue()
            for _ in range(self.size):
                self._slots.put([None])

    def _get_template(self) -> _Template:
        with self._lock:
            if self._closed:
                raise RuntimeError("this BoundedPool is closed")
            if self._template is None or not self._template.alive():
                if self._template is not None:
                    self._template.stop()
                self._template = _Template(self.preload, self.memory_limit_mb, self.initializer)
            return self._template

    def _fork(self, wait: float) -> _Worker | str:
        """A new worker, or why none could be started within ``wait`` seconds."""
        deadline = time.monotonic() + wait
        why = "no worker process could be started"
        for _ in range(2):  # a template that died (OOM killer) or broke is restarted once
            template = self._get_template()
            if template.wait_ready(deadline - time.monotonic()):
                worker = template.fork()
                if worker is not None:
                    return worker
                why = "the template process did not fork a worker"
            elif not template.failed and template.process.poll() is None:
                return f"the worker process was still starting after {wait:g} s"
            else:
                why = f"the worker process could not start: {template.exit_note()}"
            if time.monotonic() >= deadline:
                break
        return why

    def _worker_for(self, slot: list[_Worker | None], wait: float) -> _Worker | str:
        """The slot's worker, forked now if it has none (waiting up to ``wait`` s for start-up)."""
        worker = slot[0]
        if worker is not None and not worker.alive():
            worker.kill()
            worker = slot[0] = None
            self.replaced += 1
        if worker is None:
            got = self._fork(wait)
            if isinstance(got, str):
                return got
            worker = slot[0] = got
        return worker

    def _discard(self, slot: list[_Worker | None]) -> None:
        if slot[0] is not None:
            slot[0].kill()
        slot[0] = None
        self.replaced += 1

    def start(self) -> None:
        """Start the template process now without waiting for it (a later call finds it warmer)."""
        try:
            self._get_template()
        except RuntimeError:
            pass

    def warm(self) -> None:
        """Start the template, finish its warm-up and start every worker now (so a first call
        pays no start-up and no first-call costs)."""
        slots = [self._slots.get() for _ in range(self.size)]
        try:
            template = self._get_template()
            if template.wait_ready(self.startup_timeout):
                template.finish_warm_up(self.startup_timeout)
            for slot in slots:
                self._worker_for(slot, self.startup_timeout)
        finally:
            for slot in slots:
                self._slots.put(slot)

    # ---- calls ---------------------------------------------------------------------------

    def call(
        self,
        fn: Callable[..., Any],
        *args: Any,
        timeout: float,
        wall_timeout: float | None = None,
        includes_start: bool = False,
        **kwargs: Any,
    ) -> BoundedResult:
        """Run ``fn(*args, **kwargs)`` in a worker; kill it once it has used ``timeout`` s of CPU.

        Start-up (a cold template, forking the worker) is not charged: it is waited for up to the
        pool's ``startup_timeout``, and a pool that cannot start gives ``"unavailable"``.
        ``wall_timeout`` caps the call's wall time (default `default_wall_timeout`:
        ``max(10 * timeout, timeout + 5)``), for a worker that blocks without using CPU.
        ``includes_start=True`` counts the start-up wait against that cap too (see the module
        docstring). Waiting for a free worker is never counted.
        """
        timeout = _positive("timeout", timeout)
        cap = default_wall_timeout(timeout) if wall_timeout is None else _positive("wall_timeout", wall_timeout)
        if self._closed:
            raise RuntimeError("this BoundedPool is closed")
        if self._pid != os.getpid():
            self._after_fork()
        slot = self._slots.get()
        began = time.perf_counter()
        try:
            worker = self._worker_for(slot, cap if includes_start else self.startup_timeout)
            if isinstance(worker, str):
                return BoundedResult("unavailable", error=worker, elapsed=time.perf_counter() - began)
            if includes_start:
                cap = max(cap - (time.perf_counter() - began), 0.01)
            return self._run(slot, worker, (fn, args, kwargs), timeout, cap)
        finally:
            self._slots.put(slot)

    def _run(self, slot: list[_Worker | None], worker: _Worker, message: tuple, timeout: float, cap: float) -> BoundedResult:
        """Send one call to ``worker`` and wait for its answer within the CPU budget and the cap."""
        start = time.perf_counter()
        try:
            worker.conn.send(message)
        except (OSError, EOFError) as exc:
            self._discard(slot)
            return BoundedResult("died", error=f"worker connection broken: {exc}")
        except Exception as exc:  # pickling the call failed before anything was written
            return BoundedResult("error", error=f"call could not be sent: {type(exc).__name__}: {exc}")
        base = _cpu_seconds(worker.pid)
        ended, cpu = _await_answer(worker, base, timeout, cap, start)
        elapsed = time.perf_counter() - start
        if ended is not None:
            self._discard(slot)
            if ended == "cpu":
                error = f"timed out after {timeout:g} s of CPU time ({elapsed:.2f} s wall)"
            elif ended == "wall" and base is None:
                error = f"timed out after {timeout:g} s"
            else:
                used = "an unmeasured part" if cpu is None else f"{cpu:.2f} s"
                error = (f"timed out: the wall-clock cap of {cap:g} s passed with {used} of the "
                         f"{timeout:g} s CPU budget used (the worker was blocked or starved of CPU)")
            return BoundedResult("timeout", error=error, elapsed=elapsed, cpu=cpu, stalled=ended == "stalled")
        try:
            tag, payload = worker.conn.recv()
        except (EOFError, OSError):
            self._discard(slot)
            return BoundedResult("died", error="worker process died mid-call", elapsed=elapsed, cpu=cpu)
        if base is not None:  # the final reading: the answer arrived between two polls
            now = _cpu_seconds(worker.pid)
            cpu = max(now - base, cpu or 0.0) if now is not None else cpu
        if tag == "ok":
            return BoundedResult("ok", value=payload, elapsed=elapsed, cpu=cpu)
        return BoundedResult("error", error=str(payload), elapsed=elapsed, cpu=cpu)

    async def acall(self, fn: Callable[..., Any], *args: Any, timeout: float, **kwargs: Any) -> BoundedResult:
        """`call` for asyncio code: the wait happens in a thread, the event loop keeps running."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: self.call(fn, *args, timeout=timeout, **kwargs))

    def map(
        self,
        fn: Callable[..., Any],
        items: Iterable[Sequence[Any]],
        *,
        timeout: float,
        wall_timeout: float | None = None,
        includes_start: bool = False,
    ) -> list[BoundedResult]:
        """``[call(fn, *item) for item in items]`` using every worker at once; results in order."""
        items = list(items)

        def one(item: Sequence[Any]) -> BoundedResult:
            return self.call(fn, *item, timeout=timeout, wall_timeout=wall_timeout, includes_start=includes_start)

        if self.size == 1 or len(items) <= 1:
            return [one(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.size, len(items))) as executor:
            return list(executor.map(one, items))

    def pids(self) -> list[int]:
        """Process ids of the idle workers (for monitoring and tests)."""
        slots = []
        while True:
            try:
                slots.append(self._slots.get_nowait())
            except queue.Empty:
                break
        found = [slot[0].pid for slot in slots if slot[0] is not None]
        for slot in slots:
            self._slots.put(slot)
        return found

    def close(self) -> None:
        """Stop the template and the idle workers (a busy worker ends when its caller is done)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            template, self._template = self._template, None
        idle = []
        while True:
            try:
                idle.append(self._slots.get_nowait())
            except queue.Empty:
                break
        for slot in idle:
            if slot[0] is not None:
                slot[0].kill()
                slot[0] = None
            self._slots.put(slot)  # a caller still waiting for a slot gets one, then a clear error
        if template is not None:
            template.stop()

    def __enter__(self) -> BoundedPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@atexit.register
def _close_live_pools() -> None:
    for pool in list(_LIVE_POOLS):
        try:
            pool.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown, nothing useful to report
            pass


def run_bounded(fn: Callable[..., Any], *args: Any, timeout: float, **kwargs: Any) -> BoundedResult:
    """One-off bounded call in a fresh worker (start-up not charged); prefer a long-lived pool."""
    with BoundedPool(1) as pool:
        return pool.call(fn, *args, timeout=timeout, **kwargs)
