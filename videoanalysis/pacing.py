"""Every wait of a blocking HTTP transfer ends: an overall deadline and a minimum rate.

httpx's timeouts are per operation (a connection attempt, each read): a server that sends one
byte just before every read timeout keeps a transfer going for ever. A `Watchdog` thread runs
beside the transfer: the reading thread counts what it receives (`add`), the watchdog samples
that count a few times a second and stops the transfer when the deadline has passed, or cuts
the connection when, once a whole window has passed since the attempt began (the grace:
connection, TLS, first bytes), the bytes of the last window are fewer than the minimum rate
asks (the caller may try a new connection: a stalled one is what resuming is for; the
deadline still holds). It records why and shuts the connection's socket down, which wakes the
blocked read at once.

The socket comes from httpcore's `trace` extension as soon as TCP connects, so a server that
trickles its TLS handshake or its headers is stopped too. The watchdog keeps a duplicate of it:
shutting the duplicate down shuts the connection, and it stays the same connection even after
httpx has closed its own descriptor (no other file that reused the number can be hit).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DOWNLOAD_DEADLINE", "Pace", "Watchdog", "size_text"]

DOWNLOAD_DEADLINE = "the download did not finish within {deadline} s"


@dataclass(frozen=True)
class Pace:
    """`deadline_s` for the whole transfer (every attempt, connections included); `min_rate`
    bytes per second averaged over the last `window_s`, checked once a window has passed since
    an attempt began. `deadline_text` is the reason given at the deadline."""

    deadline_s: float
    min_rate: float
    window_s: float
    deadline_text: str = DOWNLOAD_DEADLINE

    def __post_init__(self) -> None:
        if not (self.deadline_s > 0 and self.min_rate > 0 and self.window_s > 0):
            raise ValueError(f"deadline, minimum rate and window must be positive: {self}")


def size_text(n: float) -> str:
    """12 bytes, 12 KiB, 3.5 MiB, 4 GiB."""
    if n < 1024:
        return f"{n:.0f} bytes" if n != 1 else "1 byte"
    for unit in ("KiB", "MiB", "GiB"):
        n /= 1024
        if n < 1024 or unit == "GiB":
            break
    return f"{n:.3g} {unit}"


class Watchdog:
    """`with Watchdog(pace) as watch:` around the transfer; `begin_attempt()` before each
    request, `trace` as the request's `trace` extension, `add(n)` for each chunk received.

    The deadline is final (`reason`); a connection too slow is cut (`cut`, that attempt's
    only: a stalled connection is what resuming is for, and the next attempt has its grace).
    After a transport error, `why()` and `cut` say whether the watchdog was the cause (a
    connection attempt given the time left times out at the deadline by itself)."""

    def __init__(self, pace: Pace) -> None:
        self.pace = pace
        self.received = 0
        self.reason: str | None = None  # the deadline passed: the transfer is over
        self.cut: str | None = None  # this attempt's connection was too slow
        self._start = time.monotonic()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._samples: deque[tuple[float, int]] = deque()
        self._attempt = self._start
        self._socket: socket.socket | None = None
        self._tick = max(0.01, min(0.25, pace.window_s / 8))
        self._thread = threading.Thread(target=self._watch, name="va-transfer-watchdog", daemon=True)

    def __enter__(self) -> Watchdog:
        self.begin_attempt()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        with self._lock:
            self._release()

    def remaining(self) -> float:
        return self.pace.deadline_s - (time.monotonic() - self._start)

    def why(self) -> str | None:
        """Why the transfer is over (`reason`, or the deadline just passed), or None."""
        if self.reason is None and self.remaining() <= 0.01:
            return self._deadline_text()
        return self.reason

    def begin_attempt(self) -> None:
        """A new connection: its own grace, the rate window starts again."""
        with self._lock:
            self._release()
            self.cut = None
            self._attempt = time.monotonic()
            self._samples = deque([(self._attempt, self.received)])

    def add(self, n: int) -> None:
        self.received += n  # only the reading thread writes it; the watchdog reads

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpcore's trace callback: keep the socket once TCP is connected."""
        if event != "connection.connect_tcp.complete":
            return
        sock = info["return_value"].get_extra_info("socket")
        if sock is None:
            return
        with self._lock:
            self._release()
            self._socket = sock.dup()
            if self.reason is not None or self.cut is not None:  # stopped while connecting
                self._shutdown()

    def _deadline_text(self) -> str:
        return self.pace.deadline_text.format(deadline=f"{self.pace.deadline_s:g}")

    def _watch(self) -> None:
        while not self._done.wait(self._tick):
            now = time.monotonic()
            with self._lock:
                if now - self._start >= self.pace.deadline_s:
                    self.reason = self._deadline_text()
                    self._shutdown()
                    return
                if self.cut is None:
                    self.cut = self._too_slow(now)
                    if self.cut is not None:
                        self._shutdown()

    def _too_slow(self, now: float) -> str | None:
        """The rate rule, under the lock: bytes of the last window, once one has passed."""
        pace, samples = self.pace, self._samples
        samples.append((now, self.received))
        if now - self._attempt < pace.window_s:
            return None  # the grace of this attempt
        cutoff = now - pace.window_s
        while len(samples) > 1 and samples[1][0] <= cutoff:
            samples.popleft()
        got = self.received - samples[0][1]  # since a moment at or a tick before the cutoff
        if got >= pace.min_rate * pace.window_s:
            return None
        return (
            f"the server sent {size_text(got)} in {pace.window_s:g} s, "
            f"below the minimum of {size_text(pace.min_rate)}/s"
        )

    def _shutdown(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):  # already closed by the peer
                self._socket.shutdown(socket.SHUT_RDWR)  # wakes the read blocked on the connection

    def _release(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
