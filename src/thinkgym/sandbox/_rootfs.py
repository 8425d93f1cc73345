"""The minimal root filesystem the local sandbox's zygote pivots into, and the syscalls it needs.

Loaded by path by `thinkgym.sandbox._zygote` (never as part of the thinkgym package, whose sources
the zygote hides). `build_root` enters a private mount namespace, builds a read-only root on a tmpfs
(``/usr`` and the Python prefixes bound read-only, a fake ``/etc``, a few ``/dev`` nodes, benchmark
data masked, the thinkgym sources absent) and pivots into it, so nothing forked afterwards sees the
host's filesystem. Python 3.11 has no os.unshare / mount / pivot_root: a thin ctypes layer does it.
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys

_libc = ctypes.CDLL(None, use_errno=True)
_ul = ctypes.c_ulong

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_MOVE, MS_REC, MS_PRIVATE, MS_RELATIME = 8192, 16384, 1 << 18, 1 << 21
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(os.uname().machine)
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}.get(os.uname().machine)

NS_LAYERS = {
    "mountns": CLONE_NEWNS,
    "netns": CLONE_NEWNET,
    "pidns": CLONE_NEWPID,
    "ipcns": CLONE_NEWIPC,
    "utsns": CLONE_NEWUTS,
}

SANDBOX = "/sandbox"
WORK = "/sandbox/work"
STAGED = "/.staged"  # in the sandbox root: host dirs that live under the job's own /tmp


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), f"unshare({flags:#x})")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = (lambda s: s.encode() if s is not None else None)  # noqa: E731
    ret = _libc.mount(enc(source), enc(target), enc(fstype), _ul(flags), enc(data))
    _check(ret, f"mount({source!r}, {target!r}, {fstype!r})")


def umount(target: str, flags: int = MNT_DETACH) -> None:
    _check(_libc.umount2(target.encode(), ctypes.c_int(flags)), f"umount({target!r})")


def prctl(option: int, arg: int) -> None:
    _check(_libc.prctl(ctypes.c_int(option), _ul(arg), _ul(0), _ul(0), _ul(0)), f"prctl({option})")


def drop_capabilities() -> None:
    """Clear every capability of this process (used inside a user namespace, where we are root)."""
    if _SYS_CAPSET is None:
        raise OSError(errno.ENOSYS, "capset: unknown architecture")
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable x 2 words, all zero
    _check(_libc.syscall(_ul(_SYS_CAPSET), header, data), "capset")


def _kept_flags(path: str) -> int:
    """Mount flags of ``path`` a bind remount must keep (they are locked inside a user namespace)."""
    st = os.statvfs(path).f_flag
    flags = 0
    for st_bit, ms_bit in ((2, MS_NOSUID), (4, MS_NODEV), (8, MS_NOEXEC), (1024, MS_NOATIME),
                           (2048, MS_NODIRATIME), (4096, MS_RELATIME)):  # fmt: skip
        if st & st_bit:
            flags |= ms_bit
    return flags


def _bind(src: str, root: str, *, readonly: bool = True, device: bool = False) -> None:
    dst = root + src
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, "a").close()
    flags = _kept_flags(src) | MS_NOSUID | (0 if device else MS_NODEV) | (MS_RDONLY if readonly else 0)
    mount(src, dst, None, MS_BIND | MS_REC)
    mount(None, dst, None, MS_BIND | MS_REMOUNT | flags)


def _write_file(path: str, text: str | bytes, mode: int = 0o644) -> None:
    data = text.encode() if isinstance(text, str) else text
    with open(path, "wb") as fh:
        fh.write(data)
    os.chmod(path, mode)


def _fake_etc(root: str, uid_base: int) -> None:
    etc = root + "/etc"
    os.makedirs(etc, exist_ok=True)
    users = ["root:x:0:0:root:/root:/usr/sbin/nologin", "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin"]
    users += [f"sandbox{i}:x:{uid_base + i}:{uid_base + i}:sandbox:{WORK}:/usr/sbin/nologin" for i in range(256)]
    groups = ["root:x:0:", "nogroup:x:65534:"] + [f"sandbox{i}:x:{uid_base + i}:" for i in range(256)]
    _write_file(etc + "/passwd", "\n".join(users) + "\n")
    _write_file(etc + "/group", "\n".join(groups) + "\n")
    _write_file(etc + "/hostname", "sandbox\n")
    _write_file(etc + "/hosts", "127.0.0.1 localhost sandbox\n::1 localhost\n")
    _write_file(etc + "/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files\n")
    _write_file(etc + "/resolv.conf", "")
    for name in ("ld.so.cache", "localtime", "mime.types"):
        src = "/etc/" + name
        if os.path.isfile(src):
            with open(src, "rb") as fh:
                _write_file(etc + "/" + name, fh.read())


def _python_paths(hidden_prefixes: list[str]) -> list[str]:
    """Directories the job's Python needs, without the thinkgym sources (they may hold hidden tests)."""
    wanted = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix)}
    for entry in sys.path:
        if entry and os.path.isdir(entry) and not os.path.exists(os.path.join(entry, "thinkgym", "__init__.py")):
            wanted.add(os.path.realpath(entry))  # (any copy of the thinkgym sources stays hidden)
    hidden = [os.path.realpath(h) for h in hidden_prefixes]
    keep = []
    for path in sorted(wanted):
        if any(path == h or path.startswith(h + "/") for h in hidden):
            continue
        if any(path == k or path.startswith(k + "/") for k in keep):
            continue
        keep.append(path)
    return keep


def build_root(uid_base: int, hidden: list[str], extra_ro: list[str], masked: list[str], userns: bool) -> list[str]:
    """Enter a private mount namespace and pivot into a fresh read-only root (see module doc).

    Returns the host directories under /tmp that each job gets bound into its own /tmp (a Python
    that lives under /tmp, as in CI, is staged in the root and shown at its own path in each job).
    """
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    sources = [p for p in _python_paths(hidden) + list(extra_ro) if not p.startswith("/usr/") and os.path.exists(p)]
    # The new root is a tmpfs over an existing directory that no bind source lives under; the
    # mount hides that directory in our namespace only.
    root = next(c for c in ("/tmp", "/mnt", "/srv", "/media", "/opt", "/var", "/home")
                if os.path.isdir(c) and not os.path.islink(c) and not any(p.startswith(c + "/") for p in sources))  # fmt: skip
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=755")
    for path in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(path):
            os.symlink(os.readlink(path), root + path)
        elif os.path.isdir(path):
            _bind(path, root)
    staged = [p for p in sources if p == "/tmp" or p.startswith("/tmp/")]
    for path in sources:
        _bind(path, root + STAGED if path in staged else root)
    _mask(root, masked)
    _fake_etc(root, uid_base)
    _devices_and_links(root)
    for path in ("/proc", SANDBOX, "/root", "/home"):
        os.makedirs(root + path, exist_ok=True)
    if userns:  # a new procfs may only be mounted where a full one is already visible
        mount("/proc", root + "/proc", None, MS_BIND | MS_REC)
    _pivot(root)
    return staged


def _mask(root: str, masked: list[str]) -> None:
    """Benchmark data with the tests: present on the host, empty inside (staged copies too)."""
    for path in masked:
        path = os.path.realpath(path)
        for inside in (root + path, root + STAGED + path):
            if not os.path.exists(inside):
                continue
            if os.path.isdir(path):
                mount("tmpfs", inside, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "size=4k,mode=555")
            else:
                mount("/dev/null", inside, None, MS_BIND)


def _devices_and_links(root: str) -> None:
    os.makedirs(root + "/dev", exist_ok=True)
    for node in ("null", "zero", "full", "random", "urandom"):
        if os.path.exists("/dev/" + node):
            _bind("/dev/" + node, root, readonly=False, device=True)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2"), ("shm", SANDBOX + "/shm")):  # fmt: skip
        os.symlink(target, f"{root}/dev/{name}")
    os.symlink(SANDBOX + "/tmp", root + "/tmp")
    os.makedirs(root + "/var", exist_ok=True)
    if not os.path.lexists(root + "/var/tmp"):  # unless the caller showed a host dir under it
        os.symlink(SANDBOX + "/tmp", root + "/var/tmp")


def _pivot(root: str) -> None:
    """Make ``root`` the root of this mount namespace, read-only, the old one detached."""
    os.chdir(root)
    os.makedirs(".oldroot", exist_ok=True)
    if _SYS_PIVOT_ROOT is not None and _libc.syscall(_ul(_SYS_PIVOT_ROOT), b".", b".oldroot") == 0:
        os.chdir("/")
        umount("/.oldroot")
        os.rmdir("/.oldroot")
    else:  # rootfs that cannot be pivoted (initramfs): move the new root over / and chroot
        os.rmdir(".oldroot")
        mount(root, "/", None, MS_MOVE)
        os.chroot(".")
        os.chdir("/")
    mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def enter_user_namespace() -> None:
    """Not root: become root of a new user namespace so mounts and namespaces are permitted."""
    uid, gid = os.getuid(), os.getgid()
    unshare(CLONE_NEWUSER)
    with open("/proc/self/setgroups", "w") as fh:
        fh.write("deny")
    with open("/proc/self/uid_map", "w") as fh:
        fh.write(f"0 {uid} 1")
    with open("/proc/self/gid_map", "w") as fh:
        fh.write(f"0 {gid} 1")


