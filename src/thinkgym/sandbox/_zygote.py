r"""The warm fork-server behind `LocalSandbox`. Run as a script, never imported by the trainer.

Processes::

    host (LocalSandbox) ==ctl (seqpacket)==> zygote --fork--> job process (pid 1 of a new pid ns)
         \___ job socket, stdout/stderr pipes, "done" pipe, pidfd: handed to the host by the zygote ___/

* **zygote**: a long-lived Python with the stdlib (and optional packages) pre-imported. At start it
  enters a private mount namespace, builds a minimal read-only root (``/usr``, the Python prefixes,
  a fake ``/etc``, a few ``/dev`` nodes; not the thinkgym sources, and benchmark data masked) and
  pivots into it, so the host filesystem is hidden from everything it forks. It compiles the
  seccomp filter once. It keeps ``warm`` job processes prepared, hands each one's handles to the
  host, reaps them when they end and writes their exit frame; it never sees job data.
* **job process**, prepared *before* its job exists, as root and at low priority: pid 1 of a fresh
  pid namespace, joins its slot's network/UTS namespaces, unshares fresh mount and IPC ones, mounts
  a size-capped tmpfs on ``/sandbox`` (work dir, ``/tmp`` and ``/dev/shm`` all live there) and a
  read-only ``/proc``, joins the slot's cgroups, empties its capability bounding set, sets
  no_new_privs and installs the seccomp filter; sets up the interpreter for a job (environment,
  cwd, standard streams) and warms up. Then it reads the job frame straight from the host's
  socket, with the job's stdin as a descriptor (a sealed memfd it never reads: the stdin enters
  the memory of the job's code only, when that code reads fd 0), sets the job's rlimits, drops to
  the slot's unprivileged uid (or all capabilities inside a user namespace), writes the job's
  files, reports the layers in force and runs the user's code *in this already-warm interpreter*
  (no exec). At the end it writes its exit status to the "done" pipe.
* The **host** enforces the wall-clock limit and output caps itself: it reads the pipes and kills
  the job through its pidfd. Killing pid 1 of the namespace makes the kernel kill every process in
  it, so no daemon survives; the namespaces and the tmpfs go with the last of them. It returns a
  result as soon as the done pipe says the job ended, and kills what is left of it then.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import marshal
import os
import resource
import select
import signal
import socket
import struct
import sys
import time


def _sibling(name: str):
    """A helper module of this package, loaded by path: the zygote never imports the thinkgym
    package (its sources are hidden from jobs, and its imports would weigh on every job)."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py")
    spec = importlib.util.spec_from_file_location("thinkgym_sandbox" + name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_rootfs, _frames = _sibling("_rootfs"), _sibling("_frames")
send_frame, recv_frame, recv_fds = _frames.send_frame, _frames.recv_frame, _frames.recv_fds
_libc, _ul, mount, unshare, prctl = _rootfs._libc, _rootfs._ul, _rootfs.mount, _rootfs.unshare, _rootfs.prctl
drop_capabilities, _kept_flags, NS_LAYERS = _rootfs.drop_capabilities, _rootfs._kept_flags, _rootfs.NS_LAYERS
CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWNS, CLONE_NEWPID = (
    _rootfs.CLONE_NEWNET, _rootfs.CLONE_NEWUTS, _rootfs.CLONE_NEWNS, _rootfs.CLONE_NEWPID
)  # fmt: skip
MS_BIND, MS_REC, MS_REMOUNT, MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = (
    _rootfs.MS_BIND, _rootfs.MS_REC, _rootfs.MS_REMOUNT, _rootfs.MS_RDONLY, _rootfs.MS_NOSUID, _rootfs.MS_NODEV,
    _rootfs.MS_NOEXEC,
)  # fmt: skip
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = (
    _rootfs.PR_SET_PDEATHSIG, _rootfs.PR_CAPBSET_DROP, _rootfs.PR_SET_NO_NEW_PRIVS
)  # fmt: skip
SANDBOX, WORK, STAGED = _rootfs.SANDBOX, _rootfs.WORK, _rootfs.STAGED

#: Scheduling: the zygote (forking, reaping) and warm job processes being prepared yield to running
#: jobs, which run at the normal priority. (A job's result reaches the host through its "done" pipe,
#: so neither the zygote nor the teardown of earlier jobs is on a job's critical path.) A prepared
#: job process waits at the job's priority, so it runs at once when its job arrives.
ZYGOTE_NICE, PREPARE_NICE, JOB_NICE = 5, 5, 0

#: In a running job, the write end of the "done" pipe: after the entry file returned and stdout and
#: stderr were flushed, one byte with the exit status goes here, so the host can hand the result
#: back while the job's processes, namespaces and tmpfs are still being torn down (a process's
#: exit, the namespace's and the zygote's reaping cost more than a small job itself). The job's own
#: code could write the byte early too; that is no more than it can do by exiting.
DONE_FD = 3

# ----------------------------------------------------------------------------------------------
# The zygote's state, set once in main().


class State:
    userns = False
    root_built = False
    staged: list[str] = []  # host dirs under /tmp that each job gets bound into its own /tmp
    seccomp_bpf: bytes | None = None
    install_filter = None  # _seccomp.install_filter, loaded by path
    cgroups = None  # _cgroups.CgroupSet
    uid_base = 1_500_000
    base_sys_path: list[str] = []
    missing: dict[str, str] = {}
    host_pidfd = -1
    modules: dict[str, object] = {}  # digest -> code of a `Job.modules` module the host sent (in order)


# ----------------------------------------------------------------------------------------------
# The job process: prepared ahead of time as root, locked down when its job arrives.


PREPARED_INODES = 16384


def _job_child(slot: int, prepared: tuple[int, int, float], conn: socket.socket, out_w: int, err_w: int,
               done_w: int, holder_pidfd: int, in_pidns: bool) -> None:  # fmt: skip
    """Prepare (as root, at low priority), wait for the job on ``conn``, lock down, run it."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, PREPARE_NICE)
    os.setsid()
    layers = _enter_namespaces(holder_pidfd, in_pidns)
    if "mountns" in layers and State.root_built:
        _mount_workdir(slot, prepared[0] * 1024 * 1024, read_only_proc="pidns" in layers)
        layers.add("tmpfs-workdir")
    layers |= _join_cgroups(slot)
    mapped = _mapped_bytes()
    layers |= _harden()
    fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    conn = _standard_fds(conn, out_w, err_w, done_w)
    if "tmpfs-workdir" in layers:
        _prepare_interpreter(WORK)
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, JOB_NICE)
    # ---- everything above ran ahead of time; now wait for the job ----
    try:
        raw, passed = recv_frame(conn, 1)
    except (EOFError, OSError):
        os._exit(0)  # the host went away without sending a job
    job = marshal.loads(raw)
    del raw
    # The job's stdin is the descriptor the host sent with the frame (a sealed memfd): this
    # process never reads it, so it enters no memory but that of the job's code, when it reads.
    stdin_fd = passed[0] if passed else os.open("/dev/null", os.O_RDONLY)
    limits = job["limits"]
    wanted = (int(limits["memory_mb"]), int(limits["max_processes"]), float(limits.get("cpus", 1.0)))
    if State.cgroups is not None and wanted != tuple(prepared):
        State.cgroups.configure(slot, wanted[0] * 1024 * 1024, wanted[1], wanted[2])
    layers.update(_lock_down(slot, _job_rlimits(limits, mapped)))
    if "tmpfs-workdir" not in layers:
        raise OSError(errno.ENOTSUP, "no private work directory (mount namespace unavailable)")
    missing = set(job.get("required", ())) - layers
    if missing:  # strict mode: refuse before any of the job's code runs
        raise OSError(errno.EPERM, "required isolation layers unavailable: " + ", ".join(sorted(missing)))
    _write_files(job["files"])
    if job.get("modules"):
        sys.meta_path.insert(0, _JobModules(job["modules"]))
    os.dup2(stdin_fd, 0)
    os.close(stdin_fd)
    _send_ready(conn, layers, bool(job.get("collect")))
    os.closerange(DONE_FD + 1, fd_limit + 1)
    _run_entry(job, WORK)


def _enter_namespaces(holder_pidfd: int, in_pidns: bool) -> set[str]:
    """Join the slot's network/UTS namespaces (held by its holder), unshare mount and IPC ones."""
    layers: set[str] = {"pidns"} if in_pidns else set()
    if State.root_built:
        layers.add("readonly-root")
    if State.userns:
        layers.add("userns")
    todo = {k: v for k, v in NS_LAYERS.items() if k != "pidns"}
    if holder_pidfd >= 0 and _libc.setns(ctypes.c_int(holder_pidfd), ctypes.c_int(CLONE_NEWNET | CLONE_NEWUTS)) == 0:
        layers.update(("netns", "utsns"))  # the slot's own network and UTS namespaces (see _Pool)
        del todo["netns"], todo["utsns"]
    try:
        unshare(sum(todo.values()))
        layers.update(todo)
    except OSError:
        for name, flag in todo.items():
            with contextlib.suppress(OSError):
                unshare(flag)
                layers.add(name)
    if "utsns" in layers and "netns" in todo:
        socket.sethostname("sandbox")
    return layers


def _mount_workdir(slot: int, memory_bytes: int, read_only_proc: bool) -> None:
    """The job's size-capped tmpfs (work dir, /tmp, /dev/shm), staged host dirs, its own /proc."""
    uid = 0 if State.userns else State.uid_base + slot
    opts = f"size={memory_bytes},nr_inodes={PREPARED_INODES},mode=0755,uid={uid},gid={uid}"
    mount("tmpfs", SANDBOX, "tmpfs", MS_NOSUID | MS_NODEV, opts)
    for sub in (WORK, SANDBOX + "/tmp", SANDBOX + "/shm"):
        os.mkdir(sub, 0o700)
        if not State.userns:
            os.chown(sub, uid, uid)
    for path in State.staged:  # e.g. a venv under /tmp: shown at its own path, read-only
        target = SANDBOX + path
        os.makedirs(target, exist_ok=True)
        mount(STAGED + path, target, None, MS_BIND | MS_REC)
        mount(None, target, None, MS_BIND | MS_REMOUNT | _kept_flags(STAGED + path) | MS_RDONLY | MS_NOSUID | MS_NODEV)
    if read_only_proc:  # read-only: no /proc/sys writes, even where a user namespace allows them
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)


def _join_cgroups(slot: int) -> set[str]:
    """Join the slot's cgroups (their limits were set by the zygote for the latest job's kind)."""
    if State.cgroups is None:
        return set()
    try:
        for fd in State.cgroups.procs_fds(slot):
            os.write(fd, b"0")
            os.close(fd)
    except OSError:
        return set()
    return set(State.cgroups.layers)


def _mapped_bytes() -> int:
    """What the interpreter has mapped already (the address-space limit comes on top of it)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError):
        return 256 * 1024 * 1024


def _empty_bounding_set() -> None:
    """Empty the capability bounding set (nothing exec'd later can regain one): once, in the zygote
    (after its user namespace, which resets the set); every process it forks inherits it."""
    for cap in range(64):
        if _libc.prctl(ctypes.c_int(PR_CAPBSET_DROP), _ul(cap), _ul(0), _ul(0), _ul(0)) != 0:
            break  # EINVAL past the last capability this kernel knows


def _harden() -> set[str]:
    """no_new_privs and the seccomp filter (the bounding set is empty already)."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    layers = {"no-new-privileges"}
    if State.seccomp_bpf is not None:  # allows what is left to do: setuid, setrlimit, files
        State.install_filter(State.seccomp_bpf, _libc)
        layers.add("seccomp")
    return layers


def _standard_fds(conn: socket.socket, out_w: int, err_w: int, done_w: int) -> socket.socket:
    """stdout and stderr onto the host's pipes, the "done" pipe onto DONE_FD; returns the socket."""
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    if done_w != DONE_FD:
        if conn.fileno() == DONE_FD:  # move the job socket out of the way
            moved = socket.socket(fileno=os.dup(DONE_FD))
            conn.detach()
            conn = moved
        os.dup2(done_w, DONE_FD, inheritable=False)
        os.close(done_w)
    return conn


def _job_rlimits(limits: dict, mapped: int) -> dict[int, tuple[int, int]]:
    memory = int(limits["memory_mb"]) * 1024 * 1024
    nproc = int(limits["max_processes"])
    cpu = max(1, int(-(-float(limits["cpu_s"]) // 1)))
    fsize = int(limits["max_file_mb"]) * 1024 * 1024
    return {
        resource.RLIMIT_AS: (mapped + memory, mapped + memory),
        resource.RLIMIT_CPU: (cpu, cpu + 1),
        resource.RLIMIT_FSIZE: (fsize, fsize),
        resource.RLIMIT_NOFILE: (int(limits["max_open_files"]),) * 2,
        resource.RLIMIT_CORE: (0, 0),
        resource.RLIMIT_NPROC: (nproc, nproc),
        resource.RLIMIT_MEMLOCK: (0, 0),
        resource.RLIMIT_MSGQUEUE: (0, 0),
    }


def _write_files(files: dict[str, bytes]) -> None:
    made = {WORK}
    for rel, data in files.items():
        path = WORK + "/" + rel
        parent = os.path.dirname(path)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.close(fd)


def _send_ready(conn: socket.socket, layers: set[str], collect: bool) -> None:
    """The "ready" frame (the layers in force); with ``collect``, the work dir's fd goes along so
    the host can read the collected files after the job has ended."""
    ready = marshal.dumps({"kind": "ready", "layers": sorted(layers), "t0": time.monotonic()})
    frame = struct.pack("<Q", len(ready)) + ready
    if collect:
        work_fd = os.open(WORK, os.O_RDONLY | os.O_DIRECTORY)
        conn.sendmsg([frame], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", work_fd))])
        os.close(work_fd)
    else:
        conn.sendall(frame)
    conn.close()


def _lock_down(slot: int, rlimits: dict[int, tuple[int, int]]) -> list[str]:
    """Job priority, the job's rlimits, then no privileges left (another uid, or no capabilities
    inside a user namespace) and death with the parent. Returns the layers now in force."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, JOB_NICE)
    for kind, value in rlimits.items():
        resource.setrlimit(kind, value)
    layers = ["rlimits"]
    if State.userns:
        drop_capabilities()
        layers += ["non-root", "cap-drop-all"]
    elif os.geteuid() == 0:
        uid = State.uid_base + slot
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # from root to a non-zero uid: every capability is cleared
        layers += ["non-root", "cap-drop-all"]
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # (after the uid change, which clears it)
    return layers


def _prepare_interpreter(work: str) -> None:
    """Everything about running the entry file that does not depend on the job, done ahead of it:
    the job's environment, working directory and standard streams, plus a short warm-up that
    touches what a job touches, so this process's copy-on-write faults happen before it has a job.
    """
    import atexit
    import io

    os.chdir(work)
    os.environ.clear()
    os.environ.update(
        {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": work, "TMPDIR": "/tmp", "LANG": "C.UTF-8",
         "USER": "sandbox", "PYTHONIOENCODING": "utf-8"}  # fmt: skip
    )
    sys.path[:] = [work, *State.base_sys_path]
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8")
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8")
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(
        io.BufferedWriter(io.FileIO(2, "w", closefd=False)), encoding="utf-8", errors="backslashreplace",
        line_buffering=True,
    )  # fmt: skip
    if "tempfile" in sys.modules:
        sys.modules["tempfile"].tempdir = None
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    atexit._clear()
    # Warm-up: decode a job frame, compile and run a little program.
    sample = marshal.loads(marshal.dumps({"files": {"main.py": b"print(1)\n" * 8}, "limits": {"wall_s": 1.0}}))
    exec(compile("def f(a, b=2):\n    return [a + b, str(a), {'k': (a, b)}]\nr = f(1)\n", "warmup.py", "exec"), dict(sample))


def _run_entry(job: dict, work: str) -> None:
    """Run the entry file as ``__main__`` in this interpreter, exactly as ``python main.py`` would.

    Ends the process: after the entry file (and threads, atexit handlers, flushing), the exit status
    goes to the "done" pipe (see DONE_FD), then the process exits with it.
    """
    import atexit
    import builtins
    import threading
    import traceback
    import types

    entry = job["entry"]
    path = os.path.join(work, entry)
    sys.argv = [entry, *job["argv"]]
    if os.path.dirname(path) != work:
        sys.path[0] = os.path.dirname(path)
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    code = 0
    try:
        source = job["files"][entry]
        job = None  # the job's own data stays reachable only through the files it wrote
        exec(compile(source, path, "exec"), main.__dict__)
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException as exc:
        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next)
        code = 1
    try:
        threading._shutdown()
        atexit._run_exitfuncs()
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException:
        traceback.print_exc()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            code = code or 120
    try:  # the host may return the result now, without waiting for the exit (see DONE_FD)
        cpu = os.times()
        os.write(DONE_FD, struct.pack("<Bd", code & 0xFF, cpu.user + cpu.system + cpu.children_user + cpu.children_system))
    except OSError:
        pass
    os._exit(code)


#: The largest "m" message (one module's marshalled code) the host may send the zygote.
MODULE_MESSAGE_MAX = 1 << 17


class _JobModules:
    """`Job.modules` for the job's imports: code the zygote held already (``None`` in the frame) or
    code that came with the frame, run when the job imports the module, like any module's file."""

    def __init__(self, entries: list):
        self.codes = {name: State.modules[digest] if code is None else marshal.loads(code) for name, digest, code in entries}

    def find_spec(self, name: str, path=None, target=None):
        if path is None and name in self.codes:
            import importlib.util

            return importlib.util.spec_from_loader(name, self, origin=name + ".py")
        return None

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module) -> None:
        exec(self.codes[module.__name__], module.__dict__)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    try:
        print(exc.code, file=sys.stderr)
    except BaseException:
        pass
    return 1


# ----------------------------------------------------------------------------------------------
# Zygote main loop.


def _preload(modules: list[str]) -> None:
    for name in modules:
        try:
            __import__(name)
        except Exception:  # an optional package that is not installed
            pass


def main() -> None:
    config = json.loads(sys.argv[1])
    ctl = socket.socket(fileno=int(config["ctl_fd"]))
    # The host's death ends the zygote through a pidfd on the host process, never through
    # PR_SET_PDEATHSIG: that signal follows the host *thread* that started the zygote, so a
    # zygote started from a worker thread (`Sandbox.map`'s pool) died with that thread.
    State.host_pidfd = _host_pidfd(int(config.get("host_pid", os.getppid())))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    State.uid_base = int(config["uid_base"])
    missing = _seccomp_and_cgroups(bool(config.get("cgroups", True)))
    # What every job's own runner imports (`_prepare_interpreter`, `_run_entry`), whatever the
    # preload list: imported per job they would cost each job ~2.5 ms.
    _preload(["atexit", "io", "threading", "traceback", "types", *config["preload"]])
    here = os.path.dirname(os.path.abspath(__file__))
    State.base_sys_path = [p for p in sys.path if p and p != here]
    try:
        if os.geteuid() != 0:
            _rootfs.enter_user_namespace()
            State.userns = True
            _become_pid_namespace_init()
        unshare(CLONE_NEWNS)
        State.staged = _rootfs.build_root(State.uid_base, config["hidden"], config["extra_ro"], config.get("masked", []), State.userns)
        State.root_built = True
    except OSError as exc:
        how = "run as root or enable unprivileged user namespaces (sysctl user.max_user_namespaces=15000, kernel.unprivileged_userns_clone=1)"
        for layer in ("mountns", "readonly-root", "tmpfs-workdir", "pidns", "netns", "ipcns", "utsns", "userns"):
            missing[layer] = f"{exc}; {how}"
    State.missing = missing
    _empty_bounding_set()
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, ZYGOTE_NICE)
    import gc

    gc.collect()
    gc.freeze()  # forked jobs never walk (and so never copy) the zygote's objects
    ctl.send(marshal.dumps({"pid": os.getpid(), "missing": missing, "userns": State.userns}))
    try:
        _serve(ctl, max(1, int(config.get("warm", 2))))
    finally:
        if State.cgroups is not None:
            State.cgroups.close()


def _seccomp_and_cgroups(cgroups: bool) -> dict[str, str]:
    """Compile the seccomp filter and find the cgroup controllers; returns the layers missing."""
    seccomp, cgroups_mod = _sibling("_seccomp"), _sibling("_cgroups")
    missing: dict[str, str] = {}
    State.install_filter = seccomp.install_filter
    try:
        State.seccomp_bpf = seccomp.compile_filter()
    except ImportError:
        missing["seccomp"] = "install pyseccomp (pip install 'thinkgym[sandbox]') and libseccomp2 (apt-get install libseccomp2)"
    except OSError as exc:
        missing["seccomp"] = f"libseccomp refused the filter ({exc}); update libseccomp2"
    layers = ("cgroup-memory", "cgroup-pids", "cgroup-cpu")
    if not cgroups:
        return {**missing, **dict.fromkeys(layers, "disabled by LocalSandbox(cgroups=False)")}
    State.cgroups, why = cgroups_mod.detect_cgroups()
    have = State.cgroups.layers if State.cgroups is not None else frozenset()
    for layer in set(layers) - have:
        missing[layer] = f"{why or 'no writable ' + layer[7:] + ' controller'}; {cgroups_mod.HOW_TO_GET_CGROUPS}"
    return missing


def _host_pidfd(host_pid: int) -> int:
    """A pidfd that becomes readable when the host process ends (-1 without pidfd support)."""
    if os.getppid() != host_pid:
        sys.exit(0)  # the host is gone already
    try:
        return os.pidfd_open(host_pid)
    except (AttributeError, OSError):
        return -1


def _become_pid_namespace_init() -> None:
    """In a user namespace: continue as pid 1 of a pid namespace that namespace owns.

    Only then may the zygote return to its own pid namespace (setns) after giving each job a fresh
    one. The original process stays behind, waits, and exits with the zygote's status.
    """
    unshare(CLONE_NEWPID)
    pid = os.fork()
    if pid:
        signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGTERM))
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
            except InterruptedError:
                continue
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class _Pool:
    """Warm job processes, forked ahead of time and handed to the host; the zygote reaps them.

    Forking and entering namespaces are the slow parts of starting a job, so they happen before the
    job exists, at low priority. Each warm job process is pid 1 of a fresh pid namespace (the zygote
    resets its pid namespace for children after each fork, which allows a fresh one every time).
    The host gets the job's socket, its stdout/stderr and "done" pipes and a pidfd, so it talks to the job
    directly and can kill it race-free; the zygote, as the parent, reaps it and writes the exit
    frame (status, CPU time, OOM kills) into the job's socket. A job owns a slot (cgroup, uid,
    network namespace) until it is reaped, so a slot is reused only after its last job is gone.
    """

    def __init__(self, ctl: socket.socket, wake_r: int, wake_w: int):
        self.ctl, self.wake_r, self.wake_w = ctl, wake_r, wake_w
        self.jobs: dict[int, tuple[int, socket.socket, int]] = {}  # pid -> (slot, its socket, oom count)
        self.free_slots: list[int] = []
        self.next_slot = 0
        self.prepared = (512, 32, 1.0)  # (memory_mb, max_processes, cpus) of the latest job
        self.holders: dict[int, tuple[int, int]] = {}  # slot -> (holder pid, pidfd)
        try:
            self.self_pidfd = os.pidfd_open(os.getpid())
        except (AttributeError, OSError):
            self.self_pidfd = -1

    def _new_pid_namespace_for_children(self) -> bool:
        """Make the next fork pid 1 of a fresh pid namespace."""
        if self.self_pidfd >= 0:  # back to our own namespace first: only then may we unshare again
            _libc.setns(ctypes.c_int(self.self_pidfd), ctypes.c_int(CLONE_NEWPID))
        try:
            unshare(CLONE_NEWPID)
            return True
        except OSError:
            return False

    def _own_pid_namespace_for_children(self) -> None:
        if self.self_pidfd >= 0:
            _libc.setns(ctypes.c_int(self.self_pidfd), ctypes.c_int(CLONE_NEWPID))

    def spawn(self) -> None:
        """Fork one warm job process and hand it to the host."""
        import heapq

        if self.free_slots:
            slot = heapq.heappop(self.free_slots)
        else:
            slot, self.next_slot = self.next_slot, self.next_slot + 1
        oom_before = 0
        if State.cgroups is not None:
            try:
                State.cgroups.ensure_slot(slot)  # made here, so the zygote removes it at the end
                State.cgroups.configure(slot, self.prepared[0] * 1024 * 1024, self.prepared[1], self.prepared[2])
                oom_before = State.cgroups.oom_kills(slot)
            except OSError as exc:
                State.missing["cgroup-memory"] = f"cgroup setup failed: {exc}"
        if slot not in self.holders:
            self._spawn_holder(slot)
        host_end, job_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        done_r, done_w = os.pipe()
        in_pidns = self._new_pid_namespace_for_children()
        pid = os.fork()
        if pid == 0:
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                for fd in (out_r, err_r, done_r, self.wake_r, self.wake_w):
                    os.close(fd)
                host_end.close()
                self.ctl.close()
                for _slot, sock, _oom in self.jobs.values():
                    sock.close()
                _job_child(slot, self.prepared, job_end, out_w, err_w, done_w, self.holders[slot][1], in_pidns)
            except BaseException as exc:  # setup failed: tell the host, never run any code
                with contextlib.suppress(OSError):
                    error = marshal.dumps({"kind": "error", "error": f"{type(exc).__name__}: {exc}"})
                    job_end.sendall(struct.pack("<Q", len(error)) + error)
            finally:
                os._exit(127)
        self._own_pid_namespace_for_children()
        os.close(out_w)
        os.close(err_w)
        os.close(done_w)
        self.jobs[pid] = (slot, job_end, oom_before)
        try:
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            pidfd = -1
        fds = [host_end.fileno(), out_r, err_r, done_r] + ([pidfd] if pidfd >= 0 else [])
        try:
            socket.send_fds(self.ctl, [marshal.dumps((pid, slot, len(State.modules)))], fds)
        finally:
            host_end.close()
            for fd in fds[1:]:
                os.close(fd)

    def _spawn_holder(self, slot: int) -> None:
        """A tiny process that owns the slot's network and UTS namespaces for the zygote's life.

        Creating and destroying a network namespace per job costs more CPU than the rest of a job;
        the jobs of one slot run one after another and can leave nothing in it (no capabilities,
        /proc read-only, sockets die with their processes), so they share one, joined by pidfd.
        """
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(ready_r)
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                self.ctl.close()
                for _slot, sock, _oom in self.jobs.values():
                    sock.close()
                unshare(CLONE_NEWNET | CLONE_NEWUTS)
                socket.sethostname("sandbox")
                os.write(ready_w, b"1")
                os.close(ready_w)
                while True:
                    signal.pause()
            finally:
                os._exit(0)
        os.close(ready_w)
        ok = os.read(ready_r, 1) == b"1"
        os.close(ready_r)
        pidfd = -1
        if ok:
            try:
                pidfd = os.pidfd_open(pid)
            except (AttributeError, OSError):
                pidfd = -1
        if pidfd < 0:  # no pidfd support (or the holder failed): job processes unshare their own
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        self.holders[slot] = (pid, pidfd)

    def reap(self) -> None:
        """Reap ended jobs: write each one's exit frame to the host, free its slot."""
        import heapq

        while True:
            try:
                pid, status, rusage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            job = self.jobs.pop(pid, None)
            if job is not None:
                slot, sock, oom_before = job
                oom = 0
                if State.cgroups is not None:
                    with contextlib.suppress(OSError):
                        oom = State.cgroups.oom_kills(slot) - oom_before
                frame = marshal.dumps({"kind": "exit", "status": status, "oom": oom,
                                       "cpu_s": rusage.ru_utime + rusage.ru_stime})  # fmt: skip
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setblocking(False)
                        sock.send(struct.pack("<Q", len(frame)) + frame)
                    sock.close()
                heapq.heappush(self.free_slots, slot)
            for held_slot, (holder, pidfd) in list(self.holders.items()):
                if holder == pid:  # a holder died: the slot's next job makes a new one
                    if pidfd >= 0:
                        os.close(pidfd)
                    del self.holders[held_slot]

    def stop(self) -> None:
        """Kill every job and holder; the jobs' sockets close without an exit frame (the host then
        runs those jobs again on a new zygote: they did not end on their own)."""
        for _slot, sock, _oom in self.jobs.values():
            sock.close()
        self.jobs = {pid: (slot, None, oom) for pid, (slot, _sock, oom) in self.jobs.items()}
        for holder, _pidfd in self.holders.values():
            with contextlib.suppress(OSError):
                os.kill(holder, signal.SIGKILL)
        for pid in list(self.jobs):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while (self.jobs or self.holders) and time.monotonic() < deadline:
            self.reap()
            time.sleep(0.005)


def _serve(ctl: socket.socket, warm: int) -> None:
    """Hand ``warm`` job processes to the host, then one more each time the host takes one."""
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select(); reaping happens below
    pool = _Pool(ctl, wake_r, wake_w)
    try:
        for _ in range(warm):
            pool.spawn()
        _serve_loop(ctl, pool, wake_r)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the host closed the sandbox while we were handing it a job process
    finally:
        ctl.close()  # first: the host sees EOF, so it restarts us instead of using us again
        pool.stop()


def _serve_loop(ctl: socket.socket, pool: _Pool, wake_r: int) -> None:
    while True:
        pool.reap()
        ready, _, _ = select.select([ctl, wake_r] + ([State.host_pidfd] if State.host_pidfd >= 0 else []), [], [])
        if State.host_pidfd in ready:
            return  # the host process ended
        if wake_r in ready:
            with contextlib.suppress(OSError):
                while os.read(wake_r, 4096):
                    pass
        if ctl not in ready:
            continue
        try:
            msg = ctl.recv(MODULE_MESSAGE_MAX)
        except InterruptedError:
            continue
        if not msg:
            return  # the host closed the sandbox
        if msg[:1] == b"m":  # a module for later jobs: job processes forked from now on hold its code
            digest, code = marshal.loads(msg[1:])
            State.modules[digest] = marshal.loads(code)
        if msg[:1] == b"t":  # the host took a job process: prepare its replacement
            if len(msg) > 1:
                pool.prepared = tuple(marshal.loads(msg[1:]))
            pool.reap()
            pool.spawn()


if __name__ == "__main__":
    main()
