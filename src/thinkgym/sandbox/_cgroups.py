"""The cgroup layer of the local sandbox: one memory+pids+cpu cgroup per concurrency slot.

Cgroups are made *inside the zygote's own cgroup* (``<own>/thinkgym-<pid>/slot-<n>``), so they nest
under whatever limits the caller already lives in, and are removed when the zygote stops. Slots are
reused job after job: creating and removing a memory cgroup per job would cost more than the job.
Works with cgroup v1 (``memory``, ``pids`` and ``cpu`` hierarchies) and v2 (a subtree where the
controllers can be enabled). The ``cpu`` controller bounds a job to `Limits.cpus` CPUs' worth of
time (a CFS quota per period), however many threads or processes it runs; it is optional (the
layer ``cgroup-cpu`` is reported only where it is in force). Everything is opened by directory fd,
so it keeps working after the zygote has pivoted into the sandbox root where ``/sys`` is absent.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from dataclasses import dataclass, field

__all__ = ["CgroupSet", "detect_cgroups", "HOW_TO_GET_CGROUPS", "CPU_PERIOD_US"]

#: The CFS period of a slot's CPU quota: a job may use ``cpus * CPU_PERIOD_US`` of CPU time in each.
CPU_PERIOD_US = 100_000

HOW_TO_GET_CGROUPS = (
    "make the memory and pids cgroup controllers writable for this user: run as root with cgroup v1 "
    "memory+pids hierarchies or cgroup v2 mounted, or start under a delegated v2 subtree "
    "(e.g. `systemd-run --user --scope -p Delegate=yes ...`)"
)


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(mount root, mount point, fs type, super options) of each cgroup mount."""
    found = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            left, _, right = line.partition(" - ")
            parts, rparts = left.split(), right.split()
            if len(rparts) < 3 or rparts[0] not in ("cgroup", "cgroup2"):
                continue
            found.append((parts[3], parts[4], rparts[0], set(rparts[2].split(","))))
    return found


def _own_paths() -> dict[str, str]:
    """Controller name (or "" for v2) -> our cgroup path, from /proc/self/cgroup."""
    paths = {}
    with open("/proc/self/cgroup") as fh:
        for line in fh:
            _hid, controllers, path = line.rstrip("\n").split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                paths[name] = path
    return paths


def _join(mount_root: str, mount_point: str, path: str) -> str:
    if mount_root != "/" and (path == mount_root or path.startswith(mount_root + "/")):
        path = path[len(mount_root) :]
    return mount_point.rstrip("/") + "/" + path.strip("/")


def _write(dir_fd: int, name: str, value: str) -> None:
    fd = os.open(name, os.O_WRONLY, dir_fd=dir_fd)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _read(dir_fd: int, name: str) -> str:
    fd = os.open(name, os.O_RDONLY, dir_fd=dir_fd)
    try:
        return os.read(fd, 65536).decode()
    finally:
        os.close(fd)


def _sweep_stale(base: str) -> None:
    """Remove ``thinkgym-<pid>`` trees whose zygote is gone (a previous run that was killed)."""
    with contextlib.suppress(OSError):
        for name in os.listdir(base):
            if not name.startswith("thinkgym-"):
                continue
            pid = name.removeprefix("thinkgym-")
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                top = os.path.join(base, name)
                with contextlib.suppress(OSError):
                    for slot in os.listdir(top):
                        if os.path.isdir(os.path.join(top, slot)):
                            os.rmdir(os.path.join(top, slot))
                    os.rmdir(top)


@dataclass
class _Hierarchy:
    """One place where we make slot cgroups: a v1 controller hierarchy or the v2 tree."""

    kind: str  # "memory", "pids", "cpu" (v1) or "v2"
    top_fd: int  # our thinkgym-<pid> directory
    slot_fds: dict[int, int] = field(default_factory=dict)

    def slot_fd(self, slot: int) -> int:
        fd = self.slot_fds.get(slot)
        if fd is None:
            name = f"slot-{slot}"
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o755, dir_fd=self.top_fd)
            fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=self.top_fd)
            self.slot_fds[slot] = fd
        return fd


@dataclass
class CgroupSet:
    """The cgroup hierarchies we can write, and the per-slot operations the zygote needs."""

    hierarchies: list[_Hierarchy]
    layers: frozenset[str]  # "cgroup-memory", "cgroup-pids", "cgroup-cpu"

    def ensure_slot(self, slot: int) -> None:
        """Create the slot's cgroups (in the zygote, which owns and later removes them)."""
        for h in self.hierarchies:
            h.slot_fd(slot)

    def configure(self, slot: int, memory_bytes: int, max_processes: int, cpus: float = 1.0) -> None:
        """Set the slot's limits for the next job (called before the job joins)."""
        quota = max(1000, int(cpus * CPU_PERIOD_US))
        for h in self.hierarchies:
            fd = h.slot_fd(slot)
            if h.kind == "memory":
                _write(fd, "memory.limit_in_bytes", str(memory_bytes))
            elif h.kind == "pids":
                _write(fd, "pids.max", str(max_processes))
            elif h.kind == "cpu":
                _write(fd, "cpu.cfs_period_us", str(CPU_PERIOD_US))
                _write(fd, "cpu.cfs_quota_us", str(quota))
            else:
                _write(fd, "memory.max", str(memory_bytes))
                with contextlib.suppress(OSError):
                    _write(fd, "memory.swap.max", "0")
                _write(fd, "pids.max", str(max_processes))
                if "cgroup-cpu" in self.layers:
                    _write(fd, "cpu.max", f"{quota} {CPU_PERIOD_US}")

    def procs_fds(self, slot: int) -> list[int]:
        """Fresh write fds on each hierarchy's ``cgroup.procs``; the job writes "0" to join."""
        return [os.open("cgroup.procs", os.O_WRONLY, dir_fd=h.slot_fd(slot)) for h in self.hierarchies]

    def oom_kills(self, slot: int) -> int:
        """How many processes the kernel OOM killer has killed in this slot so far."""
        for h in self.hierarchies:
            name = {"memory": "memory.oom_control", "v2": "memory.events"}.get(h.kind)
            if name is None:
                continue
            for line in _read(h.slot_fd(slot), name).splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        return 0

    def _procs(self, fd: int) -> list[int]:
        with contextlib.suppress(OSError):
            return [int(p) for p in _read(fd, "cgroup.procs").split()]
        return []

    def close(self) -> None:
        """Kill anything left in our slots and remove every cgroup we made."""
        for h in self.hierarchies:
            for slot, fd in list(h.slot_fds.items()):
                for _ in range(50):
                    pids = self._procs(fd)
                    if not pids:
                        break
                    for pid in pids:
                        with contextlib.suppress(OSError):
                            os.kill(pid, signal.SIGKILL)
                    time.sleep(0.01)
                os.close(fd)
                for _ in range(50):
                    try:
                        os.rmdir(f"slot-{slot}", dir_fd=h.top_fd)
                        break
                    except OSError as exc:
                        if exc.errno != errno.EBUSY:
                            break
                        time.sleep(0.01)
            h.slot_fds.clear()
        for h in self.hierarchies:
            top = h.top_fd
            h.top_fd = -1
            if top >= 0:
                parent = os.open("..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=top)
                os.close(top)
                with contextlib.suppress(OSError):
                    os.rmdir(f"thinkgym-{os.getpid()}", dir_fd=parent)
                os.close(parent)
        self.hierarchies = []


def _make_top(base: str) -> int:
    _sweep_stale(base)
    top = os.path.join(base, f"thinkgym-{os.getpid()}")
    with contextlib.suppress(FileExistsError):
        os.mkdir(top, 0o755)
    return os.open(top, os.O_RDONLY | os.O_DIRECTORY)


def detect_cgroups() -> tuple[CgroupSet | None, str]:
    """Find writable memory and pids controllers; returns (set or None, why not)."""
    try:
        mounts, own = _mounts(), _own_paths()
    except OSError as exc:
        return None, f"cannot read /proc/self cgroup info: {exc}"
    hierarchies: list[_Hierarchy] = []
    reasons = []
    v2_cpu = False
    v1 = {c: m for m in mounts if m[2] == "cgroup" for c in ("memory", "pids", "cpu") if c in m[3]}
    for controller in ("memory", "pids", "cpu"):
        mount = v1.get(controller)
        if mount is None or controller not in own:
            continue
        base = _join(mount[0], mount[1], own[controller])
        try:
            hierarchies.append(_Hierarchy(controller, _make_top(base)))
        except OSError as exc:
            reasons.append(f"{controller} cgroup {base} not writable: {exc.strerror}")
    if not hierarchies:
        for root, point, fstype, _ in mounts:
            if fstype != "cgroup2" or "" not in own:
                continue
            base = _join(root, point, own[""])
            try:
                with open(os.path.join(base, "cgroup.controllers")) as fh:
                    available = set(fh.read().split())
                if not {"memory", "pids"} <= available:
                    reasons.append(f"cgroup v2 {base} lacks memory/pids controllers ({sorted(available)})")
                    continue
                wanted = "+memory +pids" + (" +cpu" if "cpu" in available else "")
                with open(os.path.join(base, "cgroup.subtree_control")) as fh:
                    enabled = set(fh.read().split())
                if not {"memory", "pids"} <= enabled or ("cpu" in available and "cpu" not in enabled):
                    with open(os.path.join(base, "cgroup.subtree_control"), "w") as fh:
                        fh.write(wanted)
                top = _make_top(base)
                _write(top, "cgroup.subtree_control", wanted)
                hierarchies.append(_Hierarchy("v2", top))
                v2_cpu = "cpu" in _read(top, "cgroup.subtree_control").split()
                break
            except OSError as exc:
                reasons.append(f"cgroup v2 {base} not usable: {exc.strerror or exc}")
    if not hierarchies:
        return None, "; ".join(reasons) or "no cgroup memory/pids controller mounted"
    kinds = {h.kind for h in hierarchies}
    layers = set()
    if kinds & {"memory", "v2"}:
        layers.add("cgroup-memory")
    if kinds & {"pids", "v2"}:
        layers.add("cgroup-pids")
    if "cpu" in kinds or ("v2" in kinds and v2_cpu):
        layers.add("cgroup-cpu")
    return CgroupSet(hierarchies, frozenset(layers)), "; ".join(reasons)
