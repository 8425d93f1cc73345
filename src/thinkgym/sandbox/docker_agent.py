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
    "runpy", "threading", "atexit", "abc", "array", "base64", "bisect", "collections", "copy", "dataclasses", "decimal", "enum", "fractions",
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


def read_exact(fd, n):
    chunks = []
    while n > 0:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_job(fd):
    head = read_exact(fd, HEADER.size)
    if head is None:
        return None
    magic, size = HEADER.unpack(head)
    if magic != MAGIC:
        raise SystemExit("thinkgym agent: bad job frame")
    header = json.loads(read_exact(fd, size))
    blobs = []
    for length in header["blobs"]:
        blobs.append(read_exact(fd, length) if length else b"")
    return header, blobs


def write_result(fd, header, blobs):
    header["blobs"] = [len(b) for b in blobs]
    raw = json.dumps(header).encode()
    data = b"".join([HEADER.pack(MAGIC, len(raw)), raw] + blobs)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


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
        with open(path, "wb") as fh:
            fh.write(data)


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
        (resource.RLIMIT_NPROC, int(limits["max_processes"])),
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
    os.umask(0o077)
    os.chdir(WORK)
    os.environ.clear()
    os.environ.update({"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": WORK, "TMPDIR": "/tmp",
                       "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"})
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


def run_job(job, blobs, uid, known_clean):
    """Run one job (the parent side); returns (header, [stdout, stderr, *collected files]).

    ``known_clean``: the previous job's final scrub left nothing, so the first one is skipped.
    """
    cap = int(job["limits"]["max_output_bytes"])
    wall = float(job["limits"]["wall_s"])
    t_begin = time.monotonic()
    clean_before = known_clean or scrub(uid)
    t_scrubbed = time.monotonic()
    names = job["files"]
    write_files(names, blobs[: len(names)])
    stdin_data = blobs[len(names)]
    stdin_fd = os.memfd_create("stdin", 0) if hasattr(os, "memfd_create") else os.open(WORK, os.O_TMPFILE | os.O_RDWR)
    os.write(stdin_fd, stdin_data)
    os.lseek(stdin_fd, 0, os.SEEK_SET)
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
    bufs = {out_r: bytearray(), err_r: bytearray()}
    truncated = {out_r: False, err_r: False}
    status = rusage = None
    timed_out = flooded = False
    open_fds = [out_r, err_r]
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    deadline = started + wall
    while status is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        watch = open_fds + ([pidfd] if pidfd is not None else [])
        ready, _, _ = select.select(watch, [], [], min(remaining, 0.05 if pidfd is None else remaining))
        for fd in ready:
            if fd == pidfd:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                open_fds.remove(fd)
                continue
            room = cap - len(bufs[fd])
            if len(chunk) > room:
                bufs[fd] += chunk[:max(room, 0)]
                truncated[fd] = True
                flooded = True
            else:
                bufs[fd] += chunk
        if flooded:
            break
        done, st, ru = os.wait4(pid, os.WNOHANG)
        if done:
            status, rusage = st, ru
    wall_s = time.monotonic() - started
    if status is None:  # timed out or flooded: the whole tree goes
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        _, status, rusage = os.wait4(pid, 0)
    # drain what the job wrote before it ended (daemons holding the pipes are killed next)
    for fd in list(open_fds):
        while len(bufs[fd]) <= cap:
            ready, _, _ = select.select([fd], [], [], 0)
            if not ready:
                break
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            bufs[fd] += chunk
        if len(bufs[fd]) > cap:
            del bufs[fd][cap:]
            truncated[fd] = True
    t_drained = time.monotonic()
    procs_left = not kill_all(uid)
    for fd in (out_r, err_r) + ((pidfd,) if pidfd is not None else ()):
        os.close(fd)
    collected = {}
    file_cap = int(job["limits"]["max_file_mb"]) * 1024 * 1024
    for rel in job.get("collect") or ():
        try:
            path = safe_path(rel)
            with open(path, "rb") as fh:
                collected[rel] = fh.read(file_cap + 1)[:file_cap]
        except (OSError, ValueError):
            continue
    t_collected = time.monotonic()
    clean_after = scrub(uid)
    t_end = time.monotonic()
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    cpu_s = rusage.ru_utime + rusage.ru_stime if rusage is not None else 0.0
    cpu_limit = float(job["limits"]["cpu_s"])
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu_s >= cpu_limit):
        timed_out = True
    stderr_tail = bytes(bufs[err_r][-200:]).rstrip().rsplit(b"\n", 1)[-1]
    oom = oom_kills() > ooms >= 0 or (exit_code == 1 and stderr_tail.startswith(b"MemoryError"))
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
    return "parent", (header, [bytes(bufs[out_r]), bytes(bufs[err_r])] + list(collected.values()))


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
    uid = os.getuid()
    out_fd = os.dup(1)
    in_fd = os.dup(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    clean = False
    while True:
        job = read_job(in_fd)
        if job is None:
            return None
        header, blobs = job
        try:
            role, value = run_job(header, blobs, uid, clean)
        except Exception as exc:  # the sandbox failed, not the job: say so, let the host recycle
            write_result(out_fd, {"error": f"{type(exc).__name__}: {exc}", "clean": False}, [])
            return None
        if role == "child":
            return value
        clean = value[0]["clean"]
        write_result(out_fd, value[0], value[1])
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
