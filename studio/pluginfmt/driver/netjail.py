"""A plugin process in a network namespace of its own: out only through a proxy.

Between fork and exec the child enters a new user and network namespace (a
network namespace alone when it runs as root and user namespaces are off),
sets its loopback device up, and listens on `127.0.0.1:PROXY_PORT` there. The
listening socket goes back to the parent over a socket pair (SCM_RIGHTS) and is
closed in the child before exec. The parent accepts the plugin's connections on
it from its own namespace, where the outside is reachable: an egress proxy
serves them (`studio/playground/egress_proxy.py`). The plugin sees a loopback
device and nothing else: every other address is unreachable, 127.0.0.1 is its
own, and in the user namespace it holds no capability over the host's network.

No helper process: the namespace is the child's, so the driver's process
group, limits and PR_SET_PDEATHSIG work as without it. `support()` probes once
whether this machine allows it (an unprivileged container often does not).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import struct
import subprocess
import sys
import threading
from dataclasses import dataclass

# Inside the plugin's namespace nothing else listens: any port would do.
PROXY_PORT = 3128
PROXY_URL = f"http://127.0.0.1:{PROXY_PORT}"

_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_CLONE_NEWNET = getattr(os, "CLONE_NEWNET", 0x40000000)
_CLONE_NEWUSER = getattr(os, "CLONE_NEWUSER", 0x10000000)


@dataclass(frozen=True)
class Support:
    """Whether plugin processes can be isolated here, how, and if not why."""

    available: bool
    flags: int = 0
    reason: str = ""

    @property
    def mode(self) -> str:
        if not self.available:
            return "unavailable"
        return "user+net" if self.flags & _CLONE_NEWUSER else "net"


class Jail:
    """One child's namespace: `enter` runs in the child, `listener` in the parent."""

    def __init__(self, flags: int) -> None:
        self.flags = flags
        self._parent, self._child = socket.socketpair()
        # Computed before the fork: the child only makes system calls.
        self._maps = (
            (
                ("setgroups", b"deny"),
                ("uid_map", f"{os.geteuid()} {os.geteuid()} 1".encode()),
                ("gid_map", f"{os.getegid()} {os.getegid()} 1".encode()),
            )
            if flags & _CLONE_NEWUSER
            else ()
        )
        self._ifreq = struct.pack("16sH22x", b"lo", _IFF_UP)

    def enter(self) -> None:
        """In the child, before exec: unshare, set lo up, send the listener back."""
        try:
            self._enter()
        except OSError as error:
            # subprocess only says "Exception occurred in preexec_fn".
            with contextlib.suppress(OSError):
                self._child.send(f"E{error}".encode()[:1000])
            raise

    def _enter(self) -> None:
        os.unshare(self.flags)
        for name, text in self._maps:
            fd = os.open(f"/proc/self/{name}", os.O_WRONLY)
            try:
                os.write(fd, text)
            finally:
                os.close(fd)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as control:
            fcntl.ioctl(control.fileno(), _SIOCSIFFLAGS, self._ifreq)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
            listener.bind(("127.0.0.1", PROXY_PORT))
            listener.listen(64)
            fds = struct.pack("i", listener.fileno())
            self._child.sendmsg([b"L"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])

    def listener(self, timeout: float = 5.0) -> socket.socket:
        """In the parent, after the child exec'd: the socket the plugin connects to."""
        self._parent.settimeout(timeout)
        size = socket.CMSG_SPACE(struct.calcsize("i"))
        _, ancillary, _, _ = self._parent.recvmsg(1, size, socket.MSG_CMSG_CLOEXEC)
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                (fd,) = struct.unpack("i", data[: struct.calcsize("i")])
                return socket.socket(fileno=fd)
        raise OSError("the plugin process sent no listening socket")

    def failure(self) -> str:
        """In the parent, after Popen failed: why the child could not enter."""
        self._parent.setblocking(False)
        try:
            message = self._parent.recv(1000)
        except OSError:
            return ""
        return message[1:].decode(errors="replace") if message[:1] == b"E" else ""

    def close(self) -> None:
        self._parent.close()
        self._child.close()


def close_listener(listener: socket.socket) -> None:
    """Close a jail's listener, waking a thread blocked in accept() on it."""
    with contextlib.suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)
    listener.close()


_lock = threading.Lock()
_support: Support | None = None


def support() -> Support:
    """Probe once (a tiny child per way to try) whether plugins can be isolated."""
    global _support
    with _lock:
        if _support is None:
            _support = _probe()
        return _support


def _probe() -> Support:
    if not sys.platform.startswith("linux") or not hasattr(os, "unshare"):
        return Support(False, reason="network namespaces need Linux and Python 3.12")
    candidates = [_CLONE_NEWUSER | _CLONE_NEWNET]
    if os.geteuid() == 0:
        candidates.append(_CLONE_NEWNET)
    reason = ""
    for flags in candidates:
        try:
            _try(flags)
        except (OSError, subprocess.SubprocessError) as error:
            reason = str(error) or type(error).__name__
            continue
        return Support(True, flags=flags)
    return Support(False, reason=f"cannot create a network namespace ({reason})")


def _try(flags: int) -> None:
    jail = Jail(flags)
    try:
        try:
            child = subprocess.Popen(
                [sys.executable, "-S", "-c", ""],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=jail.enter,
            )
        except subprocess.SubprocessError as error:
            raise OSError(jail.failure() or str(error)) from None
        try:
            with jail.listener(timeout=5) as listener:
                if listener.getsockname() != ("127.0.0.1", PROXY_PORT):
                    raise OSError("the namespace's listener is not on loopback")
        finally:
            child.wait(timeout=10)
    finally:
        jail.close()
