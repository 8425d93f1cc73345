"""The host's side of one local sandbox job: its frame and stdin, its supervision, its result.

`encode_job` makes the job frame (files, entry, argv, limits; never the stdin), `stdin_memfd` the
sealed memfd that carries the stdin beside it. `supervise` then enforces the wall-clock limit and
the output caps on a job process (`WarmJob`: its socket, output pipes, "done" pipe and pidfd) and
turns what happened into a `SandboxResult`; `JobProcessLost` says the job process vanished.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import marshal
import os
import signal
import socket
import struct
import time
from collections.abc import Sequence

from thinkgym.sandbox.base import Job, Limits, SandboxResult, stdin_bytes

__all__ = ["WarmJob", "JobProcessLost", "compile_module", "encode_job", "pidfd_pid", "stdin_memfd", "supervise", "wait_frame"]


class WarmJob:
    """The host's handles on one warm job process: its socket, output pipes and a pidfd."""

    def __init__(self, pid: int, conn: socket.socket, out_r: int, err_r: int, done_r: int, pidfd: int):
        self.pid, self.conn, self.out_r, self.err_r, self.pidfd = pid, conn, out_r, err_r, pidfd
        self.done_r = done_r
        self.modules = 0  # how many of the zygote's shared modules it held when it forked this one

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


def pidfd_pid(pidfd: int) -> int | None:
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


def stdin_memfd(stdin: str | bytes) -> int:
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


class JobProcessLost(Exception):
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
            raise JobProcessLost("socket closed")
        head += data
    (size,) = struct.unpack("<Q", head)
    body = bytearray()
    while len(body) < size:
        conn.settimeout(max(0.001, deadline - time.monotonic()))
        chunk = conn.recv(min(size - len(body), 1 << 20))
        if not chunk:
            raise JobProcessLost("socket closed mid-frame")
        body += chunk
    return marshal.loads(bytes(body)), list(fds)


def supervise(warm: WarmJob, job: Job, started: float) -> SandboxResult:
    """Enforce a sent job's wall-clock limit and output caps until the exit frame."""
    limits = job.limits
    try:
        first, fds = _read_frame(warm.conn, time.monotonic() + 30.0 + limits.wall_s)
    except (OSError, TimeoutError) as exc:
        warm.kill()
        raise JobProcessLost(f"no answer from the job process: {exc}") from exc
    work_fd = fds[0] if fds else -1
    for extra in fds[1:]:
        os.close(extra)
    try:
        if first.get("kind") != "ready":
            warm.kill()
            exit_frame = wait_frame(warm.conn, time.monotonic() + 10.0) if first.get("kind") != "exit" else first
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


def wait_frame(conn: socket.socket, deadline: float, kinds: tuple[str, ...] = ("exit",)) -> dict | None:
    """The next frame from a job process, if it is one of ``kinds`` and comes by ``deadline``."""
    try:
        frame, fds = _read_frame(conn, deadline)
    except (OSError, TimeoutError, JobProcessLost):
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

    def __init__(self, warm: WarmJob, limits: Limits, start: float, early: bool):
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
            # What the job has done comes before the clock: a job that ended in time is not timed
            # out because its result was asked for late (`Sandbox.submit`).
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
            self._check_clock()
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
            raise JobProcessLost("the job did not end after SIGKILL")

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
            raise JobProcessLost("the job socket closed before the exit frame")
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


@functools.lru_cache(maxsize=64)
def compile_module(name: str, source: bytes) -> tuple[str, bytes | None]:
    """One of `Job.modules`, compiled once per host process: (its digest, its marshalled code), or
    no code when it does not compile (it then goes as a file, and the job's import of it fails)."""
    digest = hashlib.sha256(name.encode() + b"\0" + source).hexdigest()
    try:
        return digest, marshal.dumps(compile(source, name + ".py", "exec", dont_inherit=True))
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return digest, None


def encode_job(job: Job, required: list[str]) -> tuple[dict, list[tuple[str, str, bytes]]]:
    """The job frame (files, entry, argv, limits) and the job's modules compiled as (name, digest,
    code), which the host adds to the frame once it knows which modules the job process holds
    already. Never the stdin, which travels as a descriptor (`stdin_memfd`) so that the job
    process, which reads this frame, never holds it."""
    limits = job.limits
    files, modules = {}, []
    for name, source in job.modules.items():
        data = source.encode() if isinstance(source, str) else bytes(source)
        digest, code = compile_module(name, data)
        if code is not None:
            modules.append((name, digest, code))
        else:  # a file: its import fails in the job, as it would anywhere
            files[os.path.join(os.path.dirname(job.entry), name + ".py")] = data
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
    frame = {
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
    return frame, modules
