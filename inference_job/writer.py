"""Writing a task's per-frame detections through Tortoise, in batches.

Idempotent: the run's first transaction deletes whatever an earlier (crashed or retried) run
of the same task wrote, and every insert is an upsert on (task, frame_index). A rerun thus
ends with exactly one row per analysed frame, whatever the earlier run left behind.
Progress (`frames_done`) is written in the same transaction as a batch, at most once per
`progress_interval_s`; that update only matches a RUNNING task, which is how a cancellation
(or any other ending) is noticed without an extra query.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

from tortoise.transactions import in_transaction

from inference_job.counts import add_counts, label_counts
from inference_job.runner import FrameResult
from videoanalysis.models import FrameDetections, Task
from videoanalysis.status import TaskStatus


class TaskStopped(Exception):
    """The task left RUNNING (cancelled, or ended by someone else) while it was analysed."""


class ResultWriter:
    """Buffers results and writes them `batch_frames` at a time, one transaction each.

    A full buffer is written in a background asyncio task, so the write overlaps the next
    batch's inference; at most one write is in flight, which bounds memory.
    """

    def __init__(
        self,
        task_id: uuid.UUID | str,
        *,
        batch_frames: int = 64,
        progress_interval_s: float = 1.0,
        fresh: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`fresh`: delete the task's earlier rows in the first transaction (a new run)."""
        self.task_id = task_id
        self.batch_frames = max(1, batch_frames)
        self.progress_interval_s = progress_interval_s
        self._clock = clock
        self._buffer: list[FrameResult] = []
        self._inflight: asyncio.Task | None = None
        self._first = fresh
        self._written = 0
        self._reported = 0  # frames_done as last written
        self._last_progress = clock()
        self.progress_updates = 0

    @property
    def written(self) -> int:
        return self._written

    async def add(self, results: list[FrameResult]) -> None:
        """Buffer results; write when a batch is full, or when progress is due and no write
        is in flight (so a slow model still reports progress about every interval)."""
        self._buffer.extend(results)
        progress_due = self._clock() - self._last_progress >= self.progress_interval_s and (
            self._inflight is None or self._inflight.done()
        )
        if len(self._buffer) >= self.batch_frames or (self._buffer and progress_due):
            await self._wait_inflight()
            rows, self._buffer = self._buffer, []
            self._inflight = asyncio.create_task(self._write(rows, final=False))

    async def finish(self) -> int:
        """Write what is left (progress included); returns the number of frames written."""
        await self._wait_inflight()
        rows, self._buffer = self._buffer, []
        if rows or self._first or self._reported != self._written:
            await self._write(rows, final=True)
        return self._written

    async def abort(self) -> None:
        """Wait for the write in flight (if any) without raising; nothing more is written."""
        if self._inflight is not None:
            await asyncio.gather(self._inflight, return_exceptions=True)
            self._inflight = None

    async def _wait_inflight(self) -> None:
        if self._inflight is not None:
            task, self._inflight = self._inflight, None
            await task

    async def _write(self, rows: list[FrameResult], *, final: bool) -> None:
        now = self._clock()
        progress = final or now - self._last_progress >= self.progress_interval_s
        async with in_transaction() as conn:
            fresh = self._first
            if self._first:
                await FrameDetections.filter(task_id=self.task_id).using_db(conn).delete()
                self._first = False
            await add_counts(conn, self.task_id, label_counts(r.objects for r in rows), reset=fresh)
            if rows:
                await FrameDetections.bulk_create(
                    [
                        FrameDetections(
                            task_id=self.task_id, frame_index=r.frame_index, timestamp=r.timestamp_s, objects=r.objects
                        )
                        for r in rows
                    ],
                    on_conflict=("task_id", "frame_index"),
                    update_fields=("timestamp", "objects"),
                    using_db=conn,
                )
            if progress:
                done = self._written + len(rows)
                updated = (
                    await Task.filter(id=self.task_id, status=TaskStatus.RUNNING)
                    .using_db(conn)
                    .update(frames_done=done)
                )
                if not updated:
                    raise TaskStopped("the task is no longer running")
        self._written += len(rows)
        if progress:
            self._last_progress = now
            self._reported = self._written
            self.progress_updates += 1
