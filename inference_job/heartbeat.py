"""The run's heartbeat: renews its lease every third of the TTL while the model works, so a
slow batch does not let the lease expire; a lease found lost (or a task found ended) is kept
as the error the pipeline raises at its next step. Progress is not its concern: the run's
watchdog (`watchdog.py`) stops it when the run stalls, so a hung model does not hold the task."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Self

from videoanalysis.db import is_transient_db_error
from videoanalysis.lease import Lease, renew
from videoanalysis.periodic import every

log = logging.getLogger(__name__)


class LoopTask:
    """Runs `_loop()` as a task for the length of an `async with` block, cancelled and awaited
    at its end."""

    task_name = "loop"
    _task: asyncio.Task[None] | None = None

    async def _loop(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._loop(), name=self.task_name)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class Heartbeat(LoopTask):
    task_name = "lease-heartbeat"

    def __init__(self, lease: Lease, interval_s: float | None = None) -> None:
        self.lease = lease
        self.interval_s = interval_s if interval_s is not None else lease.ttl_s / 3
        self.error: BaseException | None = None

    def stop(self) -> None:
        """Renew no more (a stalled run): the lease expires unless the run's ending frees it."""
        if self._task is not None:
            self._task.cancel()

    def check(self) -> None:
        """Raise TaskStopped or LeaseLost if the heartbeat found either."""
        if self.error is not None:
            raise self.error

    async def _loop(self) -> None:
        ended = asyncio.Event()  # the lease lost or the task ended: nothing left to renew

        async def renew_once() -> None:
            try:
                await renew(self.lease)
            except Exception as exc:
                if not is_transient_db_error(exc):
                    self.error = exc
                    ended.set()
                    return
                log.warning("lease heartbeat failed (%s); retrying", exc)  # a blip, not worth a traceback

        await every(
            self.interval_s, renew_once, name="lease heartbeat", logger=log, initial_delay_s=self.interval_s, stop=ended
        )
