"""Writing a task's per-frame detections through Tortoise, in batches, fenced by the run's lease.

Each batch is one transaction: first the fenced update of the task row (committed position
`next_frame`, `frames_done`, the stages' JSON state, the lease's expiry), which takes the row
lock and matches only while this run holds the lease and the task is RUNNING; then the rows,
upserted on (task, frame_index) as plain tuples (`frame_rows`: COPY on PostgreSQL), and the
batch's tracks merged into their rows. While a write is in flight, results keep buffering (up
to `BUFFERED_BATCHES` batches) and go in the next write: a fast model gets fewer, larger
transactions instead of waiting on each one. A crash loses at most the write in flight and the
frames buffered behind it (never committed work), a rerun resumes
from `next_frame` with exactly one row per analysed frame, and a run that lost its lease (or
whose task was cancelled) writes nothing: its transaction is rolled back.
A database connection dropped mid-write (a failover, a killed backend) is retried: the
transaction is atomic, fenced by the lease and by the position the batch starts from. A COMMIT
that went through but whose acknowledgement was lost is found on the retry: the position is
already at the batch's end, so the batch counts as committed and nothing is added again (the
per-label counters and the tracks' statistics are sums, which a second write would double). A
position anywhere else means someone else moved it: the run stops as a fenced one does.

A shard's run (`Lease.shard`) writes the same way on its shard's row, after locking the task's
row (only while the task runs, so a cancel fences every shard at once) and adding its frames
to the task's progress; its pre-roll frames (before `owned_from`) go to `seam_frames` instead of
the results, counters and tracks.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from inference_job.counts import add_counts, label_counts
from inference_job.event_rows import write_events
from inference_job.frame_rows import upsert_frame_rows
from inference_job.pipeline import FrameResult
from inference_job.track_rows import confirm_committed, upsert_tracks
from videoanalysis.clock import db_now
from videoanalysis.db import expire_pooled_connections, is_transient_db_error
from videoanalysis.lease import Lease, LeaseLost, TaskStopped, why_fenced
from videoanalysis.tables import SeamFrame, Task
from videoanalysis.task_status import TaskStatus

__all__ = ["LeaseLost", "PositionMoved", "ResultWriter", "TaskStopped"]

log = logging.getLogger(__name__)
WRITE_TRIES = 5
BUFFERED_BATCHES = 4  # frames buffered behind a write in flight, in batches, before add() waits


class _Fenced(Exception):
    """The fenced update matched nothing (raised inside the transaction to roll it back)."""


class PositionMoved(LeaseLost):
    """The task's committed position is neither where this run's batch starts nor where it
    ends, though the run still holds the lease: something else wrote it. Fenced like a lost
    lease (the job stops, superseded, and writes nothing more)."""


class ResultWriter:
    """Buffers results and writes them `batch_frames` at a time, one transaction each.

    A full buffer is written in a background asyncio task, so the write overlaps the next
    batch's inference; at most one write is in flight, and `add` waits for it only once
    `BUFFERED_BATCHES` batches wait behind it, which bounds memory. A partial buffer is written
    when `progress_interval_s` has passed, so a slow model still shows progress.
    """

    def __init__(
        self,
        lease: Lease,
        *,
        stride: int = 1,
        batch_frames: int = 64,
        progress_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        retry_delay_s: float = 0.5,
        tracking: bool = False,
        owned_from: int = 0,
    ) -> None:
        self.lease = lease
        self.owned_from = owned_from  # frames before it are a shard's pre-roll
        self.tracking = tracking  # the detections carry track ids: keep the tracks table
        self.stride = stride
        self.batch_frames = max(1, batch_frames)
        self.progress_interval_s = progress_interval_s
        self.retry_delay_s = retry_delay_s
        self._clock = clock
        self._buffer: list[FrameResult] = []
        self._state: Any = None  # JSON of the stages' state after the last buffered frame
        self._inflight: asyncio.Task | None = None
        self._written = 0
        self._last_flush = clock()
        # analysed frames owned before the committed position (ceil: frame 0 is analysed)
        self.committed_frames_done = max(0, -(-lease.next_frame // stride) - -(-owned_from // stride))
        self._position = lease.next_frame  # the committed `next_frame`: where the next batch starts
        self.writes = 0

    @property
    def written(self) -> int:
        """Frames committed by this run (a shard's own: its pre-roll is not counted)."""
        return self._written

    async def add(self, results: list[FrameResult], stage_state: Any = None) -> None:
        """Buffer results (and the stages' state after them: a JSON value, snapshotted now).
        With no write in flight, write when a batch is full or the interval has passed; with
        one in flight, keep buffering until `BUFFERED_BATCHES` batches wait, then wait for it."""
        self._buffer.extend(results)
        _confirm_in_buffer(self._buffer, results)
        if stage_state is not None:
            self._state = json.loads(json.dumps(stage_state))
        if self._inflight is not None and self._inflight.done():
            await self._wait_inflight()  # what a finished write raised (a lost lease) surfaces now
        if not self._buffer:
            return
        due = len(self._buffer) >= self.batch_frames or self._clock() - self._last_flush >= self.progress_interval_s
        if (self._inflight is None and due) or len(self._buffer) >= self.batch_frames * BUFFERED_BATCHES:
            await self._wait_inflight()
            rows, self._buffer = self._buffer, []
            self._inflight = asyncio.create_task(self._write(rows, self._state))

    async def finish(self) -> int:
        """Write what is left; returns the number of frames written by this run."""
        await self._wait_inflight()
        rows, self._buffer = self._buffer, []
        if rows:
            await self._write(rows, self._state)
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

    async def _write(self, rows: list[FrameResult], state: Any) -> None:
        self._last_flush = self._clock()
        # Each attempt runs in a copy of this context: when BEGIN fails on a dropped connection,
        # Tortoise leaves its transaction bound in the context, and a retry in the same context
        # would reuse that dead connection.
        clean = contextvars.copy_context()
        for attempt in range(1, WRITE_TRIES + 1):
            try:
                await asyncio.create_task(self._commit(rows, state), context=clean.copy())
                break
            except _Fenced:
                raise await why_fenced(self.lease) from None
            except PositionMoved:
                raise
            except Exception as exc:
                if attempt == WRITE_TRIES or not is_transient_db_error(exc):
                    raise
                log.warning("batch write failed (%s), retrying (%d/%d)", exc, attempt, WRITE_TRIES)
                await expire_pooled_connections()
                await asyncio.sleep(self.retry_delay_s * attempt)
        self._position = rows[-1].frame_index + self.stride
        self._written += sum(r.frame_index >= self.owned_from for r in rows)
        self.writes += 1

    async def _commit(self, rows: list[FrameResult], state: Any) -> None:
        """One transaction: the fenced position update first (row lock), then the rows.

        The update matches only while the lease holds and the committed position is where the
        batch starts. When it matches nothing and the lease still holds, the position says why:
        at the batch's end, this batch was committed by an earlier attempt whose acknowledgement
        was lost (nothing more is written); anywhere else, `PositionMoved`."""
        start, end = self._position, rows[-1].frame_index + self.stride
        owned = [r for r in rows if r.frame_index >= self.owned_from]
        preroll = rows[: len(rows) - len(owned)]
        async with in_transaction() as conn:
            if self.lease.shard is not None and not await _lock_running_task(conn, self.lease.task_id):
                raise _Fenced()
            now = await db_now(conn)
            position: dict[str, Any] = {
                "next_frame": end,
                "frames_done": self.committed_frames_done + self._written + len(owned),
                "heartbeat_at": now,
                "lease_expires_at": self.lease.expiry(now),
            }
            if state is not None:
                position["stage_state"] = state
            if not await self.lease.fenced(conn).filter(next_frame=start).update(**position):
                at = await self.lease.fenced(conn).values_list("next_frame", flat=True)
                if not at:
                    raise _Fenced()
                if at[0] == end:
                    log.warning("frames %d..%d were committed by an earlier attempt", start, end - self.stride)
                    return
                raise PositionMoved(f"the task's committed position is at frame {at[0]}, not {start} (or {end})")
            if preroll:
                await upsert_seam_frames(conn, self.lease.task_id, self.lease.shard or 0, preroll)
            if not owned:
                return
            if self.lease.shard is not None:
                await (
                    Task.filter(id=self.lease.task_id).using_db(conn).update(frames_done=F("frames_done") + len(owned))
                )
            await upsert_frame_rows(conn, self.lease.task_id, owned)
            # The per-label counters move with the rows: a resumed run adds only what it commits.
            await add_counts(conn, self.lease.task_id, label_counts(r.objects for r in owned), reset=False)
            if self.tracking:
                await upsert_tracks(conn, self.lease.task_id, owned)
                late = [c for r in owned for c in r.confirmed if c["frame"] >= self.owned_from]
                await confirm_committed(conn, self.lease.task_id, late)
            await write_events(conn, self.lease.task_id, [e for r in owned for e in r.events])

    async def final_events(self, events: list[dict]) -> None:
        """Events dated at frames already committed (the end of the video closes the zones still
        occupied), in a transaction of their own under the lease, with the zone state emptied
        in the same update: a resumed run finds nobody inside and writes nothing twice."""
        if not events:
            return
        state = self._state if self._state is not None else self.lease.stage_state
        closed = {**(state if isinstance(state, dict) else {}), "zones": {"tracks": {}}}
        async with in_transaction() as conn:
            now = await db_now(conn)
            if not await self.lease.fenced(conn).update(heartbeat_at=now, stage_state=closed):
                raise await why_fenced(self.lease)
            await write_events(conn, self.lease.task_id, events)


def _confirm_in_buffer(buffer: list[FrameResult], added: list[FrameResult]) -> None:
    """First detections confirmed by the `added` frames whose own frame is still buffered:
    given their id there (and dropped from `confirmed`); the rest are in committed rows, or in
    the write in flight, and are given theirs in the transaction of the frame that confirmed them."""
    if not any(r.confirmed for r in added):
        return
    by_frame = {r.frame_index: r for r in buffer}
    for r in added:
        kept = []
        for c in r.confirmed:
            row = by_frame.get(c["frame"])
            if row is not None and row.objects[c["index"]].get("track_id") is None:
                row.objects[c["index"]]["track_id"] = c["track_id"]
            else:
                kept.append(c)
        r.confirmed[:] = kept


async def _lock_running_task(conn: Any, task_id: Any) -> bool:
    """Lock a sharded task's row for this transaction, if it still runs."""
    # `.first()`: Tortoise leaves FOR UPDATE out of a values_list query
    return (
        await Task.filter(id=task_id, status=TaskStatus.RUNNING).using_db(conn).select_for_update().first() is not None
    )


async def upsert_seam_frames(conn: Any, task_id: Any, shard: int, rows: list[FrameResult]) -> None:
    """A shard's pre-roll frames, as its tracker saw them, for the merge (`inference_job.merge`)."""
    await SeamFrame.bulk_create(
        [SeamFrame(task_id=task_id, shard=shard, frame_index=r.frame_index, objects=r.objects) for r in rows],
        on_conflict=["task_id", "shard", "frame_index"],
        update_fields=["objects"],
        using_db=conn,
    )
