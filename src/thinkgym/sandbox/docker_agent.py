"""The job supervisor that runs *inside* a docker sandbox container (stdlib only, Python >= 3.8).

The host sends this file's source as ``python3 -I -c <source>`` in one ``exec`` per container
(``--serve``: many jobs over one stream, the fast path) or one ``exec`` per job (``--once``). Each job
arrives on stdin as a length-prefixed JSON header plus raw blobs (files, stdin); the result goes
back on stdout the same way. Why a supervisor inside the container: a ``docker exec`` costs 40-60 ms
here, a fork of a warm interpreter about 1 ms.

Per job the supervisor wipes the writable places (work dir, /tmp, /dev/shm, /dev/mqueue, SysV IPC),
writes the job's files, forks a child that sets rlimits and runs the entry point as ``__main__``,
enforces the wall clock and the output caps, then kills every process of its uid (``kill(-1)``
until none is left) and wipes again. It makes itself non-dumpable so the job (same uid) cannot
read its memory or write forged results into its stdout through ``/proc``. If the job kills the
supervisor anyway, the host sees the stream end and recycles the container.
"""

import ctypes
import errno
import io
import json
import os
import resource
import select
import signal
import stat
import struct
import sys
import time

MAGIC = b"TGJ1"
HEADER = struct.Struct(">4sI")
WORK = "/work"
SCRUB_DIRS = ("/tmp", "/dev/shm", "/dev/mqueue")
PREIMPORT = (
    "runpy", "threading", "atexit", "_socket", "abc", "array", "base64", "bisect", "collections", "copy", "dataclasses", "decimal", "enum", "fractions",
    "functools", "hashlib", "heapq", "itertools", "json", "math", "operator", "random", "re",
    "statistics", "string", "traceback", "typing", "unittest",
)
PR_SET_DUMPABLE = 4
IPC_RMID = 0
_libc = None


def libc():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


class Buffer:
    """A reusable byte buffer that leaves no job data behind in freed memory.

    Forked jobs inherit the supervisor's memory, so a job must not find the previous job's files,
    stdin or output in it — nor its own stdin, which a harness may read only after forking its
    untrusted worker. Job bytes therefore only ever live here: read in with ``readv``, written out
    with ``writev`` (no intermediate ``bytes`` copies), zeroed after use, and a buffer that must
    grow is zeroed before it is dropped.
    """

    def __init__(self):
        self.data = bytearray()
        self.used = 0  # bytes that may hold job data (zeroed by wipe)
        self.filled = 0  # bytes of the current stream read so far (output buffers)

    def reserve(self, n):
        """A view of at least ``n`` bytes; callers raise ``used`` before writing into it."""
        if len(self.data) < n:
            self.wipe()
            self.data = bytearray(max(n, 2 * len(self.data), 1 << 16))
        return memoryview(self.data)

    def wipe(self):
        if self.used:
            self.data[: self.used] = bytes(self.used)
            self.used = 0


def read_into(fd, view):
    """Fill ``view`` from ``fd``; False at EOF."""
    pos, size = 0, len(view)
    while pos < size:
        got = os.readv(fd, [view[pos:]])
        if got == 0:
            return False
        pos += got
    return True


def write_all(fd, parts):
    views = [memoryview(p).cast("B") for p in parts if len(p)]
    while views:
        done = os.writev(fd, views[:512])
        while done and views:
            if done >= len(views[0]):
                done -= len(views[0])
                views.pop(0)
            else:
                views[0] = views[0][done:]
                done = 0


def read_job(fd, inbuf):
    """(header, [views of each file's blob in ``inbuf``], stdin fd) or None at EOF.

    The last blob is the job's stdin: it goes from the stream into a memfd without entering this
    process's memory (`stdin_to_memfd`), because the job is forked from this process and may fork
    a child of its own before it reads its stdin.
    """
    head = bytearray(HEADER.size)
    if not read_into(fd, memoryview(head)):
        return None
    magic, size = HEADER.unpack(head)
    if magic != MAGIC:
        raise SystemExit("thinkgym agent: bad job frame")
    raw = bytearray(size)
    if not read_into(fd, memoryview(raw)):
        return None
    header = json.loads(raw.decode())  # metadata only: names, argv, limits
    sizes = header["blobs"][:-1]
    total = sum(sizes)
    view = inbuf.reserve(total)
    inbuf.used = max(inbuf.used, total)
    if not read_into(fd, view[:total]):
        return None
    blobs, pos = [], 0
    for length in sizes:
        blobs.append(view[pos : pos + length])
        pos += length
    stdin_fd = stdin_to_memfd(fd, header["blobs"][-1], inbuf, total)
    if stdin_fd is None:
        return None
    return header, blobs, stdin_fd


def new_memfd():
    try:
        return os.memfd_create("stdin", 0)
    except (AttributeError, OSError):
        return os.open(WORK, os.O_TMPFILE | os.O_RDWR, 0o600)


def stdin_to_memfd(fd, size, inbuf, offset):
    """The next ``size`` bytes of ``fd`` in a fresh memfd (rewound); None at EOF.

    ``os.splice`` moves them in the kernel (the stream is a pipe), so they never enter this
    process's memory. Where splice cannot (not a pipe, an old Python) they pass through ``inbuf``
    past ``offset``, which is zeroed before any job is forked.
    """
    out = new_memfd()
    left = size
    while left and hasattr(os, "splice"):
        try:
            moved = os.splice(fd, out, left)
        except OSError:
            break  # (EINVAL: not a pipe) the copy below does the rest
        if moved == 0:
            os.close(out)
            return None
        left -= moved
    if left:
        view = inbuf.reserve(offset + left)
        inbuf.used = max(inbuf.used, offset + left)
        if not read_into(fd, view[offset : offset + left]):
            os.close(out)
            return None
        write_all(out, [view[offset : offset + left]])
    os.lseek(out, 0, os.SEEK_SET)
    return out


def write_result(fd, header, parts):
    header["blobs"] = [len(p) for p in parts]
    raw = json.dumps(header).encode()
    write_all(fd, [HEADER.pack(MAGIC, len(raw)), raw] + list(parts))


# ---------------------------------------------------------------- cleaning between jobs


def my_processes(uid, me):
    """Pids of live (non-zombie) processes of ``uid`` other than ``me``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in (me, 1):
            continue
        try:
            with open(f"/proc/{name}/status") as fh:
                status = fh.read()
        except OSError:
            continue
        state = uid_line = ""
        for line in status.splitlines():
            if line.startswith("State:"):
                state = line.split()[1]
            elif line.startswith("Uid:"):
                uid_line = line.split()[1]
        if uid_line == str(uid) and state not in ("Z", "X"):
            found.append(int(name))
    return found


def kill_all(uid, budget_s=3.0):
    """SIGKILL every process of our uid (the job's tree, daemons, bombs) until none is left."""
    me = os.getpid()
    deadline = time.monotonic() + budget_s
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        reap()
        left = my_processes(uid, me)
        if not left:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def remove_tree(path):
    """rmtree that first makes each directory ours to empty (the job may chmod 000 them)."""
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    try:
        entries = list(os.scandir(path))
    except OSError:
        entries = []
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                remove_tree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            pass
    try:
        os.rmdir(path)
    except OSError:
        pass


def wipe_dir(path):
    """Remove everything inside ``path`` that we can; True when it is empty afterwards."""
    try:
        names = os.listdir(path)
    except OSError:
        return True
    for name in names:
        full = os.path.join(path, name)
        try:
            st = os.lstat(full)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            try:
                remove_tree(full)
            except RecursionError:
                return False
        else:
            try:
                os.unlink(full)
            except OSError:
                pass
    try:
        return not os.listdir(path)
    except OSError:
        return False


def remove_sysv_ipc():
    """Delete SysV shared memory, semaphores and message queues (they outlive processes)."""
    ok = True
    for kind, fn_name, extra in (("shm", "shmctl", 1), ("sem", "semctl", 2), ("msg", "msgctl", 1)):
        try:
            with open("/proc/sysvipc/" + kind) as fh:
                lines = fh.read().splitlines()[1:]
        except OSError:
            continue
        fn = getattr(libc(), fn_name)
        for line in lines:
            fields = line.split()
            if len(fields) < 2:
                continue
            ipc_id = int(fields[1])
            args = (ipc_id, 0, IPC_RMID, None) if extra == 2 else (ipc_id, IPC_RMID, None)
            if fn(*args) != 0 and ctypes.get_errno() not in (errno.EINVAL, errno.EIDRM):
                ok = False
    return ok


def scrub(uid):
    """Leave nothing from the previous job: processes first (they could recreate files), then files."""
    procs_ok = kill_all(uid)
    files_ok = wipe_dir(WORK)
    for path in SCRUB_DIRS:
        files_ok = wipe_dir(path) and files_ok
    ipc_ok = remove_sysv_ipc()
    return procs_ok and files_ok and ipc_ok


# ---------------------------------------------------------------- one job


def oom_kills():
    for path, key in (("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill"),
                      ("/sys/fs/cgroup/memory.events", "oom_kill")):
        try:
            with open(path) as fh:
                for line in fh:
                    parts = line.split()
                    if len(parts) == 2 and parts[0] == key:
                        return int(parts[1])
        except OSError:
            continue
    return -1


def safe_path(rel):
    norm = os.path.normpath(rel)
    if os.path.isabs(norm) or norm == ".." or norm.startswith("../") or norm in ("", "."):
        raise ValueError(f"job file path {rel!r} leaves the work dir")
    return os.path.join(WORK, norm)


def write_files(names, blobs):
    for name, data in zip(names, blobs):  # noqa: B905 - runs on Python >= 3.8
        path = safe_path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        try:
            write_all(fd, [data])
        finally:
            os.close(fd)


# ---------------------------------------------------------------- the job's own seccomp filter

# Docker's default profile still lets a job open AF_VSOCK sockets (in a VM they reach the
# hypervisor's services, whatever the container's network), netlink, io_uring, userfaultfd and
# ptrace. The job gets a second, stricter filter on top, like the local backend's: sockets only of
# AF_UNIX, and none of those calls. Classic BPF, built by hand: no libseccomp in the image.
_ARCHES = {  # machine -> (AUDIT_ARCH, socket, socketpair, denied syscall numbers)
    "x86_64": (0xC000003E, 41, 53, (101, 310, 311, 323, 425, 426, 427, 248, 249, 250)),
    "aarch64": (0xC00000B7, 198, 199, (117, 270, 271, 282, 425, 426, 427, 217, 218, 219)),
}
_LD_ABS, _JEQ, _JGE, _JA, _RET = 0x20, 0x15, 0x35, 0x05, 0x06
_ALLOW, _EPERM, _EAFNOSUPPORT = 0x7FFF0000, 0x00050000 | errno.EPERM, 0x00050000 | errno.EAFNOSUPPORT


def seccomp_program(machine):
    """The filter as (code, jt, jf, k) tuples, or None for an architecture we have no table for."""
    if machine not in _ARCHES:
        return None
    arch, sock, pair, denied = _ARCHES[machine]
    checks = [(nr, "domain") for nr in (sock, pair)] + [(nr, "deny") for nr in denied]
    body = [("ld", 4), ("jeq", arch, None, "deny"), ("ld", 0)]
    if machine == "x86_64":
        body.append(("jge", 0x40000000, "deny", None))  # x32 ABI numbers
    body += [("jeq", nr, target, None) for nr, target in checks]
    body += [("ja", "allow"), ("label", "domain"), ("ld", 16), ("jeq", 1, "allow", "no_family"),
             ("label", "allow"), ("ret", _ALLOW), ("label", "no_family"), ("ret", _EAFNOSUPPORT),
             ("label", "deny"), ("ret", _EPERM)]
    labels, pos = {}, 0
    for ins in body:
        if ins[0] == "label":
            labels[ins[1]] = pos
        else:
            pos += 1
    prog, pos = [], 0
    for ins in body:
        if ins[0] == "label":
            continue
        def rel(target, here=pos):
            return 0 if target is None else labels[target] - here - 1
        if ins[0] == "ld":
            prog.append((_LD_ABS, 0, 0, ins[1]))
        elif ins[0] in ("jeq", "jge"):
            prog.append((_JEQ if ins[0] == "jeq" else _JGE, rel(ins[2]), rel(ins[3]), ins[1]))
        elif ins[0] == "ja":
            prog.append((_JA, 0, 0, rel(ins[1])))
        else:
            prog.append((_RET, 0, 0, ins[1]))
        pos += 1
    return prog


_FILTER = []  # [sock_fprog, instructions], built once in the supervisor, used by every child


def prepare_job_filter():
    """Build the ctypes filter once, before the forks (a child then only calls prctl)."""
    prog = seccomp_program(os.uname().machine)
    if prog is None:
        return

    class Insn(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Insn))]

    insns = (Insn * len(prog))(*[Insn(*ins) for ins in prog])
    _FILTER[:] = [Prog(len(prog), insns), insns]


def install_job_filter():
    """Apply the filter to this process and all it starts; False when it could not be."""
    if not _FILTER:
        return False
    # PR_SET_NO_NEW_PRIVS (docker set it already), then PR_SET_SECCOMP / SECCOMP_MODE_FILTER
    libc().prctl(38, 1, 0, 0, 0)
    return libc().prctl(22, 2, ctypes.byref(_FILTER[0]), 0, 0) == 0


def child_setup(job, stdin_fd, out_w, err_w):
    """In the forked child: own session, pipes as stdio, rlimits, clean env; then run the entry."""
    os.setsid()
    os.dup2(stdin_fd, 0)
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    for name in os.listdir("/proc/self/fd"):
        if int(name) > 2:
            try:
                os.close(int(name))
            except OSError:
                pass
    limits = job["limits"]
    mem = int(limits["memory_mb"]) * 1024 * 1024
    cpu = max(1, int(-(-float(limits["cpu_s"]) // 1)))
    file_size = int(limits["max_file_mb"]) * 1024 * 1024
    for res, value in (
        (resource.RLIMIT_AS, mem),
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        # per uid, and the supervisor shares the job's uid: one more than the job's own budget
        (resource.RLIMIT_NPROC, int(limits["max_processes"]) + 1),
        (resource.RLIMIT_FSIZE, file_size),
        (resource.RLIMIT_NOFILE, int(limits["max_open_files"])),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_MEMLOCK, 0),
        (resource.RLIMIT_MSGQUEUE, 0),
    ):
        soft, hard = value if isinstance(value, tuple) else (value, value)
        resource.setrlimit(res, (soft, hard))
    try:
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")  # the job, never the supervisor, is the OOM killer's choice
    except OSError:
        pass
    install_job_filter()  # the host's probe job checks that it is in force
    os.umask(0o077)
    os.chdir(WORK)
    os.environ.clear()
    os.environ.update({"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": WORK, "TMPDIR": "/tmp",
                       "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8", "USER": "sandbox", "LOGNAME": "sandbox"})
    os.environ.update(job.get("env") or {})
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8")
    sys.stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
                                  encoding="utf-8", errors="backslashreplace", line_buffering=True)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr
    entry = os.path.join(WORK, os.path.normpath(job["entry"]))
    sys.argv = [job["entry"]] + list(job["argv"])
    sys.path[0:0] = [os.path.dirname(entry)]
    return entry


def pump(fd, buf, limit):
    """Read what ``fd`` has into ``buf`` past ``buf.used``, up to ``limit`` bytes; False at EOF."""
    view = buf.reserve(limit)
    room = limit - buf.filled
    if room <= 0:
        return True
    got = os.readv(fd, [view[buf.filled : limit]])
    buf.filled += got
    buf.used = max(buf.used, buf.filled)
    return got > 0


def collect_files(paths, file_cap, buf):
    """Read the requested work-dir files (each capped) into ``buf``; {name: view}."""
    sizes = {}
    for rel in paths:
        try:
            fd = os.open(safe_path(rel), os.O_RDONLY | os.O_NOFOLLOW)
        except (OSError, ValueError):
            continue
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                sizes[rel] = (fd, min(os.fstat(fd).st_size, file_cap))
                continue
        except OSError:
            pass
        os.close(fd)
    total = sum(n for _, n in sizes.values())
    view = buf.reserve(total)
    buf.used = max(buf.used, total)
    found, pos = {}, 0
    for rel, (fd, size) in sizes.items():
        try:
            got = 0
            while got < size:
                chunk = os.readv(fd, [view[pos + got : pos + size]])
                if chunk == 0:
                    break
                got += chunk
            found[rel] = view[pos : pos + got]
            pos += size
        except OSError:
            pass
        finally:
            os.close(fd)
    return found


def watch(pid, pidfd, streams, open_fds, cap, deadline):
    """Read the job's pipes (capped) until it ends, floods or reaches ``deadline``.
    Returns (status, rusage, timed_out, flooded); status is None when it did not end."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, None, True, False
        watched = open_fds + ([pidfd] if pidfd is not None else [])
        ready, _, _ = select.select(watched, [], [], min(remaining, 0.05 if pidfd is None else remaining))
        for fd in ready:
            if fd == pidfd:
                continue
            if not pump(fd, streams[fd], cap + 1):
                open_fds.remove(fd)
            elif streams[fd].filled > cap:
                return None, None, False, True
        done, status, rusage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, rusage, False, False


def ends_with_memory_error(err_buf, err_len):
    """Whether the job's stderr ends with a MemoryError line (found without copying job output)."""
    body_end = err_len
    while body_end > 0 and err_buf.data[body_end - 1] in b" \t\r\n":
        body_end -= 1
    last_line = err_buf.data.rfind(b"\n", 0, body_end) + 1
    return err_buf.data.startswith(b"MemoryError", last_line, body_end)


def run_job(job, blobs, stdin_fd, uid, known_clean, bufs):
    """Run one job (the parent side); returns (header, [stdout, stderr, *collected files]).

    ``known_clean``: the previous job's final scrub left nothing, so the first one is skipped.
    ``bufs``: the supervisor's Buffers (in, out, err, files); every one is zero before the fork.
    """
    inbuf, out_buf, err_buf, file_buf = bufs
    cap = int(job["limits"]["max_output_bytes"])
    wall = float(job["limits"]["wall_s"])
    t_begin = time.monotonic()
    clean_before = known_clean or scrub(uid)
    t_scrubbed = time.monotonic()
    names = job["files"]
    write_files(names, blobs[: len(names)])
    del blobs
    inbuf.wipe()  # the job's files are in place; no job's data may be in the child's memory
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    ooms = oom_kills()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            return "child", child_setup(job, stdin_fd, out_w, err_w)
        except BaseException:
            os._exit(126)
    for fd in (stdin_fd, out_w, err_w):
        os.close(fd)
    out_buf.filled = err_buf.filled = 0
    streams = {out_r: out_buf, err_r: err_buf}
    open_fds = [out_r, err_r]
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    status, rusage, timed_out, flooded = watch(pid, pidfd, streams, open_fds, cap, started + wall)
    wall_s = time.monotonic() - started
    if status is None:  # timed out or flooded: the whole tree goes
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        _, status, rusage = os.wait4(pid, 0)
    # drain what the job wrote before it ended (daemons holding the pipes are killed next)
    for fd in list(open_fds):
        while streams[fd].filled <= cap and select.select([fd], [], [], 0)[0]:
            if not pump(fd, streams[fd], cap + 1):
                break
    truncated = {fd: buf.filled > cap for fd, buf in streams.items()}
    t_drained = time.monotonic()
    procs_left = not kill_all(uid)
    for fd in (out_r, err_r) + ((pidfd,) if pidfd is not None else ()):
        os.close(fd)
    file_cap = int(job["limits"]["max_file_mb"]) * 1024 * 1024
    collected = collect_files(job.get("collect") or (), file_cap, file_buf)
    t_collected = time.monotonic()
    clean_after = scrub(uid)
    t_end = time.monotonic()
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    cpu_s = rusage.ru_utime + rusage.ru_stime if rusage is not None else 0.0
    cpu_limit = float(job["limits"]["cpu_s"])
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu_s >= cpu_limit):
        timed_out = True
    err_len = min(err_buf.filled, cap)
    oom = oom_kills() > ooms >= 0 or (exit_code == 1 and ends_with_memory_error(err_buf, err_len))
    header = {
        "exit_code": exit_code, "signal": sig, "timed_out": timed_out, "out_of_memory": bool(oom),
        "wall_s": wall_s, "cpu_s": cpu_s, "stdout_truncated": truncated[out_r],
        "stderr_truncated": truncated[err_r], "output_capped": flooded,
        "clean": bool(clean_before and clean_after and not procs_left),
        "files": list(collected),
        "phases_ms": {"scrub_before": 1e3 * (t_scrubbed - t_begin), "setup": 1e3 * (started - t_scrubbed),
                      "job": 1e3 * (t_drained - started), "kill": 1e3 * (t_collected - t_drained),
                      "scrub_after": 1e3 * (t_end - t_collected)},
    }
    out_view = memoryview(out_buf.data)[: min(out_buf.filled, cap)]
    err_view = memoryview(err_buf.data)[:err_len]
    return "parent", (header, [out_view, err_view] + list(collected.values()))


def serve(once):
    """Answer jobs from stdin until EOF; in the forked child, return the entry to run."""
    try:
        libc().prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if not once:  # a warm heap pays off only when many jobs fork from it
        for name in PREIMPORT:
            try:
                __import__(name)
            except ImportError:
                pass
        import gc

        gc.collect()
        gc.freeze()  # forked jobs then leave the warm heap's pages shared instead of copying them
    prepare_job_filter()
    uid = os.getuid()
    out_fd = os.dup(1)
    in_fd = os.dup(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    clean = False
    bufs = (Buffer(), Buffer(), Buffer(), Buffer())
    while True:
        job = read_job(in_fd, bufs[0])
        if job is None:
            return None
        header, blobs, stdin_fd = job
        try:
            role, value = run_job(header, blobs, stdin_fd, uid, clean, bufs)
        except Exception as exc:  # the sandbox failed, not the job: say so, let the host recycle
            for buf in bufs:
                buf.wipe()
            write_result(out_fd, {"error": f"{type(exc).__name__}: {exc}", "clean": False}, [])
            return None
        finally:
            del blobs
        if role == "child":
            return value
        clean = value[0]["clean"]
        write_result(out_fd, value[0], value[1])
        del value
        for buf in bufs:
            buf.wipe()
        if once:
            return None


def exit_code_of(exc):
    """The status the interpreter would exit with for ``SystemExit(code)``."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(str(code) + "\n")
    except Exception:
        pass
    return 1


def run_entry(entry):
    """Run the job's entry as ``__main__`` and exit as the interpreter would, minus its slow
    teardown of every module (a forked interpreter skips it: tens of ms saved per job)."""
    import runpy
    import threading

    try:
        runpy.run_path(entry, run_name="__main__")
        code = 0
    except SystemExit as exc:
        code = exit_code_of(exc)
    except BaseException as exc:
        tb = exc.__traceback__
        while tb is not None and not tb.tb_frame.f_code.co_filename.startswith(WORK + "/"):
            tb = tb.tb_next
        try:
            if tb is not None:
                exc.__traceback__ = tb
            sys.excepthook(type(exc), exc, exc.__traceback__)
        except BaseException:
            pass
        code = 1
    for finish in (threading._shutdown, atexit_run):
        try:
            finish()
        except SystemExit as exc:
            code = exit_code_of(exc)
        except BaseException:
            pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            if code == 0:
                code = 120
    os._exit(code)


def atexit_run():
    import atexit

    atexit._run_exitfuncs()


def main():
    entry = serve(once="--once" in sys.argv)
    if entry is not None:
        run_entry(entry)


if __name__ == "__main__":
    main()
