"""The seccomp layer of the local sandbox: a syscall filter built once with libseccomp (`pyseccomp`)
and loaded into each job with a single ``seccomp(2)`` call.

Compiling the filter costs far more than loading it, so the zygote compiles it at start-up
(`compile_filter`) and every job only installs the ready BPF program (`install_filter`). The filter
allows everything except calls a test program never needs and an attacker wants: sockets other than
AF_UNIX (no network even if a namespace were missing), ptrace and cross-process memory access,
mount and namespace changes, kernel modules, kexec, bpf, perf, keyrings, io_uring (which bypasses
seccomp), clock setting and reboot. Calls from a foreign ABI (32-bit ``int 0x80``, x32) kill the job.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket

__all__ = ["compile_filter", "install_filter", "DENIED_SYSCALLS"]

#: Denied with EPERM: process inspection, mounts/namespaces, kernel and system administration.
DENIED_SYSCALLS: tuple[str, ...] = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig",
    "fsmount", "fspick", "mount_setattr", "unshare", "setns",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "iopl", "ioperm",
    "bpf", "perf_event_open", "userfaultfd", "fanotify_init", "lookup_dcookie",
    "keyctl", "add_key", "request_key", "open_by_handle_at", "name_to_handle_at",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
)  # fmt: skip

#: clone() flags that would create namespaces (a way around the denied unshare/setns).
_CLONE_NS_FLAGS = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
    0x00000080,  # CLONE_NEWTIME
)

_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_SET_MODE_FILTER = 1
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


_ul = ctypes.c_ulong


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def compile_filter() -> bytes:
    """Build the filter with libseccomp and return the raw BPF program (8 bytes per instruction).

    Raises ImportError when pyseccomp/libseccomp is missing, OSError when libseccomp refuses.
    """
    import pyseccomp as sc

    filt = sc.SyscallFilter(defaction=sc.ALLOW)
    for name in DENIED_SYSCALLS:
        try:
            filt.add_rule(sc.ERRNO(errno.EPERM), name)
        except (OSError, ValueError, RuntimeError):
            continue  # syscall unknown on this architecture / libseccomp version
    # Only AF_UNIX sockets: no network family at all, whatever namespace we are in.
    filt.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
    for flag in _CLONE_NS_FLAGS:
        filt.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    # clone3 passes flags in memory seccomp cannot read: ENOSYS makes libc fall back to clone().
    try:
        filt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    except (OSError, ValueError, RuntimeError):
        pass
    read_fd, write_fd = os.pipe()
    try:
        with os.fdopen(write_fd, "wb", closefd=False) as sink:
            filt.export_bpf(sink)
        os.close(write_fd)
        write_fd = -1
        chunks = []
        while chunk := os.read(read_fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        if write_fd >= 0:
            os.close(write_fd)
    program = b"".join(chunks)
    if not program or len(program) % 8:
        raise OSError(errno.EINVAL, f"libseccomp exported a malformed BPF program ({len(program)} bytes)")
    return program


def install_filter(program: bytes, libc: ctypes.CDLL | None = None) -> None:
    """Set no_new_privs and install the compiled filter on the calling thread (irrevocable)."""
    libc = libc or ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, _ul(1), _ul(0), _ul(0), _ul(0)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(err)}")
    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if libc.prctl(_PR_SET_SECCOMP, _ul(_SECCOMP_MODE_FILTER), ctypes.byref(prog), _ul(0), _ul(0)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_SECCOMP): {os.strerror(err)}")
