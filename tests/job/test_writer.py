"""The batch writer on PostgreSQL: one fenced transaction a batch (rows + committed position +
stage state), cancellation, a lost lease, a dropped connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg
import pytest

from inference_job.pipeline import FrameResult
from inference_job.writer import BUFFERED_BATCHES, LeaseLost, ResultWriter, TaskStopped
from tests.support.database import PG_SERVER
from tests.support.job_harness import JobHarness, frames_of
from videoanalysis.clock import local_now
from videoanalysis.lease import Lease, acquire
from videoanalysis.tables import Task, Track
from videoanalysis.task_status import TaskStatus


def results(start: int, n: int, stride: int = 1) -> list[FrameResult]:
    return [
        FrameResult(i, i / 10, [{"label": "face", "score": 0.5, "box": [0, 0, 1, 1]}])
        for i in range(start, start + n * stride, stride)
    ]


async def leased(harness: JobHarness, holder: str = "run-a") -> tuple[Task, Lease]:
    task = await harness.task("none.mp4")
    return task, await acquire(task.id, holder, ttl_s=30)


async def expire(task: Task) -> None:
    await Task.filter(id=task.id).update(lease_expires_at=local_now() - timedelta(seconds=1))


async def test_each_batch_commits_rows_with_the_position(harness: JobHarness) -> None:
    task, lease = await leased(harness)
    now = [0.0]
    writer = ResultWriter(lease, stride=3, batch_frames=2, progress_interval_s=1.0, clock=lambda: now[0])
    await writer.add(results(0, 2, stride=3))  # frames 0, 3: a full batch
    await writer._wait_inflight()
    row = await Task.get(id=task.id)
    assert (row.next_frame, row.frames_done) == (6, 2)
    await writer.add(results(6, 1, stride=3))  # within the interval: buffered only
    assert (await Task.get(id=task.id)).next_frame == 6
    assert await writer.finish() == 3
    row = await Task.get(id=task.id)
    assert (row.next_frame, row.frames_done, writer.writes) == (9, 3, 2)
    assert [r.frame_index for r in await frames_of(task)] == [0, 3, 6]


@asynccontextmanager
async def row_locked(db: str, task: Task) -> AsyncIterator[None]:
    """Another connection holds the task row's lock: a write's fenced update waits meanwhile."""
    other = await asyncpg.connect(db)
    try:
        async with other.transaction():
            await other.execute("SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", task.id)
            yield
    finally:
        await other.close()


async def test_batches_buffer_behind_a_slow_write_and_go_in_the_next_one(harness: JobHarness, db: str) -> None:
    task, lease = await leased(harness)
    writer = ResultWriter(lease, batch_frames=2, progress_interval_s=60)
    async with row_locked(db, task):
        await writer.add(results(0, 2))  # a full batch: its write starts and waits for the lock
        for start in range(2, 2 * BUFFERED_BATCHES, 2):  # more full batches: buffered, no wait
            await asyncio.wait_for(writer.add(results(start, 2)), timeout=2)
        assert writer.writes == 0 and not await frames_of(task)
    assert await writer.finish() == 2 * BUFFERED_BATCHES
    assert writer.writes == 2  # the waiting batch, then everything buffered behind it in one
    assert [r.frame_index for r in await frames_of(task)] == list(range(2 * BUFFERED_BATCHES))


async def test_a_full_buffer_waits_for_the_write_in_flight(harness: JobHarness, db: str) -> None:
    task, lease = await leased(harness)
    writer = ResultWriter(lease, batch_frames=2, progress_interval_s=60)
    async with row_locked(db, task):
        for start in range(0, 2 * BUFFERED_BATCHES, 2):
            await writer.add(results(start, 2))
        full = asyncio.ensure_future(writer.add(results(2 * BUFFERED_BATCHES, 2)))  # the memory bound
        await asyncio.sleep(0.3)
        assert not full.done()
    await asyncio.wait_for(full, timeout=5)
    assert await writer.finish() == 2 * BUFFERED_BATCHES + 2


async def test_a_rerun_resumes_at_the_committed_frame_with_the_stage_state(harness: JobHarness) -> None:
    task, lease = await leased(harness)
    first = ResultWriter(lease, batch_frames=4, progress_interval_s=60)
    await first.add(results(0, 4), stage_state={"tracks": [{"id": 1, "box": [0, 0, 1, 1]}]})
    await first._wait_inflight()
    await first.add(results(4, 2), stage_state={"tracks": []})  # buffered, then the run dies
    await Task.filter(id=task.id).update(lease_expires_at=local_now())
    again = await acquire(task.id, "run-b", ttl_s=30)
    assert (again.attempt, again.next_frame) == (lease.attempt + 1, 4)
    assert again.stage_state == {"tracks": [{"id": 1, "box": [0, 0, 1, 1]}]}
    second = ResultWriter(again, batch_frames=4, progress_interval_s=60)
    assert second.committed_frames_done == 4
    await second.add(results(4, 4))
    await second.finish()
    assert [r.frame_index for r in await frames_of(task)] == list(range(8))
    assert (await Task.get(id=task.id)).frames_done == 8


async def test_a_run_that_lost_its_lease_writes_nothing(harness: JobHarness) -> None:
    task, lease = await leased(harness)
    old = ResultWriter(lease, batch_frames=2, progress_interval_s=0)
    await old.add(results(0, 2))
    await old._wait_inflight()
    await expire(task)
    new = await acquire(task.id, "run-b", ttl_s=30)
    await old.add(results(2, 2))
    with pytest.raises(LeaseLost, match="run-b"):
        await old._wait_inflight()
    assert [r.frame_index for r in await frames_of(task)] == [0, 1]  # rolled back
    writer = ResultWriter(new, batch_frames=2, progress_interval_s=0)
    await writer.add(results(2, 2))
    await writer.finish()
    row = await Task.get(id=task.id)
    assert (row.next_frame, row.frames_done, row.lease_holder) == (4, 4, "run-b")


async def test_cancellation_is_noticed_at_the_next_write(harness: JobHarness) -> None:
    task, lease = await leased(harness)
    writer = ResultWriter(lease, batch_frames=2, progress_interval_s=0)
    await writer.add(results(0, 2))
    await writer._wait_inflight()
    await Task.filter(id=task.id).update(status=TaskStatus.CANCELLED)
    await writer.add(results(2, 2))
    with pytest.raises(TaskStopped):
        await writer._wait_inflight()
    assert [r.frame_index for r in await frames_of(task)] == [0, 1]


async def test_slow_model_writes_before_a_batch_fills(harness: JobHarness) -> None:
    task, lease = await leased(harness)
    now = [0.0]
    writer = ResultWriter(lease, batch_frames=64, progress_interval_s=1.0, clock=lambda: now[0])
    await writer.add(results(0, 1))  # within the first second: buffered only
    assert (await Task.get(id=task.id)).frames_done == 0
    now[0] = 1.2  # a second has passed with 2 of 64 frames: write them and the position
    await writer.add(results(1, 1))
    await writer._wait_inflight()
    assert (await Task.get(id=task.id)).frames_done == 2
    assert await writer.finish() == 2 and writer.writes == 1  # nothing left to write


async def test_a_dropped_connection_is_retried_not_fatal(harness: JobHarness) -> None:
    task, lease = await leased(harness)
    writer = ResultWriter(lease, batch_frames=2, progress_interval_s=0, retry_delay_s=0.05)
    await writer.add(results(0, 2))
    await writer._wait_inflight()
    admin = await asyncpg.connect(f"{PG_SERVER}/test")
    try:  # every connection of the session database, as a failover would
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            harness.pg_url.rsplit("/", 1)[1],
        )
    finally:
        await admin.close()
    assert killed >= 1
    await writer.add(results(2, 2))
    await writer.finish()
    assert [r.frame_index for r in await frames_of(task)] == [0, 1, 2, 3]
    assert (await Task.get(id=task.id)).next_frame == 4


async def test_label_counters_move_with_the_committed_frames(harness: JobHarness) -> None:
    """Counted in each batch's transaction: a run that dies mid-batch adds nothing for it, and
    the run that takes over adds only what it commits."""
    task, lease = await leased(harness)
    cat = {"label": "cat", "score": 0.9, "box": [0, 0, 1, 1]}
    first = ResultWriter(lease, batch_frames=4, progress_interval_s=60)
    await first.add([*results(0, 3), FrameResult(3, 0.3, [cat, cat])])
    await first._wait_inflight()
    await first.add(results(4, 2))  # buffered, then the run dies
    assert (await Task.get(id=task.id)).detections == {"cat": 2, "face": 3}
    await expire(task)
    second = ResultWriter(await acquire(task.id, "run-b", ttl_s=30), batch_frames=4, progress_interval_s=60)
    await second.add(results(4, 3))
    await second.finish()
    assert (await Task.get(id=task.id)).detections == {"cat": 2, "face": 6}


async def test_a_first_detection_confirmed_after_its_commit_gets_its_id_in_the_confirming_batch(
    harness: JobHarness,
) -> None:
    """Frame 0 holds a new object's first detection (no id yet) and is committed; frame 1
    confirms the track: its batch gives frame 0's detection the id and the track row its first
    sighting, counters unchanged. The same confirmation applied again changes nothing; one
    confirmed while frame 0 is still buffered is given in the buffer."""
    task, lease = await leased(harness)
    box, later = [10.0, 10.0, 50.0, 50.0], [12.0, 10.0, 52.0, 50.0]
    first = {"label": "face", "score": 0.9, "box": box, "track_id": None}
    confirmed = {
        "frame": 0,
        "index": 0,
        "timestamp": 0.0,
        "track_id": 1,
        "object": {k: first[k] for k in ("label", "score", "box")},
    }
    writer = ResultWriter(lease, batch_frames=1, progress_interval_s=60, tracking=True)
    await writer.add([FrameResult(0, 0.0, [first])])
    await writer._wait_inflight()
    assert [r.objects[0]["track_id"] for r in await frames_of(task)] == [None]
    second = {"label": "face", "score": 0.8, "box": later, "track_id": 1}
    await writer.add([FrameResult(1, 0.1, [second], confirmed=[confirmed])])
    await writer.add([FrameResult(2, 0.2, [{**second, "box": [14.0, 10.0, 54.0, 50.0]}], confirmed=[confirmed])])
    await writer.finish()
    assert [r.objects[0]["track_id"] for r in await frames_of(task)] == [1, 1, 1]
    row = await Task.get(id=task.id)
    assert row.detections == {"face": 3} and row.objects == {"face": 1}
    track = await Track.get(task_id=task.id, track_id=1)
    assert (track.first_frame, track.last_frame, track.frames_seen, track.labels) == (0, 2, 3, {"face": 3})
    assert track.best_score == 0.8  # a first detection confirmed in a later batch: counted, not a candidate

    buffered, lease2 = await leased(harness, "run-b")
    writer = ResultWriter(lease2, batch_frames=8, progress_interval_s=60, tracking=True)
    await writer.add([FrameResult(0, 0.0, [dict(first)])])
    await writer.add([FrameResult(1, 0.1, [second], crops={1: b"\xff\xd8jpeg"}, confirmed=[dict(confirmed)])])
    await writer.finish()
    assert [r.objects[0]["track_id"] for r in await frames_of(buffered)] == [1, 1]
    track = await Track.get(task_id=buffered.id, track_id=1)
    assert (track.first_frame, track.frames_seen, track.best_score) == (0, 2, 0.9)
    assert track.thumbnail == b"\xff\xd8jpeg"  # the best has no image of its own: a thumbnail still
