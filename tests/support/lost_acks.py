"""Lost commit acknowledgements at the driver boundary, and a task's whole written aggregate.

`lost_acks(...)` wraps the driver so that chosen COMMITs execute (the transaction is durable)
and then fail as a dropped connection would: asyncpg's `ConnectionDoesNotExistError` after the
connection is terminated, or SQLite's transient "database is locked". The writer cannot tell
that from a COMMIT that never arrived, so it retries the batch.

Imported by the PostgreSQL tests and by the SQLite script (a process of its own, as Tortoise
binds the models' SQL dialect at init).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import aiosqlite
import asyncpg

from inference_job.pipeline import FrameResult
from inference_job.writer import ResultWriter
from videoanalysis.lease import Lease
from videoanalysis.tables import FrameDetections, Task, Track

STRIDE = 2
BATCH = 3  # frames a write
FRAMES = 14  # analysed frames: 5 writes, the last one partial


def tracked_batches() -> list[list[FrameResult]]:
    """A tracked video's results, `BATCH` frames a list: track 1 all along with its label vote
    changing, track 2 from the fifth frame, untracked detections now and then, a thumbnail for
    each tracked detection (the best one's is kept). Areas and scores are exact binary numbers,
    so the aggregate compares exactly."""
    frames = []
    for k in range(FRAMES):
        i = k * STRIDE
        objects: list[dict[str, Any]] = [
            {
                "label": "cat" if k % 3 == 0 else "face",
                "score": 0.5 + (k % 5) / 16,
                "box": [k, 0, k + 2 + k % 3, 4],
                "track_id": 1,
            }
        ]
        crops = {1: b"jpeg-1-%d" % i}
        if k >= 4:
            objects.append({"label": "dog", "score": 0.25 + k / 64, "box": [0, 1, 1, 1 + k], "track_id": 2})
            crops[2] = b"jpeg-2-%d" % i
        if k % 4 == 1:
            objects.append({"label": "person", "score": 0.75, "box": [2, 2, 6, 6], "track_id": None})
        frames.append(FrameResult(i, i / 8, objects, crops))
    return [frames[s : s + BATCH] for s in range(0, FRAMES, BATCH)]


async def write_all(lease: Lease, **options: Any) -> ResultWriter:
    """The writer's run over `tracked_batches()`, one write a batch (each waited for, so every
    run splits the frames alike), with the tracker's state after each."""
    writer = ResultWriter(
        lease, stride=STRIDE, batch_frames=BATCH, progress_interval_s=60, retry_delay_s=0, tracking=True, **options
    )
    for batch in tracked_batches():
        await writer.add(batch, stage_state={"tracker": {"after": batch[-1].frame_index}})
        await writer._wait_inflight()
    assert await writer.finish() == FRAMES
    return writer


async def aggregate(task_id: Any) -> dict[str, Any]:
    """Everything the writer keeps for a task: the task's counters and position, every track's
    statistics, every frame row (JSON-ready, for the SQLite script)."""
    task = await Task.get(id=task_id)
    tracks = await Track.filter(task_id=task_id).order_by("track_id")
    rows = await FrameDetections.filter(task_id=task_id).order_by("frame_index")
    return {
        "detections": task.detections,
        "objects": task.objects,
        "frames_done": task.frames_done,
        "next_frame": task.next_frame,
        "stage_state": task.stage_state,
        "tracks": [
            {
                "track_id": t.track_id,
                "label": t.label,
                "labels": t.labels,
                "first_frame": t.first_frame,
                "last_frame": t.last_frame,
                "first_timestamp": t.first_timestamp,
                "last_timestamp": t.last_timestamp,
                "frames_seen": t.frames_seen,
                "best_score": t.best_score,
                "best_frame": t.best_frame,
                "best_box": t.best_box,
                "mean_box_area": t.mean_box_area,
                "thumbnail": bytes(t.thumbnail).decode() if t.thumbnail is not None else None,
            }
            for t in tracks
        ],
        "frames": [[r.frame_index, r.timestamp, r.objects] for r in rows],
    }


@dataclass
class LostAcks:
    """Which COMMITs (1-based, counting every transaction's COMMIT, retries included) lose
    their acknowledgement; `commits` and `lost` count what happened."""

    losses: set[int]
    commits: int = 0
    lost: list[int] = field(default_factory=list)
    #: run after a lost COMMIT, before its error reaches the writer (what happens meanwhile)
    then: Callable[[], Awaitable[None]] | None = None

    async def after_commit(self) -> bool:
        self.commits += 1
        if self.commits not in self.losses:
            return False
        self.lost.append(self.commits)
        if self.then is not None:
            await self.then()
        return True


@contextmanager
def lost_acks(losses: set[int]) -> Iterator[LostAcks]:
    """Within: the chosen COMMITs execute, then fail as transient errors (both drivers)."""
    acks = LostAcks(set(losses))
    pg_execute = asyncpg.connection.Connection.execute
    sqlite_commit = aiosqlite.Connection.commit

    async def execute(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> str:
        status = await pg_execute(self, query, *args, **kwargs)
        if query.strip().rstrip(";").upper() == "COMMIT" and await acks.after_commit():
            self.terminate()  # the server has committed; the client never hears it
            raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")
        return status

    async def commit(self: aiosqlite.Connection) -> None:
        ending = self.in_transaction  # Tortoise also commits before each BEGIN: not a transaction's end
        await sqlite_commit(self)
        if ending and await acks.after_commit():
            raise sqlite3.OperationalError("database is locked")

    asyncpg.connection.Connection.execute = execute
    aiosqlite.Connection.commit = commit  # type: ignore[method-assign]
    try:
        yield acks
    finally:
        asyncpg.connection.Connection.execute = pg_execute
        aiosqlite.Connection.commit = sqlite_commit  # type: ignore[method-assign]
