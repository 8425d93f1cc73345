"""The test harness that runs *inside* the sandbox, next to the candidate program (stdlib only).

The candidate is hostile, so it never runs in a process that holds the hidden tests or writes
the verdicts. One sandbox job runs two processes:

- **H, the judge** (`main`). Its first act is to fork W; only then does it read its stdin, where
  the verifier put the tests and a per-run secret nonce (nothing secret is in the job's files).
  H is non-dumpable (W, same uid, cannot read its memory or fds through ``/proc``), runs the
  trusted test code, and writes one verdict line per test to fd 1, prefixed with the nonce. It
  never executes candidate code: W's replies are decoded with `marshal` and accepted only if
  built of plain builtin types (`check_plain`). H times each test with its own clock.
- **W, the candidate worker**, forked before H read anything secret: no copy of the tests, the
  nonce or the judge's state ever exists in its memory. W puts ``/dev/null`` on fd 0 (the tests),
  1 and 2, closes every fd but its socket to H, drops its capabilities, and only then loads the
  candidate (``solution.py``). For function tests W defines the candidate and serves calls: H's
  test code calls a *proxy*, the arguments go to W, the return value comes back as plain data,
  and H compares; so always-equal objects, patched builtins, a replaced ``check`` or a fake
  "passed" print never reach the judge, and ``sys.exit(0)``/``os._exit``/``execv`` only end W,
  which fails the test it was in. When W is lost (died, overran a test), H says where to go on
  and the verifier runs the rest in a fresh job: no job forks a worker after it read the tests.
  For stdin/stdout tests W is a runner: per case it forks a process that runs the program on
  the input H sends, and reports its output, exit status and time; the expected outputs never
  enter the sandbox (the verifier compares).

A test "unit" is an asserting statement of ``check`` (or one test string) with the setup
statements before it; a unit that passed without calling the candidate is ``void``: it earns nothing.
"""

from __future__ import annotations

import builtins
import marshal
import os
import signal
import sys
import time

__all__ = ["compare_output", "normalize_output", "check_plain", "to_plain", "run_function_tests", "main", "bytecode_tag",
           "PROGRAM_FILE"]  # fmt: skip

PROGRAM_FILE = "solution.py"
PROGRAM_CODE_FILE = "solution.bin"
_REPLY_LIMIT = 64 * 1024 * 1024
_PLAIN_TYPES = (int, float, complex, str, bytes, bool, type(None), list, tuple, dict, set, frozenset)
_EXIT_EXCEPTIONS = ("SystemExit", "KeyboardInterrupt", "GeneratorExit")


def normalize_output(text: str) -> list[str]:
    """Lines with trailing whitespace removed, trailing blank lines dropped (CRLF = LF)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _token_equal(got: str, want: str, tol: float) -> bool:
    if got == want:
        return True
    if len(got) > 64 or len(want) > 64:  # not a number anyone prints; keeps float() cheap
        return False
    try:
        a, b = float(got), float(want)
    except ValueError:
        return False
    if a != a or b != b:  # NaN never matches a number
        return False
    return abs(a - b) <= tol * max(1.0, abs(b))


def compare_output(got: str, want: str, float_tol: float | None = None) -> tuple[bool, str | None]:
    """Whole-output comparison: same number of lines, each equal up to trailing whitespace.

    With ``float_tol`` lines are compared token by token and numeric tokens may differ by
    ``float_tol`` (absolute below 1, relative above). Returns ``(passed, reason)``.
    """
    got_lines, want_lines = normalize_output(got), normalize_output(want)
    if len(got_lines) != len(want_lines):
        return False, f"expected {len(want_lines)} lines of output, got {len(got_lines)}"
    for number, (g, w) in enumerate(zip(got_lines, want_lines), 1):  # noqa: B905 (lengths checked)
        if g == w:
            continue
        if float_tol is not None:
            gt, wt = g.split(), w.split()
            if len(gt) == len(wt) and all(_token_equal(a, b, float_tol) for a, b in zip(gt, wt)):  # noqa: B905
                continue
        return False, f"line {number} differs: expected {w[:80]!r}, got {g[:80]!r}"
    return True, None


def to_plain(value: object, _depth: int = 0) -> object:
    """Convert a candidate's return value to builtin plain types (runs in the worker).

    Subclasses of builtins become their base type; numpy values become Python values. Anything
    else raises TypeError. The judge re-checks every type anyway (`check_plain`).
    """
    if _depth > 200:
        raise ValueError("return value nested more than 200 levels deep")
    kind = type(value)
    if kind in (int, float, complex, str, bytes, bool, type(None)):
        return value
    if kind in (list, tuple, set, frozenset):
        return kind(to_plain(v, _depth + 1) for v in value)
    if kind is dict:
        return {to_plain(k, _depth + 1): to_plain(v, _depth + 1) for k, v in value.items()}
    for base in (bool, int, float, complex, str, bytes):
        if isinstance(value, base):
            return base(value)
    for base in (list, tuple, set, frozenset, dict):
        if isinstance(value, base):
            return to_plain(base(value), _depth)
    if kind.__module__ == "numpy" and hasattr(value, "tolist"):
        return to_plain(value.tolist(), _depth)
    raise TypeError(f"the candidate returned a {kind.__qualname__}, which is not a plain value")


def check_plain(value: object) -> object:
    """Raise TypeError unless ``value`` is built only of plain builtin types (runs in the judge)."""
    stack, seen = [value], set()
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind not in _PLAIN_TYPES:
            raise TypeError(f"reply holds a {kind.__qualname__}")
        if kind in (list, tuple, set, frozenset, dict) and id(item) not in seen:
            seen.add(id(item))
            stack.extend(item.items() if kind is dict else item)
    return value


def bytecode_tag() -> str:
    """Interpreters with the same tag load each other's marshalled code (3.11.2 and 3.11.7 do)."""
    bootstrap = sys.modules.get("_frozen_importlib_external")
    magic = bootstrap.MAGIC_NUMBER.hex() if bootstrap is not None else str(sys.hexversion)
    return f"{sys.implementation.cache_tag}:{magic}"


def _send(sock, data: bytes) -> None:
    sock.sendall(len(data).to_bytes(4, "little") + data)


def _recv_exact(sock, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError("peer closed the channel")
        buf += chunk
    return bytes(buf)


def _recv(sock, limit: int = _REPLY_LIMIT) -> bytes:
    size = int.from_bytes(_recv_exact(sock, 4), "little")
    if size > limit:
        raise ValueError(f"message of {size} bytes exceeds the limit of {limit}")
    return _recv_exact(sock, size)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _libc():
    import ctypes

    return ctypes, ctypes.CDLL(None, use_errno=True)


def _make_undumpable() -> bool:
    """PR_SET_DUMPABLE 0: same-uid processes can no longer open /proc/<judge>/mem or fd/."""
    try:
        return _libc()[1].prctl(4, 0, 0, 0, 0) == 0
    except Exception:
        return False


def _drop_privileges() -> bool:
    """No new privileges and no capabilities left (so a root-in-userns job cannot ptrace the judge)."""
    try:
        ctypes, libc = _libc()
        libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
        with open("/proc/self/status", "rb") as f:  # (64 prctl calls cost 0.2 ms: skipped when moot)
            if not any(int(line.split()[1], 16) for line in f if line.startswith((b"CapEff:", b"CapPrm:", b"CapBnd:"))):
                return True
        for cap in range(64):  # PR_CAPBSET_DROP; fails quietly past the last cap or without CAP_SETPCAP
            libc.prctl(24, cap, 0, 0, 0)
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
        data = (ctypes.c_uint32 * 6)()
        return libc.capset(header, data) == 0
    except Exception:
        return False


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except BaseException:
        text = "<unprintable>"
    return f"{type(exc).__name__}: {text}"[:500] if text else type(exc).__name__


def _worker_prelude(keep: set[int], stdio: tuple[int, int, int]) -> None:
    """In a freshly forked process: own stdio (fd 0 first), no other fds, own process group, no privileges."""
    for target, fd in enumerate(stdio):
        os.dup2(fd, target)
    low = 3
    for fd in sorted(k for k in keep if k >= 3):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 65536)
    os.setpgid(0, 0)
    _drop_privileges()


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):  # the whole process group (daemons included), then the process
        try:
            kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _candidate_namespace(name: str) -> dict:
    return {"__name__": name, "__builtins__": builtins, "__file__": PROGRAM_FILE}


def _load_program() -> object:
    """The candidate's code: compiled by the verifier when this interpreter can load it, else here."""
    try:
        with open(PROGRAM_CODE_FILE, "rb") as f:
            tag, _, blob = f.read().partition(b"\n")
        if tag == bytecode_tag().encode():
            return marshal.loads(blob)
    except OSError:
        pass
    with open(PROGRAM_FILE, encoding="utf-8", errors="replace") as f:
        return compile(f.read(), PROGRAM_FILE, "exec")


def _function_worker(sock) -> None:
    """W for function tests: define the candidate at once, then answer calls."""
    namespace = _candidate_namespace("__candidate__")
    try:
        exec(_load_program(), namespace)
        reply: tuple = ("defined",)
    except BaseException as exc:  # the candidate's module failed: every test fails with this reason
        reply = ("def_error", _describe(exc))
    _send(sock, marshal.dumps(reply))
    if reply[0] != "defined":
        return
    while True:
        try:
            name, args, kwargs = marshal.loads(_recv(sock))
        except BaseException:
            return
        try:
            data = marshal.dumps(("ok", to_plain(namespace[name](*args, **kwargs))))
        except BaseException as exc:
            data = marshal.dumps(_error_reply(exc))
        _send(sock, data)


def _error_reply(exc: BaseException) -> tuple:
    """The nearest builtin exception class name (so tests that expect ValueError still work)."""
    base = "Exception"
    for klass in type(exc).__mro__:
        if getattr(builtins, klass.__name__, None) is klass:
            base = klass.__name__
            break
    return ("err", base, _describe(exc), isinstance(exc, Exception))


def _io_runner(sock) -> None:
    """W for stdin/stdout tests: compile the program once, run it in a fresh process per case."""
    try:
        program, load_error = _load_program(), ""
    except BaseException as exc:
        program, load_error = None, _describe(exc)
    while True:
        try:
            stdin, timeout, cap = marshal.loads(_recv(sock))
        except BaseException:
            return
        if program is None:
            result = (1, False, b"", load_error.encode(), False, 0.0)
        else:
            result = _run_io_case(program, stdin, timeout, cap)
        _send(sock, marshal.dumps(result))


def _run_main(program) -> None:
    """A case process: run the program as ``__main__`` and exit with its status."""
    import io
    import traceback

    def stream(fd: int, mode: str, **kw):
        raw = io.FileIO(fd, mode, closefd=False)
        buffered = io.BufferedReader(raw) if mode == "r" else io.BufferedWriter(raw)
        return io.TextIOWrapper(buffered, encoding="utf-8", errors="replace", **kw)

    sys.stdin = sys.__stdin__ = stream(0, "r")
    sys.stdout = sys.__stdout__ = stream(1, "w")
    sys.stderr = sys.__stderr__ = stream(2, "w", line_buffering=True)
    sys.argv = [PROGRAM_FILE]
    code = 0
    try:
        exec(program, _candidate_namespace("__main__"))
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = (exc.code or 0) & 0xFF
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    for out in (sys.stdout, sys.stderr):
        try:
            out.flush()
        except BaseException:
            pass
    os._exit(code)


def _run_io_case(program, stdin: bytes, timeout: float, cap: int) -> tuple:
    """Run the program once on ``stdin``: (exit status, timed out, stdout, stderr tail, truncated, s).

    Its stdin, stdout and stderr are memory files (bounded by the job's file-size and memory
    limits): the runner only waits for its exit, then reads at most ``cap + 1`` bytes of output.
    """
    import select

    files = [os.memfd_create(name) for name in ("stdin", "stdout", "stderr")]
    _write_all(files[0], stdin)
    os.lseek(files[0], 0, os.SEEK_SET)
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            _worker_prelude(set(), (files[0], files[1], files[2]))
            _run_main(program)
        finally:
            os._exit(1)
    pidfd = os.pidfd_open(pid)
    timed_out = not select.select([pidfd], [], [], timeout)[0]
    elapsed = time.perf_counter() - start
    _kill_group(pid)
    status = os.waitpid(pid, 0)[1]
    out = os.pread(files[1], cap + 1, 0)
    err = os.pread(files[2], 2000, max(0, os.fstat(files[2]).st_size - 2000))
    for fd in (*files, pidfd):
        os.close(fd)
    return (os.waitstatus_to_exitcode(status), timed_out, out, err, len(out) > cap, elapsed)


class _Abort(BaseException):
    """A harness-level failure inside a test (timeout, worker lost, bad reply): a BaseException,
    so a test's ``except Exception`` cannot swallow it and turn a hang into a pass."""


class CandidateError(Exception):
    """An exception the candidate raised whose class is not a builtin one."""


class _Judge:
    """H's side of the channel to W, and the verdict lines it writes (batched every 20 ms)."""

    def __init__(self, sock, worker_pid: int, nonce: str, deadline: float):
        self.sock = sock
        self.worker_pid = worker_pid
        self.state = "waiting"  # -> "ready" | "lost" | "broken" (the candidate did not load)
        self.nonce = nonce.encode()
        self.deadline = deadline
        self.unit_deadline = deadline
        self.abort_reason: str | None = None
        self.load_error: str | None = None
        self.calls = 0  # calls of the candidate the tests made (a unit that made none is void)
        self.pending: list[bytes] = []
        self.sent_at = time.perf_counter()

    def emit(self, record: dict) -> None:
        import json

        self.pending.append(self.nonce + b" " + json.dumps(record, separators=(",", ":")).encode() + b"\n")
        if time.perf_counter() - self.sent_at > 0.02:  # one write per line would wake the host for each
            self.flush()

    def flush(self) -> None:
        if self.pending:
            data, self.pending = b"".join(self.pending), []
            _write_all(1, data)
        self.sent_at = time.perf_counter()

    def _abort(self, reason: str) -> _Abort:
        if self.abort_reason is None:
            self.abort_reason = reason
        return _Abort(reason)

    def kill_worker(self, state: str = "lost") -> None:
        """SIGKILL W and its process group, and reap it."""
        if self.state in ("ready", "waiting"):
            _kill_group(self.worker_pid)
            try:
                os.waitpid(self.worker_pid, 0)
            except OSError:
                pass
            self.sock.close()
        if self.state != "broken":
            self.state = state

    def exchange(self, request: bytes | None, timeout: float) -> tuple:
        """Send one request to W (None: just wait) and return its checked reply; W dies on any failure."""
        try:
            self.sock.settimeout(max(timeout, 0.001))
            if request is not None:
                _send(self.sock, request)
            raw = _recv(self.sock)
        except TimeoutError:
            self.kill_worker()
            raise self._abort("time limit exceeded") from None
        except (EOFError, OSError, ValueError) as exc:
            self.kill_worker()
            raise self._abort(f"the candidate process ended ({_describe(exc)})") from None
        try:
            reply = check_plain(marshal.loads(raw))
            if type(reply) is not tuple or not reply:
                raise TypeError("not a tuple")
            return reply
        except Exception as exc:
            self.kill_worker()
            raise self._abort(f"the candidate sent a reply that is not plain data ({_describe(exc)})") from None

    def _ensure_ready(self) -> None:
        if self.state == "ready":
            return
        if self.state == "broken":
            raise self._abort(f"the candidate did not load: {self.load_error}")
        if self.state == "lost":
            raise self._abort("the candidate process was lost in an earlier test")
        try:
            reply = self.exchange(None, self.unit_deadline - time.perf_counter())  # W defines it when forked
        except _Abort:
            self.state, self.load_error = "broken", self.abort_reason
            raise
        if reply[0] == "defined":
            self.state = "ready"
            return
        self.load_error = reply[1] if len(reply) > 1 and type(reply[1]) is str else "malformed reply"
        self.kill_worker("broken")
        raise self._abort(f"the candidate did not load: {self.load_error}")

    def call(self, name: str, args: tuple, kwargs: dict) -> object:
        self.calls += 1
        self._ensure_ready()
        try:
            request = marshal.dumps((name, args, kwargs))
        except ValueError as exc:
            raise self._abort(f"the test passed an argument that cannot be sent to the candidate ({_describe(exc)})") from None
        reply = self.exchange(request, self.unit_deadline - time.perf_counter())
        if reply[0] == "ok" and len(reply) == 2:
            return reply[1]
        if reply[0] == "err" and len(reply) == 4 and type(reply[1]) is str and type(reply[2]) is str:
            base, text = reply[1], reply[2]
            if reply[3] is not True or base in _EXIT_EXCEPTIONS:
                raise self._abort(f"the candidate tried to exit ({text})")
            klass = getattr(builtins, base, None)
            if isinstance(klass, type) and issubclass(klass, Exception) and not issubclass(klass, (StopIteration, StopAsyncIteration)):
                raise klass(text)
            raise CandidateError(text)
        self.kill_worker()
        raise self._abort("the candidate sent a malformed reply")

    def proxy(self, name: str):
        def candidate(*args, **kwargs):
            return self.call(name, args, kwargs)

        candidate.__name__ = candidate.__qualname__ = name
        return candidate


def _unit_codes(payload: dict) -> list:
    """The compiled setup and steps (marshalled by the verifier when this interpreter can load them)."""
    steps = payload["steps"]
    if payload.get("codes_tag") == bytecode_tag():
        try:
            codes = marshal.loads(payload["codes"])
            if len(codes) == len(steps) + 1:
                return codes
        except Exception:
            pass
    return [compile(payload["setup"], "<test setup>", "exec")] + [compile(step[1], f"<test {i}>", "exec") for i, step in enumerate(steps)]


def _run_step(judge: _Judge, code, namespace: dict) -> str | None:
    """Run one test statement: None when it passed, else why it failed (even if the test swallowed it)."""
    judge.abort_reason = None
    try:
        exec(code, namespace)
        why = None
    except AssertionError as exc:
        why = "assertion failed" + (f": {exc}"[:300] if str(exc) else "")
    except BaseException as exc:
        why = _describe(exc)
    return judge.abort_reason or why


def run_function_tests(judge: _Judge, payload: dict) -> None:
    """Run the test steps against the candidate behind ``judge``, emitting one verdict per unit.

    A unit is the setup steps since the previous unit plus its asserting step: it fails when any
    of them failed, and is ``void`` when it passed without calling the candidate (a unit that
    failed counts even then: its failure may come from what an earlier call left behind). Setup
    steps before ``first`` run again; units before it were judged by an earlier job.
    """
    steps = payload["steps"]  # [(kind "unit"/"setup", source, label)]
    first = int(payload.get("first", 0))
    test_timeout = float(payload["test_timeout"])
    namespace = {"__name__": "__test__", "__builtins__": builtins}
    try:
        codes = _unit_codes(payload)
        exec(codes[0], namespace)
    except BaseException as exc:
        total = sum(step[0] == "unit" for step in steps)
        for number in range(first, total):
            judge.emit({"t": number, "ok": False, "why": f"test setup failed: {_describe(exc)}", "s": 0.0})
        return
    for alias, target in payload["proxies"]:  # e.g. ("candidate", "has_close_elements")
        namespace[alias] = judge.proxy(target)
    number, calls, error, started = 0, judge.calls, None, None
    for index, (kind, _source, _label) in enumerate(steps):
        now = time.perf_counter()
        if started is None:  # the first step of a unit
            if judge.state == "lost" and number >= first:
                judge.emit({"ev": "lost", "next": number})
                return
            started, calls, error = now, judge.calls, None
        if now >= judge.deadline:
            error = error or "time budget for the problem exhausted"
        elif kind == "setup" or number >= first:
            judge.unit_deadline = min(now + test_timeout, judge.deadline)
            error = error or _run_step(judge, codes[index + 1], namespace)
        if kind != "unit":
            continue
        if number >= first and judge.calls == calls and error is None:  # ran, passed, never asked W
            judge.emit({"t": number, "void": True})
        elif number >= first:
            judge.emit({"t": number, "ok": error is None, "why": error, "s": round(time.perf_counter() - started, 6)})
        number, started = number + 1, None


def _run_io_tests(judge: _Judge, payload: dict) -> None:
    """Run each case through the runner and report its output; the verifier compares."""
    import base64

    test_timeout = float(payload["test_timeout"])
    cap = int(payload["max_output"])
    inputs = payload["inputs"]
    for number in range(int(payload.get("first", 0)), len(inputs)):
        timeout = min(test_timeout, judge.deadline - time.perf_counter())
        if timeout <= 0:
            judge.emit({"t": number, "skip": "time budget for the problem exhausted"})
            continue
        if judge.state == "lost":
            judge.emit({"ev": "lost", "next": number})
            return
        try:  # the runner enforces ``timeout`` itself; this margin covers its fork and reply
            reply = judge.exchange(marshal.dumps((inputs[number].encode(), timeout, cap)), timeout + 2.0)
            rc, timed_out, out, err, truncated, elapsed = reply
        except (_Abort, ValueError, TypeError) as exc:
            judge.emit({"t": number, "skip": judge.abort_reason or _describe(exc)})
            judge.kill_worker()
            continue
        judge.emit({"t": number, "rc": rc, "tle": timed_out, "trunc": truncated, "out": base64.b64encode(out[:cap]).decode(),
                    "err": err.decode("utf-8", "replace")[-500:], "s": round(elapsed, 6)})  # fmt: skip


def _fork_worker(mode: str) -> tuple:
    """Fork W (before stdin is read): (socket to it, its pid)."""
    import _socket
    import gc

    gc.freeze()  # the objects W inherits stay out of its collections: fewer copy-on-write faults
    devnull = os.open(os.devnull, os.O_RDWR)
    sock, theirs = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        try:
            sock.close()  # (then fd 0 goes first, before any of the candidate's code exists here)
            _worker_prelude({theirs.fileno()}, (devnull, devnull, devnull))
            (_function_worker if mode == "function" else _io_runner)(theirs)
        finally:
            os._exit(0)
    theirs.close()
    os.close(devnull)
    return sock, pid


def main(mode: str) -> None:
    """Entry point of the sandbox job (called by the bootstrap ``main.py``): ``function`` or ``io``."""
    start = time.perf_counter()
    workdir = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", ".") and os.path.abspath(p) != workdir]
    if not _make_undumpable():  # W, same uid, could read the tests from /proc/<H>/mem: no verdicts then
        _write_all(2, b"harness: the judge cannot make itself non-dumpable (prctl)\n")
        os._exit(3)
    sys.stdout.flush()
    sys.stderr.flush()
    sock, worker_pid = _fork_worker(mode)
    hardening = ["nondumpable", "worker-forked-before-tests"]
    try:
        chunks = []
        while chunk := os.read(0, 1 << 16):
            chunks.append(chunk)
        payload = marshal.loads(b"".join(chunks))  # written by the verifier: the tests, the nonce
        if not isinstance(payload, dict) or "nonce" not in payload:
            raise ValueError("malformed test payload")
    except BaseException as exc:
        os.kill(worker_pid, signal.SIGKILL)
        _write_all(2, f"harness: cannot read the tests: {_describe(exc)}\n".encode())
        os._exit(3)
    judge = _Judge(sock, worker_pid, str(payload["nonce"]), start + float(payload["budget"]))
    judge.emit({"ev": "hello", "hardening": hardening})
    try:
        if mode == "function":
            run_function_tests(judge, payload)
        else:
            _run_io_tests(judge, payload)
        judge.emit({"ev": "end"})
    finally:
        judge.flush()
        if os.getpid() != 1:  # as pid 1 of its pid namespace, H's exit ends W
            judge.kill_worker()
