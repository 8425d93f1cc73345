"""Length-prefixed frames (with descriptors) over the stream sockets between the host, the zygote
and job processes. Loaded by path in the zygote, which never imports the thinkgym package."""

from __future__ import annotations

import socket
import struct


def send_frame(sock: socket.socket, payload: bytes, fds: tuple[int, ...] = ()) -> None:
    """A length-prefixed frame; ``fds`` travel with its first bytes (see `recv_frame`)."""
    data = struct.pack("<Q", len(payload)) + payload
    if fds:
        sent = sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack(f"{len(fds)}i", *fds))])
        data = data[sent:]
    if data:  # (never an empty send: a quick job may have read the frame, run and gone: EPIPE)
        sock.sendall(data)


def recv_exact(sock: socket.socket, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        chunk = sock.recv(min(size - len(buf), 1 << 20))
        if not chunk:
            raise EOFError("peer closed the sandbox socket")
        buf += chunk
    return bytes(buf)


def recv_fds(sock: socket.socket, bufsize: int, maxfds: int, flags: int = 0) -> tuple[bytes, list[int]]:
    """socket.recv_fds, but honouring ``flags`` (the stdlib's version drops them up to 3.12)."""
    import array

    fds = array.array("i")
    msg, ancdata, _flags, _addr = sock.recvmsg(bufsize, socket.CMSG_LEN(maxfds * fds.itemsize), flags)
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    return msg, list(fds)


def recv_frame(sock: socket.socket, maxfds: int = 0) -> tuple[bytes, list[int]]:
    """A frame from `send_frame`, and up to ``maxfds`` descriptors sent with it."""
    head, fds = recv_fds(sock, 8, maxfds) if maxfds else (b"", [])
    if maxfds and not head:
        raise EOFError("peer closed the sandbox socket")
    head += recv_exact(sock, 8 - len(head))
    (size,) = struct.unpack("<Q", head)
    return recv_exact(sock, size), fds
