"""The test harness that runs *inside* the sandbox, next to the candidate program (stdlib only).

Why two processes: the candidate is hostile, so it must never run in the process that holds the
hidden tests or writes the verdicts. One sandbox job runs

- **H, the judge** (this file's `main`): runs the trusted test code and writes one verdict line
  per test to fd 1, each prefixed with a per-run secret nonce. It never executes candidate code;
  what the candidate sends back is decoded with `marshal` and accepted only if every object in it
  is of a builtin plain type (`check_plain`).
- **W, the candidate worker**, forked *before* H reads the tests, so its memory never held them:
  on the local backend by `prepare_job`, before the job exists; elsewhere by H, before it reads
  the key. For function tests (HumanEval / MBPP style) W defines the candidate and serves calls: H's
  test code calls a *proxy*, the arguments go to W, the return value comes back as plain data, and
  H compares. So an object whose ``__eq__`` always returns True, a patched builtin, a replaced
  ``check`` or a fake "passed" print cannot reach the judge; ``sys.exit(0)``, ``quit()``,
  ``os._exit(0)`` or ``os.execv`` only end W, which fails the test it was in. When W is lost (it
  died or overran a test) H reports where to go on and the verifier runs the remaining tests in a
  fresh job: a job never forks a new worker after the tests entered its memory.
- **Calls jobs** (mode ``calls``): where the verifier can predict every call the tests make and
  may evaluate the tests itself, the job holds no test at all. It defines the candidate, makes
  the predicted calls (each test step under its own SIGALRM deadline) and writes each value as
  tagged JSON (`encode_plain`); the trainer decodes them without executing anything
  (`decode_reply_line`) and replays them to the same test steps (`RecordedJudge`).
- For stdin/stdout problems there is nothing secret in the job at all: H forks one W per case,
  feeds it the input, and reports the output (capped), exit status and time; the expected outputs
  stay with the verifier, which compares outside the sandbox.

The hidden tests arrive in ``_secret.bin``, encrypted with a one-time key that comes through stdin
(a fork-server backend may leave the job's files in memory the worker inherits; stdin is read only
after the fork). H reads and unlinks the ciphertext before forking, so W cannot swap the file; W
starts on the candidate at once (the ciphertext is useless to it without the key); H makes itself
non-dumpable (no same-uid process can read its memory or fds through ``/proc``), zeroes the key in
objects it inherited before forking, and W drops every capability and has only ``/dev/null`` (or
pipes to H) as stdin/stdout/stderr.
"""

from __future__ import annotations

import builtins
import marshal
import os
import signal
import sys
import time

__all__ = [
    "compare_output",
    "normalize_output",
    "check_plain",
    "to_plain",
    "encode_plain",
    "decode_reply_line",
    "RecordedJudge",
    "run_function_tests",
    "pending_calls",
    "calls_request_head",
    "calls_request_rest",
    "main",
    "prepare_job",
    "discard_job",
    "SECRET_FILE",
    "PROGRAM_FILE",
]

SECRET_FILE = "_secret.bin"
PROGRAM_FILE = "solution.py"
_REPLY_LIMIT = 64 * 1024 * 1024
_PLAIN_TYPES = (int, float, complex, str, bytes, bool, type(None), list, tuple, dict, set, frozenset)
_EXIT_EXCEPTIONS = ("SystemExit", "KeyboardInterrupt", "GeneratorExit")


# ---------------------------------------------------------------------------------------------
# Pure helpers (also imported by the verifier in the trainer process)
# ---------------------------------------------------------------------------------------------


def normalize_output(text: str) -> list[str]:
    """Lines with trailing whitespace removed, trailing blank lines dropped (CRLF = LF)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _token_equal(got: str, want: str, tol: float) -> bool:
    if got == want:
        return True
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
    if kind in (list, tuple):
        return kind(to_plain(v, _depth + 1) for v in value)
    if kind is dict:
        return {to_plain(k, _depth + 1): to_plain(v, _depth + 1) for k, v in value.items()}
    if kind in (set, frozenset):
        return kind(to_plain(v, _depth + 1) for v in value)
    for base in (bool, int, float, complex, str, bytes):
        if isinstance(value, base):
            return base(value)
    for base in (list, tuple, set, frozenset):
        if isinstance(value, base):
            return to_plain(base(value), _depth)
    if isinstance(value, dict):
        return to_plain(dict(value), _depth)
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
        if kind in (list, tuple, set, frozenset):
            if id(item) in seen:
                continue
            seen.add(id(item))
            stack.extend(item)
        elif kind is dict:
            if id(item) in seen:
                continue
            seen.add(id(item))
            stack.extend(item.keys())
            stack.extend(item.values())
    return value


# ---------------------------------------------------------------------------------------------
# Plain values as JSON: the candidate's replies when they are judged outside the sandbox
# ---------------------------------------------------------------------------------------------

#: Ints longer than this many bits travel as hex (Python refuses to parse decimal strings past
#: 4300 digits, and hex has no such limit).
_HEX_INT_BITS = 12_000


def encode_plain(value: object) -> object:
    """A plain value (from `to_plain`) as JSON-ready data that keeps every plain type apart.

    JSON has lists, strings, floats, ints, bools and null; every other plain type becomes an object
    with one tag key: ``t`` tuple, ``s`` set, ``f`` frozenset, ``d`` dict (a list of pairs, so keys
    of any plain type survive), ``b`` bytes (latin-1 text), ``c`` complex, ``i`` a long int in hex.
    """
    kind = type(value)
    if kind is int:
        return value if value.bit_length() <= _HEX_INT_BITS else {"i": hex(value)}
    if kind in (str, float, bool) or value is None:
        return value
    if kind is list:
        return [encode_plain(v) for v in value]
    if kind is tuple:
        return {"t": [encode_plain(v) for v in value]}
    if kind is dict:
        return {"d": [[encode_plain(k), encode_plain(v)] for k, v in value.items()]}
    if kind in (set, frozenset):
        return {"s" if kind is set else "f": [encode_plain(v) for v in value]}
    if kind is bytes:
        return {"b": value.decode("latin-1")}
    if kind is complex:
        return {"c": [value.real, value.imag]}
    raise TypeError(f"not a plain value: {kind.__qualname__}")


def _plain_object(obj: dict) -> object:
    """`json.loads` object hook: one tagged object back to its plain value (ValueError otherwise)."""
    if len(obj) != 1:
        raise ValueError("a plain value object has exactly one tag")
    ((tag, data),) = obj.items()
    if tag == "t" and type(data) is list:
        return tuple(data)
    if tag in ("s", "f") and type(data) is list:
        return set(data) if tag == "s" else frozenset(data)
    if tag == "d" and type(data) is list and all(type(p) is list and len(p) == 2 for p in data):
        return {k: v for k, v in data}
    if tag == "b" and type(data) is str:
        return data.encode("latin-1")
    if tag == "c" and type(data) is list and len(data) == 2 and all(type(x) in (int, float) for x in data):
        return complex(data[0], data[1])
    if tag == "i" and type(data) is str:
        return int(data, 16)
    raise ValueError(f"unknown plain value object {tag!r}")


_DECODER: list = []  # one json decoder with the strict object hook, made on first use
_REPLY_SHAPES = {"defined": (), "end": (), "timeout": (), "def_error": (str,), "ok": (object, float),
                 "err": (str, str, bool, float)}  # fmt: skip


def decode_reply_line(line: str) -> list | None:
    """One reply line of a calls job, ``[seq, kind, ...]``, or None when it is not one.

    Runs in the trainer on bytes the candidate may have forged: `json` with a strict object hook
    builds nothing but plain builtin values, and any other shape is refused.
    """
    if not _DECODER:
        import json

        _DECODER.append(json.JSONDecoder(object_hook=_plain_object))
    try:
        item = _DECODER[0].decode(line)
    except (ValueError, TypeError, RecursionError, MemoryError, OverflowError):
        return None
    if type(item) is not list or len(item) < 2 or type(item[0]) is not int or type(item[1]) is not str:
        return None
    kind, rest = item[1], item[2:]
    shape = _REPLY_SHAPES.get(kind)
    if shape is None or len(rest) != len(shape):
        return None
    for value, want in zip(rest, shape):  # noqa: B905 (lengths checked)
        if want is float and type(value) is int:
            continue
        if want is not object and type(value) is not want:
            return None
    if kind == "ok":
        try:
            check_plain(rest[0])
        except TypeError:
            return None
    return item


# ---------------------------------------------------------------------------------------------
# Framing over sockets / pipes
# ---------------------------------------------------------------------------------------------


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


def _read_all(fd: int = 0) -> bytes:
    """Everything left on ``fd`` (stdin by default), up to its end."""
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


class _Lines:
    """Lines for one fd, written together every 20 ms and on `flush` (``each``: one by one).

    One write per line would wake the sandbox's host for each. Holding them is safe: the writer
    enforces its time limits itself and gets control back before the job's wall-clock limit.
    """

    def __init__(self, fd: int, each: bool = False):
        self.fd, self.each = fd, each
        self.pending: list[bytes] = []
        self.sent_at = time.perf_counter()

    def add(self, line: bytes) -> None:
        self.pending.append(line)
        if self.each or time.perf_counter() - self.sent_at > 0.02:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            data, self.pending = b"".join(self.pending), []
            _write_all(self.fd, data)
        self.sent_at = time.perf_counter()


# ---------------------------------------------------------------------------------------------
# Hardening
# ---------------------------------------------------------------------------------------------


_LIBC: list = []


def _libc():
    if not _LIBC:
        import ctypes

        _LIBC.append((ctypes, ctypes.CDLL(None, use_errno=True)))
    return _LIBC[0]


def _make_undumpable() -> bool:
    """PR_SET_DUMPABLE 0: same-uid processes can no longer open /proc/<judge>/mem or fd/."""
    try:
        _ctypes, libc = _libc()
        return libc.prctl(4, 0, 0, 0, 0) == 0
    except Exception:
        return False


def _effective_caps() -> int | None:
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"CapEff:"):
                    return int(line.split()[1], 16)
    except OSError:
        return None
    return None


def _drop_privileges() -> bool:
    """No new privileges and no capabilities left (so a root-in-userns job cannot ptrace the judge)."""
    try:
        ctypes, libc = _libc()
        libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
        caps = _effective_caps()
        if caps == 0:
            return True
        for cap in range(64):  # PR_CAPBSET_DROP; fails quietly past the last cap or without CAP_SETPCAP
            libc.prctl(24, cap, 0, 0, 0)
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
        data = (ctypes.c_uint32 * 6)()
        return libc.capset(header, data) == 0
    except Exception:
        return False


def _scrub_job_stdin() -> bool:
    """Zero the job's stdin (the key to the tests) in objects this process inherited.

    A fork-server backend runs this script in the process that received the job, so the job's
    data may still be referenced from outer frames; the workers forked below would inherit it.
    Only live ``dict`` objects with a ``stdin`` entry on the frames above are touched.
    """
    if sys.implementation.name != "cpython":
        return False
    try:
        import ctypes
    except ImportError:
        return False
    offset = sys.getsizeof(b"") - 1  # start of a bytes object's data in CPython
    scrubbed = False
    frame = sys._getframe(1)
    while frame is not None:
        for value in list(frame.f_locals.values()):
            if type(value) is dict and type(value.get("stdin")) is bytes and value["stdin"]:
                data = value["stdin"]
                ctypes.memset(id(data) + offset, 0, len(data))
                scrubbed = True
        frame = frame.f_back
    return scrubbed


def _close_fds_except(keep: set[int]) -> None:
    low = 3
    for fd in sorted(k for k in keep if k >= 3):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 65536)


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except BaseException:
        text = "<unprintable>"
    return f"{type(exc).__name__}: {text}"[:500] if text else type(exc).__name__


# ---------------------------------------------------------------------------------------------
# W: the candidate worker
# ---------------------------------------------------------------------------------------------


def _worker_prelude(keep: set[int], stdio: tuple[int, int, int], drop: bool = True) -> None:
    """In a freshly forked worker: own stdio, no other fds of H, own process group, and (``drop``)
    no privileges. A worker forked ahead of the job drops them later, through the sandbox's
    ``lock_down``, when it knows the job's limits."""
    for target, fd in enumerate(stdio):
        os.dup2(fd, target)
    _close_fds_except(keep)
    os.setpgid(0, 0)
    if drop:
        _drop_privileges()


def _candidate_namespace(name: str) -> dict:
    return {"__name__": name, "__builtins__": builtins, "__file__": PROGRAM_FILE}


def _function_worker(sock, marks: tuple = ()) -> None:
    """W for function tests: define the candidate at once, then answer calls.

    ``marks`` (when it was forked, when its prelude ended) ride on the "defined" reply for perf work.
    """
    namespace = _candidate_namespace("__candidate__")
    try:
        with open(PROGRAM_FILE, encoding="utf-8", errors="replace") as f:
            source = f.read()
        exec(compile(source, PROGRAM_FILE, "exec"), namespace)
        reply = ("defined", *marks, time.perf_counter())
    except BaseException as exc:  # the candidate's module failed: every test fails with this reason
        reply = ("def_error", _describe(exc))
    _send(sock, marshal.dumps(reply))
    if reply[0] != "defined":
        return
    while True:
        try:
            raw = _recv(sock)
        except (EOFError, OSError):
            return
        try:
            request = marshal.loads(raw)
            calls = request[1] if request[0] == "batch" else [request[1:]]
        except BaseException:
            return
        for name, args, kwargs in calls:  # a batch: the calls the tests will make, in order
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


def _run_main(program) -> None:
    """W for stdin/stdout tests: run the program as ``__main__`` and exit with its status."""
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
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code & 0xFF
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


def _stdin_file(data: bytes) -> int:
    try:
        fd = os.memfd_create("stdin")
    except (AttributeError, OSError):
        path = f".stdin-{os.getpid()}"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.unlink(path)
    _write_all(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _run_io_case(program, stdin: bytes, timeout: float, cap: int) -> tuple:
    """Run the program once on ``stdin``: (exit status, timed out, stdout, stderr tail, truncated, s)."""
    stdin_fd = _stdin_file(stdin)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            _worker_prelude(set(), (stdin_fd, out_w, err_w))
            _run_main(program)
        finally:
            os._exit(1)
    for fd in (stdin_fd, out_w, err_w):
        os.close(fd)
    return _supervise(pid, out_r, err_r, start, timeout, cap)


def _supervise(pid: int, out_r: int, err_r: int, start: float, timeout: float, cap: int) -> tuple:
    import select

    out, err = bytearray(), bytearray()
    open_fds = {out_r: out, err_r: err}
    poller = select.poll()
    for fd in open_fds:
        poller.register(fd, select.POLLIN)
    try:
        pidfd = os.pidfd_open(pid)
        poller.register(pidfd, select.POLLIN)
    except (AttributeError, OSError):
        pidfd = None
    deadline = start + timeout
    timed_out = truncated = False
    status = None
    while status is None or open_fds:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            timed_out = True
            break
        if pidfd is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
            remaining = min(remaining, 0.002)
        for fd, _event in poller.poll(remaining * 1000.0):
            if fd == pidfd:
                status = os.waitpid(pid, 0)[1]
                poller.unregister(pidfd)
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                poller.unregister(fd)
                del open_fds[fd]
                continue
            buf = open_fds[fd]
            buf += chunk
            if fd == err_r:
                del buf[:-4000]
            elif len(buf) > cap:
                truncated = True
        if truncated:
            break
        if status is not None and open_fds:
            # Exited, but a descendant may hold the pipes open: take what is there now.
            for fd, buf in open_fds.items():
                while select.select([fd], [], [], 0)[0]:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        break
                    buf += chunk
                    if fd == out_r and len(buf) > cap:
                        truncated = True
                        break
            break
    elapsed = time.perf_counter() - start
    for kill in (os.killpg, os.kill):  # the whole process group, daemons included
        try:
            kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if status is None:
        try:
            status = os.waitpid(pid, 0)[1]
        except ChildProcessError:
            status = 0
    for fd in (out_r, err_r) + ((pidfd,) if pidfd is not None else ()):
        os.close(fd)
    return (os.waitstatus_to_exitcode(status), timed_out, bytes(out[: cap + 1]), bytes(err[-2000:]), truncated, elapsed)


# ---------------------------------------------------------------------------------------------
# H: the judge
# ---------------------------------------------------------------------------------------------


class _Abort(BaseException):
    """A harness-level failure inside a test (timeout, worker lost, bad reply).

    A BaseException, so a test's ``except Exception`` cannot swallow it and turn a hang into a pass.
    """


class CandidateError(Exception):
    """An exception the candidate raised whose class is not a builtin one."""


class _Judge:
    def __init__(self, sock, worker_pid: int, nonce: str, deadline: float):
        self.sock = sock
        self.worker_pid = worker_pid
        self.state = "waiting"  # -> "ready" | "lost" | "broken" (the candidate did not load)
        self.nonce = nonce.encode()
        self.deadline = deadline
        self.unit_deadline = deadline
        self.abort_reason: str | None = None
        self.load_error: str | None = None
        self.ready_at = 0.0
        self.worker_marks: tuple = ()
        self.expected: list[bytes] = []  # calls W was asked to compute ahead, oldest first
        self.out = _Lines(1)

    def emit(self, record: dict) -> None:
        """Queue one verdict line; they go out together every 20 ms and at the end (`flush`)."""
        import json

        self.out.add(self.nonce + b" " + json.dumps(record, separators=(",", ":")).encode() + b"\n")

    def flush(self) -> None:
        self.out.flush()

    def elapsed_since(self, start: float) -> float:
        """Time a test took (a judge that replays recorded replies adds the candidate's own time)."""
        return time.perf_counter() - start

    def _abort(self, reason: str) -> _Abort:
        if self.abort_reason is None:
            self.abort_reason = reason
        return _Abort(reason)

    def kill_worker(self, state: str = "lost", wait: bool = True) -> None:
        """SIGKILL W (and its process group), and reap it unless ``wait`` is False.

        Not waiting is only for the very end of a job whose H is pid 1 of its pid namespace: H
        exits next, and the kernel reaps H only after every other process of the namespace is
        gone, so W's exit overlaps H's instead of adding to it.
        """
        if self.state in ("ready", "waiting"):
            for kill in (os.killpg, os.kill):
                try:
                    kill(self.worker_pid, signal.SIGKILL)
                except OSError:
                    pass
            if wait:
                try:
                    os.waitpid(self.worker_pid, 0)
                except OSError:
                    pass
            self.sock.close()
        if self.state != "broken":
            self.state = state

    def _exchange(self, request: bytes | None) -> object:
        """Send one request to W (None: just wait) and return its checked reply; W dies on any failure."""
        try:
            self.sock.settimeout(max(self.unit_deadline - time.perf_counter(), 0.001))
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
            reply = self._exchange(None)  # W defines the candidate as soon as it is forked
        except _Abort:
            self.state, self.load_error = "broken", self.abort_reason
            raise
        if reply[0] == "defined":
            self.state = "ready"
            self.ready_at = time.perf_counter()
            self.worker_marks = reply[1:4]
            return
        self.load_error = reply[1] if len(reply) > 1 and type(reply[1]) is str else "malformed reply"
        self.kill_worker("broken")
        raise self._abort(f"the candidate did not load: {self.load_error}")

    def prefetch(self, calls: list) -> None:
        """Ask W to compute the calls the tests are predicted to make, before they make them."""
        if not calls or self.state not in ("waiting", "ready"):
            return
        self.unit_deadline = self.deadline
        try:
            self.sock.settimeout(max(self.deadline - time.perf_counter(), 0.001))
            _send(self.sock, marshal.dumps(("batch", [tuple(c) for c in calls])))
        except (OSError, ValueError):
            return  # W already ended (e.g. the candidate did not load): its reply says why
        self.expected = [marshal.dumps(tuple(c), 0) for c in calls]
        self.expected.reverse()

    def _predicted_reply(self, key: bytes):
        """The reply to this call if W computed it ahead; replies to skipped predictions are dropped."""
        if key not in self.expected:
            while self.expected:  # the tests went another way: drain, then call live
                self.expected.pop()
                self._exchange(None)
            return None
        while self.expected[-1] != key:
            self.expected.pop()
            self._exchange(None)
        self.expected.pop()
        return self._exchange(None)

    def call(self, name: str, args: tuple, kwargs: dict) -> object:
        self._ensure_ready()
        try:
            request = marshal.dumps(("call", name, args, kwargs))
            key = marshal.dumps((name, args, kwargs), 0)
        except ValueError as exc:
            raise self._abort(f"the test passed an argument that cannot be sent to the candidate ({_describe(exc)})") from None
        reply = self._predicted_reply(key) if self.expected else None
        if reply is None:
            reply = self._exchange(request)
        if reply[0] == "ok" and len(reply) == 2:
            return reply[1]
        if reply[0] == "err" and len(reply) == 4 and type(reply[1]) is str and type(reply[2]) is str:
            base, text = reply[1], reply[2]
            if reply[3] is not True or base in _EXIT_EXCEPTIONS:
                raise self._abort(f"the candidate tried to exit ({text})")
            klass = getattr(builtins, base, None)
            if (
                isinstance(klass, type)
                and issubclass(klass, Exception)
                and not issubclass(klass, (StopIteration, StopAsyncIteration))
            ):
                raise klass(text)
            raise CandidateError(text)
        self.kill_worker()
        raise self._abort("the candidate sent a malformed reply")

    def proxy(self, name: str):
        judge = self

        def candidate(*args, **kwargs):
            return judge.call(name, args, kwargs)

        candidate.__name__ = candidate.__qualname__ = name
        return candidate


def _read_key() -> bytes:
    return bytes.fromhex(_read_all().decode("ascii").strip())


def decrypt(blob: bytes, key: bytes) -> bytes:
    """XOR with a SHAKE-256 key stream (one fresh key per job); the same call encrypts."""
    import hashlib

    stream = hashlib.shake_256(key).digest(len(blob))
    return (int.from_bytes(blob, "little") ^ int.from_bytes(stream, "little")).to_bytes(len(blob), "little")


def _read_ciphertext() -> bytes:
    """The encrypted tests, read (and unlinked) before the worker exists: it cannot swap the file."""
    with open(SECRET_FILE, "rb") as f:
        blob = f.read()
    os.unlink(SECRET_FILE)
    return blob


def _load_secret(blob: bytes) -> dict:
    """Decrypt the tests with the key from stdin (read only now, after the fork)."""
    payload = marshal.loads(decrypt(blob, _read_key()))
    if not isinstance(payload, dict) or "nonce" not in payload:
        raise ValueError("malformed test payload")
    return payload


def bytecode_tag() -> str:
    """Interpreters with the same tag load each other's marshalled code (3.11.2 and 3.11.7 do)."""
    bootstrap = sys.modules.get("_frozen_importlib_external")
    magic = bootstrap.MAGIC_NUMBER.hex() if bootstrap is not None else str(sys.hexversion)
    return f"{sys.implementation.cache_tag}:{magic}"


def _unit_codes(payload: dict) -> list:
    steps = payload["steps"]
    codes = None
    if payload.get("codes_tag") == bytecode_tag():
        try:
            codes = marshal.loads(payload["codes"])
        except Exception:
            codes = None
    if codes is None or len(codes) != len(steps) + 1:
        codes = [compile(payload["setup"], "<test setup>", "exec")]
        codes += [compile(step[1], f"<test {i}>", "exec") for i, step in enumerate(steps)]
    return codes


def pending_calls(steps: list, prefetch, first: int) -> list:
    """The predicted calls ``(step, name, args, kwargs)`` still to make when judging resumes at
    unit ``first``: those of later units, and those of every setup step (setup steps all run again)."""
    unit_number, count = {}, 0
    for index, step in enumerate(steps):
        unit_number[index] = count if step[0] == "unit" else None
        count += step[0] == "unit"
    return [tuple(call) for call in prefetch if unit_number.get(call[0]) is None or unit_number[call[0]] >= first]


def run_function_tests(judge: _Judge, payload: dict, codes: list | None = None) -> None:
    """Run the test steps against the candidate behind ``judge``, emitting one verdict per unit.

    The same code judges inside the sandbox (`_Judge`, talking to W) and in the trainer
    (`RecordedJudge`, replaying a calls job's replies); ``codes`` are the compiled setup and steps
    when the caller has them (else they come from the payload).
    """
    steps = payload["steps"]  # [(kind "unit"/"setup", source, label)]
    first = int(payload.get("first", 0))  # units before this one were judged by an earlier job
    test_timeout = float(payload["test_timeout"])
    total = sum(1 for step in steps if step[0] == "unit")
    namespace = {"__name__": "__test__", "__builtins__": builtins}
    try:
        codes = codes if codes is not None else _unit_codes(payload)
        exec(codes[0], namespace)
    except BaseException as exc:
        for number in range(first, total):
            judge.emit({"t": number, "ok": False, "why": f"test setup failed: {_describe(exc)}", "s": 0.0})
        return
    for alias, target in payload["proxies"]:  # e.g. ("candidate", "has_close_elements")
        namespace[alias] = judge.proxy(target)
    judge.prefetch([call[1:] for call in pending_calls(steps, payload.get("prefetch", ()), first)])
    number = 0
    for index, (kind, _source, _label) in enumerate(steps):
        if kind == "unit" and number < first:
            number += 1
            continue
        if judge.state == "lost" and number < total:
            judge.emit({"ev": "lost", "next": number})
            return
        now = time.perf_counter()
        if now >= judge.deadline:
            if kind == "unit":
                judge.emit({"t": number, "ok": False, "why": "time budget for the problem exhausted", "s": 0.0})
                number += 1
            continue
        judge.unit_deadline = min(now + test_timeout, judge.deadline)
        judge.abort_reason = None
        try:
            exec(codes[index + 1], namespace)
            ok, why = True, None
        except AssertionError as exc:
            ok, why = False, "assertion failed" + (f": {exc}"[:300] if str(exc) else "")
        except BaseException as exc:
            ok, why = False, _describe(exc)
        if judge.state == "retry":  # no verdict: this unit is judged again, another way
            judge.emit({"ev": "retry", "next": number})
            return
        if judge.abort_reason is not None:  # even if the test code swallowed the exception
            ok, why = False, judge.abort_reason
        if kind == "unit":
            judge.emit({"t": number, "ok": ok, "why": why, "s": round(judge.elapsed_since(now), 6)})
            number += 1


def _run_io_tests(judge: _Judge, payload: dict) -> None:
    """Run each case in a fresh worker and report its output; the verifier compares."""
    import base64

    test_timeout = float(payload["test_timeout"])
    cap = int(payload["max_output"])
    try:
        with open(PROGRAM_FILE, encoding="utf-8", errors="replace") as f:
            program = compile(f.read(), PROGRAM_FILE, "exec")  # parse only; runs in the workers
    except BaseException as exc:
        for number in range(len(payload["inputs"])):
            judge.emit({"t": number, "rc": 1, "err": _describe(exc), "out": "", "s": 0.0})
        return
    for number, stdin in enumerate(payload["inputs"]):
        timeout = min(test_timeout, judge.deadline - time.perf_counter())
        if timeout <= 0:
            judge.emit({"t": number, "skip": "time budget for the problem exhausted"})
            continue
        rc, timed_out, out, err, truncated, elapsed = _run_io_case(program, stdin.encode(), timeout, cap)
        judge.emit(
            {
                "t": number,
                "rc": rc,
                "tle": timed_out,
                "trunc": truncated,
                "out": base64.b64encode(out[:cap]).decode(),
                "err": err.decode("utf-8", "replace")[-500:],
                "s": round(elapsed, 6),
            }
        )


# ---------------------------------------------------------------------------------------------
# Judged outside the sandbox: a calls job and the judge that replays its replies
# ---------------------------------------------------------------------------------------------


class _Replies(_Lines):
    """The calls job's reply lines, ``[seq, kind, ...]`` JSON.

    ``careful``: each reply is written before the next call starts, so when the process dies the
    host knows which call killed it (the first run of a problem batches, for one write per job).
    """

    def __init__(self, fd: int, careful: bool):
        super().__init__(fd, each=careful)
        self.seq = 0

    def reply(self, *item: object) -> None:
        import json

        self.add(json.dumps([self.seq, *item], separators=(",", ":")).encode() + b"\n")
        self.seq += 1


def calls_request_head(test_timeout: float, careful: bool, source: bytes, code: bytes = b"") -> bytes:
    """The first part of a calls job's stdin: the candidate program (``source``, written to
    `PROGRAM_FILE`, and ``code``, compiled by the verifier: bytecode tag, newline, marshal) and
    how to call it.

    The calls follow (`calls_request_rest`) and end the stream, so the verifier can start the job,
    which defines the candidate meanwhile, before its analysis of the tests is done.
    """
    head = marshal.dumps({"test_timeout": float(test_timeout), "careful": bool(careful), "source": bytes(source),
                          "code": bytes(code)})  # fmt: skip
    return len(head).to_bytes(4, "little") + head


def calls_request_rest(calls: list) -> bytes:
    """The rest of a calls job's stdin: the calls to make, in order (nothing: make none)."""
    return marshal.dumps(list(calls))


def _read_exact(fd: int, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        chunk = os.read(fd, size - len(buf))
        if not chunk:
            raise EOFError("the request ended early")
        buf += chunk
    return bytes(buf)


def _serve_calls() -> None:
    """The job of host-judged function tests: define the candidate, make the predicted calls.

    Nothing secret is in this job: stdin holds only the calls the tests will make (the arguments
    the candidate would receive anyway), and each reply goes back as plain data; the expected
    values and the comparisons stay in the trainer (`RecordedJudge`). The candidate's own stdio is
    ``/dev/null``; the request's descriptor stays open to read the calls once it is defined.
    """
    size = int.from_bytes(_read_exact(0, 4), "little")
    head = marshal.loads(_read_exact(0, size))  # written by the verifier, not by the candidate
    fd = os.open(PROGRAM_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # (for inspect, linecache)
    _write_all(fd, head["source"])
    os.close(fd)
    request_fd = os.dup(0)
    replies = _Replies(os.dup(1), bool(head.get("careful")))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)

    def calls() -> list | None:
        rest = _read_all(request_fd)
        os.close(request_fd)
        return marshal.loads(rest) if rest else None

    try:
        _make_calls(head, calls, replies)
    finally:
        os.close(replies.fd)


def _make_calls(head: dict, calls, replies: _Replies) -> None:
    """Define the candidate, then make the calls ``calls()`` returns, in order, and write a reply
    line for each (``calls()`` returning None: the verifier wants none; the job ends quietly).

    Each test step has ``test_timeout`` seconds: SIGALRM then writes what is done, a ``timeout``
    line, and ends the job (a hang inside C code, which no signal handler can interrupt, runs
    into the job's wall-clock limit instead).
    """
    test_timeout = float(head["test_timeout"])

    def out_of_time(_signum, _frame) -> None:
        replies.reply("timeout")
        replies.flush()
        os._exit(0)

    signal.signal(signal.SIGALRM, out_of_time)
    namespace = _candidate_namespace("__candidate__")
    signal.setitimer(signal.ITIMER_REAL, test_timeout)
    try:
        tag, _, blob = bytes(head.get("code") or b"").partition(b"\n")
        if blob and tag == bytecode_tag().encode():  # compiled by the verifier (trusted bytes)
            program = marshal.loads(blob)
        else:
            program = compile(head["source"].decode("utf-8", "replace"), PROGRAM_FILE, "exec")
        del blob
        exec(program, namespace)
        loaded = None
    except BaseException as exc:  # the candidate's module failed: every test fails with this reason
        loaded = _describe(exc)
    signal.setitimer(signal.ITIMER_REAL, 0)
    todo = calls()
    if todo is None:
        return
    if loaded is not None:
        replies.reply("def_error", loaded)
        replies.flush()
        return
    replies.reply("defined")
    step = None
    for call_step, name, args, kwargs in todo:
        if call_step != step:  # each test step has its own time limit, as in the sandbox judge
            step = call_step
            signal.setitimer(signal.ITIMER_REAL, test_timeout)
        started = time.perf_counter()
        try:
            reply = ("ok", encode_plain(to_plain(namespace[name](*args, **kwargs))))
        except BaseException as exc:
            reply = _error_reply(exc)
        remaining = signal.setitimer(signal.ITIMER_REAL, 0)[0]
        replies.reply(*reply, round(time.perf_counter() - started, 6))
        if remaining:
            signal.setitimer(signal.ITIMER_REAL, remaining)
    signal.setitimer(signal.ITIMER_REAL, 0)
    replies.reply("end")
    replies.flush()


def _warm_up_calls() -> None:
    """A calls job's whole path (`_serve_calls`), once, on a sample, in the warm job process before
    its job exists: the copy-on-write faults of a forked interpreter happen now, not on the job's
    clock. Its stdio is put back and its program file removed afterwards."""
    code = bytecode_tag().encode() + b"\n" + marshal.dumps(compile(_WARM_PROGRAM, PROGRAM_FILE, "exec"))
    request = calls_request_head(5.0, False, _WARM_PROGRAM.encode(), code)
    request += calls_request_rest([(0, "f", (3,), {}), (1, "f", ("x",), {"b": None}), (2, "g", (), {})])
    saved = [os.dup(fd) for fd in (0, 1, 2)]
    read_end, write_end = os.pipe()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        _write_all(write_end, request)  # (a few hundred bytes: fits in the pipe)
        os.close(write_end)
        os.dup2(read_end, 0)
        os.dup2(devnull, 1)
        _serve_calls()
    finally:
        for fd, copy in enumerate(saved):
            os.dup2(copy, fd)
            os.close(copy)
        for fd in (read_end, devnull):
            os.close(fd)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        try:
            os.unlink(PROGRAM_FILE)
        except OSError:
            pass


class RecordedJudge(_Judge):
    """The judge in the trainer: `run_function_tests` against replies a calls job recorded.

    ``replies`` are the reply tuples in order ("defined" first). When they run out before the
    tests do, ``missing`` says what that means: ``("lost", reason)`` the candidate's process was
    lost at the next call (its test fails, later ones go to a fresh job, as in the sandbox); or
    ``("retry", why)`` the replies are incomplete for a reason that is not the candidate's fault
    to judge on (batched replies died with the process, or output was cut), so the unit is run
    again. A call the tests make that was not predicted is a retry too (``retry_reason`` says).
    """

    def __init__(self, replies: list[tuple], missing: tuple[str, str]):
        super().__init__(None, 0, "", float("inf"))
        self.replies = list(reversed(replies))
        self.missing = missing
        self.records: list[dict] = []
        self.retry_reason: str | None = None
        self.candidate_s = 0.0  # the candidate's time in the calls replayed so far

    def emit(self, record: dict) -> None:
        self.records.append(record)

    def flush(self) -> None:
        pass

    def kill_worker(self, state: str = "lost", wait: bool = True) -> None:
        if self.state != "broken":
            self.state = state

    def prefetch(self, calls: list) -> None:
        self.expected = [marshal.dumps(tuple(c), 0) for c in calls]
        self.expected.reverse()

    def _ensure_ready(self) -> None:
        try:
            super()._ensure_ready()
        except _Abort:
            if self.retry_reason is not None:  # not "did not load": the job is run again
                self.state = "retry"
            raise

    def _exchange(self, request: bytes | None) -> object:
        if request is not None:  # a call nobody predicted: the sandbox judge has to take over
            self.retry_reason = "the tests made a call that was not predicted"
            self.kill_worker("retry")
            raise self._abort(self.retry_reason)
        if not self.replies:
            kind, reason = self.missing
            if kind == "retry":
                self.retry_reason = reason
            self.kill_worker("retry" if kind == "retry" else "lost")
            raise self._abort(reason)
        reply = self.replies.pop()
        if reply[0] in ("ok", "err"):  # the last element is the call's duration in the job
            self.candidate_s += reply[-1]
            reply = reply[:-1]
        return reply

    def elapsed_since(self, start: float) -> float:
        spent, self.candidate_s = self.candidate_s, 0.0
        return time.perf_counter() - start + spent


# ---------------------------------------------------------------------------------------------
# A worker forked before the job exists (the local sandbox's ``prepare_job`` hook)
# ---------------------------------------------------------------------------------------------

#: In a warm job process of the local sandbox: the candidate worker forked ahead of the job,
#: (pid, socket), set by `prepare_job` and taken by `main`.
_PREPARED: list = []
#: The limits a forked-ahead worker applies to itself before it touches anything of the job.
_RLIMITS = ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE", "RLIMIT_NPROC",
            "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE")  # fmt: skip
_WARM_PROGRAM = ("def f(a, b=(1, 2.5)):\n    return [a, str(a), {'k': b}, a * 2 > 1]\n"
                 "def g():\n    raise ValueError('warm-up')\n")  # fmt: skip


def prepare_job(lock_down, kind: str = "") -> list[int]:
    """Get a warm job process ready for a job of this harness (sandbox hook, runs as root).

    ``kind="calls"``: warm up a calls job's path (`_warm_up_calls`); nothing stays behind.
    Otherwise fork the candidate worker W now, before the job and its tests exist.

    Runs as root in a warm job process of the local sandbox; the fork and the copy-on-write faults
    that follow it are off the job's clock then. W closes every inherited descriptor, warms up
    (defines and calls a function, as it will for the candidate) and waits for "go": then it calls
    ``lock_down`` with the job's rlimits (the job's uid, no capabilities) before it reads the
    candidate. Since W exists before the job, its memory never held the key or the tests.
    Returns the descriptor the job keeps (the socket to W).
    """
    import _socket

    discard_job()
    if kind == "calls":
        _warm_up_calls()
        return []
    devnull = os.open(os.devnull, os.O_RDWR)
    sock, theirs = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        try:
            sock.close()
            _worker_prelude({theirs.fileno()}, (devnull, devnull, devnull), drop=False)
            lock_down(None)  # warm-up only: the calls it will make on "go", changing nothing
            namespace = _candidate_namespace("__warmup__")
            exec(compile(_WARM_PROGRAM, "warmup.py", "exec"), namespace)
            _send(theirs, marshal.dumps(("ok", to_plain(namespace["f"](3)))))
            del namespace
            try:  # wait at the job's priority (prepared at a lower one), so W starts as soon as told
                os.setpriority(os.PRIO_PROCESS, 0, 0)
            except OSError:
                pass
            request = marshal.loads(_recv(theirs))
            if type(request) is not tuple or request[:1] != ("go",):
                os._exit(0)
            forked = time.perf_counter()
            lock_down(dict(request[1]))  # the job's uid or no capabilities, no new privileges
            _function_worker(theirs, (forked, time.perf_counter()))
        finally:
            os._exit(0)
    theirs.close()
    os.close(devnull)
    _PREPARED.append((pid, sock))
    _libc()[1].prctl(3, 0, 0, 0, 0)  # loaded and called once now (PR_GET_DUMPABLE), not while the job waits
    try:  # the judge's side of the warm-up
        sock.settimeout(30.0)
        check_plain(marshal.loads(_recv(sock)))
        sock.settimeout(None)
        scratch = {"f": lambda *a: [a[0], str(a[0]), {"k": (1, 2.5)}, True]}
        exec(compile("assert f(3) == [3, '3', {'k': (1, 2.5)}, True]\n", "<test warmup>", "exec"), scratch)
        import json

        json.dumps({"t": 0, "ok": True, "why": None, "s": 0.0}, separators=(",", ":"))
    except BaseException:
        discard_job()
        raise
    return [sock.fileno()]


def discard_job() -> None:
    """Kill a forked-ahead worker the job will not use (sandbox hook)."""
    while _PREPARED:
        pid, sock = _PREPARED.pop()
        sock.close()
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass


def _start_prepared_worker() -> tuple[int, object] | None:
    """Hand the job's rlimits to the worker forked ahead and let it go (None: there is none)."""
    import resource

    if not _PREPARED:
        return None
    pid, sock = _PREPARED.pop()
    limits = [(getattr(resource, name), resource.getrlimit(getattr(resource, name)))
              for name in _RLIMITS if hasattr(resource, name)]  # fmt: skip
    try:
        _send(sock, marshal.dumps(("go", limits)))
    except OSError:
        _PREPARED.append((pid, sock))
        discard_job()
        return None
    return pid, sock


def main(mode: str) -> None:
    """Entry point of the sandbox job (called by the bootstrap ``main.py``)."""
    import _socket

    if mode == "calls":
        discard_job()
        _serve_calls()
        return
    start = time.perf_counter()
    workdir = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", ".") and os.path.abspath(p) != workdir]
    hardening = ["nondumpable"] if _make_undumpable() else []
    if mode != "function":
        discard_job()
    if _PREPARED:
        hardening.append("forked-ahead")  # W never shared memory with the job's data
    elif _scrub_job_stdin():
        hardening.append("scrubbed")
    marks = {"harden": time.perf_counter() - start}
    try:
        ciphertext = _read_ciphertext()
    except OSError as exc:
        discard_job()
        _write_all(2, f"harness: cannot read the tests: {_describe(exc)}\n".encode())
        os._exit(3)
    sys.stdout.flush()
    sys.stderr.flush()
    sock = worker_pid = None
    if mode == "function":
        prepared = _start_prepared_worker()  # after the ciphertext was read and unlinked
        if prepared is not None:
            worker_pid, sock = prepared
        else:
            devnull = os.open(os.devnull, os.O_RDWR)
            sock, theirs = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM)
            import gc

            gc.freeze()  # inherited objects stay out of the worker's collections: fewer copy-on-write faults
            worker_pid = os.fork()
            if worker_pid == 0:
                try:
                    forked = time.perf_counter()
                    sock.close()
                    _worker_prelude({theirs.fileno()}, (devnull, devnull, devnull))
                    _function_worker(theirs, (forked, time.perf_counter()))
                finally:
                    os._exit(0)
            theirs.close()
            os.close(devnull)
    marks["fork"] = time.perf_counter() - start
    try:
        payload = _load_secret(ciphertext)
    except BaseException as exc:
        if worker_pid is not None:
            os.kill(worker_pid, signal.SIGKILL)
        _write_all(2, f"harness: cannot read the tests: {_describe(exc)}\n".encode())
        os._exit(3)
    judge = _Judge(sock, worker_pid or 0, str(payload["nonce"]), start + float(payload["budget"]))
    marks["secret"] = time.perf_counter() - start
    judge.emit({"ev": "hello", "hardening": hardening})
    try:
        if mode == "function":
            run_function_tests(judge, payload)
        else:
            judge.state = "broken"  # no long-lived worker in this mode
            _run_io_tests(judge, payload)
        if judge.ready_at:
            marks["ready"] = judge.ready_at - start
            for name, value in zip(("w_forked", "w_prelude", "w_defined"), judge.worker_marks):  # noqa: B905
                if type(value) is float:
                    marks[name] = value - start
        marks["tests"] = time.perf_counter() - start
        judge.emit({"ev": "end", "marks": {k: round(v, 6) for k, v in marks.items()}, "t0": start})
    finally:
        judge.flush()
        if mode == "function" and os.getpid() != 1:
            judge.kill_worker()
        # As pid 1 of the job's pid namespace, H leaves W be: the kernel kills W when H exits, and
        # the sandbox can report the verdicts before either exit is paid for.
