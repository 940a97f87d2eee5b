"""One lock per VideoAnalysis resource, so its moves run one after the other in this process.

Without it a late Pod event's move (Running, settled from the row the deadline just failed)
could land before the Job's own verdict and show the row's generic reason instead of the
Job's. A lock of this process suffices: one replica runs the handlers
(`va_operator.leadership`), and each move is written at the resourceVersion it read.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator


class ResourceLocks:
    """A registry of asyncio locks keyed by (namespace, name), each kept only while in use."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._users: Counter[tuple[str, str]] = Counter()

    @contextlib.asynccontextmanager
    async def hold(self, namespace: str, name: str) -> AsyncIterator[None]:
        key = (namespace, name)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # nobody waits: forget it (resources come and go)
                del self._users[key], self._locks[key]


#: The operator's one registry: status moves and the progress mirror both take it.
RESOURCE_LOCKS = ResourceLocks()
