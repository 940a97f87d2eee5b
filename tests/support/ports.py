"""Loopback ports: a free one for a server the test starts, and whether one answers."""

from __future__ import annotations

import socket
import urllib.request


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick; the caller's server binds it next)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    """`url` answers 200 within a second."""
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False
