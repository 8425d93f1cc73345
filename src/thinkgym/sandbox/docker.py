"""The ``docker`` sandbox backend: a warm pool of locked-down, long-lived containers.

Each pool slot is one container (no network, read-only root, tmpfs work dir and /tmp, memory, pids
and CPU cgroup limits, no new privileges, every capability dropped, docker's seccomp profile, a
non-root uid of its own) with a job supervisor (`docker_agent`) started in it by ``exec``. A job is
one fork of that supervisor: files and stdin go in over the exec's stdin, the result comes back on
its stdout; nothing of the job outlives it (processes, work dir, /tmp, /dev/shm, IPC objects, nor
its bytes in the supervisor's memory, which the next job inherits). The job also gets a seccomp
filter of its own on top of docker's profile: sockets of AF_UNIX only (docker lets AF_VSOCK through,
and in a VM that reaches the hypervisor whatever the network), no ptrace, io_uring, userfaultfd.

The wall clock is enforced twice: by the supervisor at ``wall_s``, and from the host, which kills
the whole container when no result arrives ``grace_s`` later. A container is recycled (removed and
replaced) after a job that misbehaved — timed out, ran out of memory, flooded its output, killed
its supervisor, or left something the scrub could not remove — and after ``jobs_per_container``
jobs. Concurrency is the pool size.

``mode="exec"`` starts a fresh supervisor with one ``exec`` per job instead (40-60 ms more per job
here); the default ``"serve"`` keeps one supervisor per container and forks it per job.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import shutil
import signal
import socket
import struct
import threading
import time
import uuid
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from thinkgym.errors import SandboxUnavailableError
from thinkgym.sandbox.base import Job, Sandbox, SandboxResult, stdin_bytes
from thinkgym.sandbox.docker_engine import DEFAULT_IMAGE, SETUP_HINT

__all__ = ["DockerSandbox", "DOCKER_LAYERS"]

#: Layers a docker sandbox puts in force; each is verified per container (inspect + a probe job).
DOCKER_LAYERS = frozenset({
    "container", "netns", "pidns", "mountns", "ipcns", "utsns", "readonly-root", "tmpfs-workdir",
    "cgroup-memory", "cgroup-pids", "cgroup-cpu", "no-new-privileges", "cap-drop-all", "seccomp",
    "non-root", "rlimits",
})

_HOW = {
    "seccomp": "run dockerd with its default seccomp profile (docker info shows seccomp)",
    "cgroup-memory": "enable the memory cgroup controller for dockerd",
    "cgroup-pids": "enable the pids cgroup controller for dockerd",
    "cgroup-cpu": "enable the cpu cgroup controller (CFS quota) for dockerd",
}
_DEFAULT_HOW = f"use a Docker engine that supports it ({SETUP_HINT})"

AGENT_SOURCE = Path(__file__).with_name("docker_agent.py").read_text()
_MAGIC = b"TGJ1"
_HEADER = struct.Struct(">4sI")
_LABEL = "org.thinkgym.sandbox.owner"

# Runs as the first job in every new container: reports the layers in force from the inside.
_PROBE = r"""
import json, os, resource
status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if ":" in l)
found = []
if os.getuid() != 0 and os.getgid() != 0:
    found.append("non-root")
if status.get("NoNewPrivs", "").strip() == "1":
    found.append("no-new-privileges")
if int(status.get("CapEff", "1").strip(), 16) == 0 and int(status.get("CapBnd", "1").strip(), 16) == 0:
    found.append("cap-drop-all")
if status.get("Seccomp", "").strip() == "2":  # docker's profile, plus the job filter on top:
    import socket
    denied = 0
    for family in (socket.AF_INET, 40):  # 40: AF_VSOCK, which no network namespace fences
        try:
            socket.socket(family, socket.SOCK_STREAM).close()
        except OSError as exc:
            denied += exc.errno == 97  # EAFNOSUPPORT, from the job filter
    if denied == 2:
        found.append("seccomp")
ifaces = [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]
if ifaces == ["lo"]:
    found.append("netns")
if os.statvfs("/").f_flag & os.ST_RDONLY:
    found.append("readonly-root")
mounts = [l.split() for l in open("/proc/self/mounts")]
if any(m[1] == "/work" and m[2] == "tmpfs" for m in mounts):
    found.append("tmpfs-workdir")
def read(*paths):
    for p in paths:
        try:
            return open(p).read().split()
        except OSError:
            pass
    return []
mem = read("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max")
if mem and mem[0] != "max" and int(mem[0]) < 1 << 50:
    found.append("cgroup-memory")
pids = read("/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/pids.max")
if pids and pids[0] != "max":
    found.append("cgroup-pids")
quota = read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu.max")
if quota and quota[0] not in ("max", "-1"):
    found.append("cgroup-cpu")
if open("/proc/1/cmdline", "rb").read().split(b"\0")[0].rsplit(b"/", 1)[-1] in (b"docker-init", b"tini"):
    found.append("pidns")
if resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY:
    found.append("rlimits")
print(json.dumps(found))
"""


_MAX_POOL = 64
_instances = itertools.count()


def _fresh_uid_block() -> int:
    """A block of ``_MAX_POOL`` uids no other pool of this host is likely to use.

    Each slot runs its jobs under a uid of its own, so RLIMIT_NPROC (counted per uid, host-wide)
    and ``kill(-1)`` never reach across slots or across sandboxes of other processes.
    """
    return 100_000 + ((os.getpid() % 50_000) * 16 + next(_instances) % 16) * _MAX_POOL


class _SupervisorLost(Exception):
    """The exec stream ended or stalled: the supervisor is dead or hung."""


class _Session:
    """One supervisor exec: a hijacked, multiplexed stream (8-byte frame headers per chunk)."""

    def __init__(self, api: Any, container_id: str, uid: int, once: bool):
        cmd = ["python3", "-I", "-c", AGENT_SOURCE, "--once" if once else "--serve"]
        exec_id = api.exec_create(container_id, cmd, stdin=True, stdout=True, stderr=True,
                                  user=f"{uid}:{uid}", workdir="/work", environment={})["Id"]
        self._response = api.exec_start(exec_id, socket=True)
        self.sock: socket.socket = self._response._sock
        self._raw = bytearray()
        self._out = bytearray()
        self.diagnostics = bytearray()  # the supervisor's own stderr, for error messages

    def send(self, data: bytes) -> None:
        self.sock.settimeout(30)
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise _SupervisorLost(f"cannot send the job: {exc}") from exc

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 20)
        except TimeoutError as exc:
            raise TimeoutError from exc
        except OSError as exc:
            raise _SupervisorLost(str(exc)) from exc
        if not chunk:
            raise _SupervisorLost("the supervisor's stream ended")
        self._raw += chunk
        while len(self._raw) >= 8:
            kind, size = self._raw[0], struct.unpack_from(">I", self._raw, 4)[0]
            if len(self._raw) < 8 + size:
                break
            payload = memoryview(self._raw)[8 : 8 + size]
            if kind == 1:
                self._out += payload
            else:
                self.diagnostics += payload
                del self.diagnostics[:-4000]
            payload.release()
            del self._raw[: 8 + size]  # O(1): bytearray drops a prefix without copying

    def _take(self, n: int, deadline: float) -> bytes:
        while len(self._out) < n:
            self._fill(deadline)
        data = bytes(memoryview(self._out)[:n])
        del self._out[:n]
        return data

    def receive(self, deadline: float) -> tuple[dict, list[bytes]]:
        magic, size = _HEADER.unpack(self._take(_HEADER.size, deadline))
        if magic != _MAGIC:
            raise _SupervisorLost("garbled result frame")
        header = json.loads(self._take(size, deadline))
        blobs = [self._take(n, deadline) for n in header.get("blobs", [])]
        return header, blobs

    def close(self) -> None:
        for thing in (self.sock, self._response):
            try:
                thing.close()
            except Exception:
                pass


#: The CFS period of a container's CPU quota (`Limits.cpus` CPUs' worth of time in each).
_CPU_PERIOD_US = 100_000


@dataclass
class _Slot:
    index: int
    uid: int
    container: Any = None
    session: _Session | None = None
    jobs: int = 0
    layers: frozenset[str] = frozenset()
    broken: str | None = None  # why this slot could not be (re)started
    cpus: float = 0.0  # the container's CPU quota now (set at boot, changed per job by `Limits.cpus`)


def _encode(job: Job) -> bytes:
    """The job frame for the supervisor; raises ValueError on files that would leave the work dir."""
    names, blobs = [], []
    for name, content in {**job.files, **job.module_files()}.items():  # (no module cache here)
        if not isinstance(name, str) or not isinstance(content, (str, bytes, bytearray)):
            raise TypeError(f"job files map str paths to str or bytes, got {type(name).__name__}: {type(content).__name__}")
        norm = os.path.normpath(name)
        if os.path.isabs(norm) or norm in ("", ".", "..") or norm.startswith("../"):
            raise ValueError(f"job file path {name!r} leaves the work dir")
        names.append(norm)
        blobs.append(content.encode() if isinstance(content, str) else bytes(content))
    blobs.append(stdin_bytes(job.stdin))
    limits = job.limits
    header = {
        "files": names, "entry": os.path.normpath(job.entry), "argv": [str(a) for a in job.argv],
        "collect": [str(p) for p in job.collect], "blobs": [len(b) for b in blobs],
        "limits": {"wall_s": limits.wall_s, "cpu_s": limits.cpu_limit_s, "memory_mb": limits.memory_mb,
                   "max_processes": limits.max_processes, "max_output_bytes": limits.max_output_bytes,
                   "max_file_mb": limits.max_file_mb, "max_open_files": limits.max_open_files},
    }
    raw = json.dumps(header).encode()
    return b"".join([_HEADER.pack(_MAGIC, len(raw)), raw, *blobs])


@dataclass
class _Options:
    image: str
    pool_size: int
    jobs_per_container: int
    container_memory_mb: int
    container_pids: int
    cpus: float
    work_mb: int
    tmp_mb: int
    inodes: int
    base_uid: int
    grace_s: float
    once: bool
    labels: dict = field(default_factory=dict)


class DockerSandbox(Sandbox):
    """A warm pool of hardened containers, one job at a time per container.

    ``image`` must provide python3 (see ``Dockerfile``; `docker_engine.ensure_sandbox_image` builds
    it). ``start_engine`` starts dockerd when none runs and we are root; ``prepare_image`` builds the
    default image when it is missing. Raises `SandboxUnavailableError` when no engine can be had.
    """

    name = "docker"
    layers = DOCKER_LAYERS

    def __init__(
        self,
        *,
        image: str = DEFAULT_IMAGE,
        pool_size: int | None = None,
        jobs_per_container: int = 1000,
        container_memory_mb: int = 1024,
        container_pids: int = 256,
        cpus: float = 1.0,
        work_mb: int = 64,
        tmp_mb: int = 64,
        inodes: int = 8192,
        base_uid: int | None = None,
        grace_s: float = 5.0,
        mode: str = "serve",
        start_engine: bool = True,
        prepare_image: bool = True,
        client: Any = None,
        strict: bool = False,
        required_layers: Iterable[str] | None = None,
    ):
        super().__init__(strict=strict, required_layers=required_layers)
        if mode not in ("serve", "exec"):
            raise ValueError(f"mode must be 'serve' or 'exec', not {mode!r}")
        if pool_size is not None and not 1 <= pool_size <= _MAX_POOL:
            raise ValueError(f"pool_size must be between 1 and {_MAX_POOL}")
        from thinkgym.sandbox import docker_engine

        self._client = client if client is not None else docker_engine.engine_client(start=start_engine)
        if prepare_image and image == DEFAULT_IMAGE:
            docker_engine.ensure_sandbox_image(self._client, image)
        elif docker_engine._has_image(self._client, image) is None:
            raise SandboxUnavailableError(f"docker image {image} is missing: build it from src/thinkgym/sandbox/Dockerfile ({SETUP_HINT})")
        self._opts = _Options(
            image=image, pool_size=pool_size or min(_MAX_POOL, max(1, len(os.sched_getaffinity(0)))),
            jobs_per_container=jobs_per_container, container_memory_mb=container_memory_mb,
            container_pids=container_pids, cpus=cpus, work_mb=work_mb, tmp_mb=tmp_mb, inodes=inodes,
            base_uid=base_uid if base_uid is not None else _fresh_uid_block(), grace_s=grace_s, once=mode == "exec",
            labels={_LABEL: f"{socket.gethostname()}:{os.getpid()}"},
        )
        self._idle: queue.Queue[_Slot] = queue.Queue()
        self._slots: list[_Slot] = []
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self._layers: frozenset[str] | None = None
        #: Per-phase times (ms) of the last job as the supervisor measured them, for profiling.
        self.last_phases_ms: dict[str, float] = {}
        _remove_orphans(self._client)
        self._finalizer = weakref.finalize(self, _remove_containers, self._client, self._slots)

    # ------------------------------------------------------------------ pool lifecycle

    def start(self) -> None:
        """Start every container of the pool now (otherwise the first job does)."""
        with self._lock:
            if self._started:
                return
            if self._closed:
                raise SandboxUnavailableError("this DockerSandbox is closed")
            slots = [_Slot(i, self._opts.base_uid + i) for i in range(self._opts.pool_size)]
            threads = [threading.Thread(target=self._boot, args=(slot,)) for slot in slots]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self._slots.extend(slots)
            for slot in slots:
                self._idle.put(slot)
            self._started = True
            alive = [s.layers for s in slots if s.broken is None]
            if not alive:
                raise SandboxUnavailableError(f"no sandbox container could start: {slots[0].broken}")
            self._layers = frozenset.intersection(*alive)

    def _boot(self, slot: _Slot) -> None:
        """(Re)create the slot's container and supervisor, and verify its layers with a probe."""
        self._discard(slot)
        try:
            slot.container = self._create_container(slot)
            slot.cpus = self._opts.cpus
            slot.session = None if self._opts.once else self._open_session(slot)
            slot.jobs = 0
            probe, healthy = self._execute(slot, Job.of(_PROBE))
            if not healthy or probe.exit_code != 0:
                raise RuntimeError(f"probe job failed: {probe.error or probe.stderr[-500:]}")
            slot.layers = frozenset(json.loads(probe.stdout)) | self._inspected_layers(slot.container)
            slot.broken = None
        except Exception as exc:
            slot.broken = f"{type(exc).__name__}: {exc}"
            self._discard(slot)

    def _create_container(self, slot: _Slot) -> Any:
        o = self._opts
        import docker

        return self._client.containers.run(
            o.image, ["sleep", "infinity"], detach=True, init=True, user="65534:65534",
            name=f"thinkgym-sandbox-{os.getpid()}-{slot.index}-{uuid.uuid4().hex[:8]}",
            network_mode="none", read_only=True, ipc_mode="private", hostname="sandbox",
            tmpfs={
                "/work": f"rw,nosuid,nodev,noexec,size={o.work_mb}m,nr_inodes={o.inodes},mode=0700,uid={slot.uid},gid={slot.uid}",
                "/tmp": f"rw,nosuid,nodev,noexec,size={o.tmp_mb}m,nr_inodes={o.inodes},mode=1777",
            },
            shm_size=f"{o.tmp_mb}m", mem_limit=f"{o.container_memory_mb}m",
            memswap_limit=f"{o.container_memory_mb}m", pids_limit=o.container_pids,
            cpu_period=_CPU_PERIOD_US, cpu_quota=int(o.cpus * _CPU_PERIOD_US),
            cap_drop=["ALL"], security_opt=["no-new-privileges"],
            ulimits=[docker.types.Ulimit(name="core", soft=0, hard=0)], environment={},
            labels=o.labels, log_config=docker.types.LogConfig(type="none"),
        )

    def _open_session(self, slot: _Slot) -> _Session:
        return _Session(self._client.api, slot.container.id, slot.uid, once=self._opts.once)

    @staticmethod
    def _inspected_layers(container: Any) -> frozenset[str]:
        container.reload()
        host = container.attrs.get("HostConfig", {})
        found = {"container", "mountns"}
        if host.get("IpcMode") in ("private", ""):
            found.add("ipcns")
        if host.get("UTSMode", "") == "":
            found.add("utsns")
        if host.get("PidMode", "") != "":
            found.discard("pidns")
        return frozenset(found)

    def _discard(self, slot: _Slot) -> None:
        if slot.session is not None:
            slot.session.close()
            slot.session = None
        if slot.container is not None:
            try:
                slot.container.remove(force=True)
            except Exception:
                pass
            slot.container = None

    def close(self) -> None:
        """Remove every container of the pool; safe to call twice."""
        with self._lock:
            self._closed = True
            for slot in self._slots:
                self._discard(slot)
        # the finalizer stays armed: it removes a container a job in flight may still recreate

    @classmethod
    def usable(cls) -> bool:
        """Whether an engine answers here, or could be started (root with dockerd installed)."""
        try:
            import docker  # noqa: F401
        except ImportError:
            return False
        from thinkgym.sandbox import docker_engine

        if docker_engine._connect(timeout=3.0) is not None:
            return True
        return docker_engine._is_root() and shutil.which("dockerd") is not None

    def census(self) -> set[int]:
        """Host pids running in this pool's containers (to prove that nothing outlives a job)."""
        ids = [slot.container.id for slot in list(self._slots) if slot.container is not None]
        if not ids:
            return set()
        pids = set()
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/cgroup") as fh:
                    text = fh.read()
            except OSError:
                continue
            if any(cid in text for cid in ids):
                pids.add(int(name))
        if pids:
            return pids
        for cid in ids:  # an engine on another host: ask it
            try:
                top = self._client.api.top(cid, ps_args="-eo pid")
                pids.update(int(row[0]) for row in top.get("Processes") or [])
            except Exception:
                continue
        return pids

    # ------------------------------------------------------------------ the Sandbox API

    def default_concurrency(self) -> int:
        return self._opts.pool_size

    def available_layers(self) -> frozenset[str]:
        if self._layers is None:
            self.start()
        return self._layers or frozenset()

    def missing_layers(self) -> dict[str, str]:
        have = self.available_layers()
        return {layer: _HOW.get(layer, _DEFAULT_HOW) for layer in self.required_layers - have}

    def run_job(self, job: Job) -> SandboxResult:
        if not isinstance(job, Job):
            raise TypeError(f"run_job takes a Job, not {type(job).__name__}")
        self.start()
        slot = self._idle.get()
        try:
            if self._closed:
                return SandboxResult(exit_code=None, error="this DockerSandbox is closed")
            if slot.broken is not None or slot.container is None:
                self._boot(slot)
                if slot.broken is not None:
                    return SandboxResult(exit_code=None, error=f"sandbox container unavailable: {slot.broken}")
            result, healthy = self._execute(slot, job)
            slot.jobs += 1
            if not healthy or slot.jobs >= self._opts.jobs_per_container:
                self._discard(slot)  # the misbehaving container goes before the result does
                if not self._closed:
                    self._boot(slot)
            return result
        finally:
            self._idle.put(slot)

    def _execute(self, slot: _Slot, job: Job) -> tuple[SandboxResult, bool]:
        """Run one job on the slot; the bool says whether the container may be reused."""
        try:
            frame = _encode(job)
        except ValueError as exc:
            return SandboxResult(exit_code=None, error=str(exc)), True
        if job.limits.cpus != slot.cpus:  # the container's CFS quota is the job's CPU bound
            try:
                slot.container.update(cpu_period=_CPU_PERIOD_US, cpu_quota=int(job.limits.cpus * _CPU_PERIOD_US))
                slot.cpus = job.limits.cpus
            except Exception as exc:
                return SandboxResult(exit_code=None, error=f"cannot set the job's CPU quota: {exc}"), False
        started = time.monotonic()
        session = slot.session
        try:
            if session is None:
                session = self._open_session(slot)
            session.send(frame)
            header, blobs = session.receive(started + job.limits.wall_s + self._opts.grace_s)
        except TimeoutError:
            note = "no result within wall_s + grace; container killed"
            return self._killed(slot, started, timed_out=True, note=note), False
        except _SupervisorLost as exc:
            note = f"the job's supervisor died ({exc}); container recycled"
            return self._killed(slot, started, timed_out=False, note=note, diagnostics=session), False
        finally:
            if self._opts.once and session is not None:
                session.close()
        self.last_phases_ms = header.get("phases_ms", {})
        if "error" in header:
            return SandboxResult(exit_code=None, error=f"sandbox supervisor failed: {header['error']}",
                                 isolation=slot.layers, wall_s=time.monotonic() - started), False
        files = dict(zip(header.get("files", []), blobs[2:], strict=False))
        result = SandboxResult(
            exit_code=header["exit_code"],
            stdout=blobs[0].decode("utf-8", "replace"),
            stderr=blobs[1].decode("utf-8", "replace"),
            timed_out=bool(header["timed_out"]),
            out_of_memory=bool(header["out_of_memory"]),
            wall_s=float(header["wall_s"]),
            cpu_s=float(header["cpu_s"]),
            isolation=slot.layers,
            stdout_truncated=bool(header["stdout_truncated"]),
            stderr_truncated=bool(header["stderr_truncated"]),
            signal=header["signal"],
            files=files,
        )
        misbehaved = result.timed_out or result.out_of_memory or header.get("output_capped") or not header.get("clean")
        return result, not misbehaved

    def _killed(self, slot: _Slot, started: float, *, timed_out: bool, note: str,
                diagnostics: _Session | None = None) -> SandboxResult:
        """The result of a job whose container had to be killed from outside (it is recycled next)."""
        extra = ""
        if diagnostics is not None and diagnostics.diagnostics:
            extra = "\n" + diagnostics.diagnostics.decode("utf-8", "replace")[-500:]
        return SandboxResult(
            exit_code=None, stderr=f"[thinkgym docker sandbox: {note}]{extra}", timed_out=timed_out,
            wall_s=time.monotonic() - started, signal=int(signal.SIGKILL), isolation=slot.layers,
        )


def _remove_containers(client: Any, slots: list[_Slot]) -> None:
    for slot in slots:
        if slot.container is not None:
            try:
                slot.container.remove(force=True)
            except Exception:
                pass


def _remove_orphans(client: Any) -> None:
    """Remove sandbox containers left by processes of this host that no longer exist."""
    host = socket.gethostname()
    try:
        containers = client.containers.list(all=True, filters={"label": _LABEL})
    except Exception:
        return
    for container in containers:
        owner_host, _, pid = (container.labels or {}).get(_LABEL, "").rpartition(":")
        if owner_host != host or not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
            continue
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        try:
            container.remove(force=True)
        except Exception:
            pass
