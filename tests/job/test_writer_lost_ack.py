"""A batch whose COMMIT went through but whose acknowledgement was lost (the connection dropped
right after it): the writer retries it, finds the committed position already at the batch's
end and adds nothing more. The task's counters, tracks and position must be those of a run
that was never interrupted: the whole aggregate is compared, not row counts (the frame rows are
upserted, so they could never show a doubled batch)."""

from __future__ import annotations

import json
import subprocess
import sys

import asyncpg
import pytest

from inference_job.writer import LeaseLost, PositionMoved, ResultWriter
from tests.support.job_harness import JobHarness
from tests.support.lost_acks import BATCH, FRAMES, STRIDE, aggregate, lost_acks, tracked_batches, write_all
from tests.support.paths import ROOT
from videoanalysis.lease import acquire
from videoanalysis.tables import Task

WRITES = -(-FRAMES // BATCH)

# COMMITs are counted from 1, retries included: {1} loses the first batch's once; {2, 3, 4}
# loses the second batch's three times in a row; the last set loses some on several batches,
# the last (partial) one included.
LOSSES = {
    "once": {1},
    "three times in a row": {2, 3, 4},
    "on several batches": {1, 3, 4, 6, 8},
}


async def uninterrupted(harness: JobHarness) -> dict:
    task = await harness.task("none.mp4")
    lease = await acquire(task.id, "run-a", ttl_s=30)
    with lost_acks(set()) as acks:
        writer = await write_all(lease)
    assert (acks.commits, acks.lost, writer.writes) == (WRITES, [], WRITES)
    return await aggregate(task.id)


@pytest.mark.parametrize("losses", list(LOSSES.values()), ids=list(LOSSES))
async def test_lost_acknowledgements_add_nothing_twice(harness: JobHarness, losses: set[int]) -> None:
    expected = await uninterrupted(harness)
    task = await harness.task("none.mp4")
    lease = await acquire(task.id, "run-a", ttl_s=30)
    with lost_acks(losses) as acks:
        writer = await write_all(lease)
    assert acks.lost == sorted(losses)  # every chosen COMMIT did go through, then failed
    assert acks.commits == WRITES + len(losses)
    assert (writer.written, writer.writes) == (FRAMES, WRITES)
    assert await aggregate(task.id) == expected
    # what the run committed, spelled out (so the comparison is not between two wrong runs)
    assert expected["frames_done"] == FRAMES and expected["next_frame"] == FRAMES * STRIDE
    assert expected["detections"] == {"cat": 5, "dog": 10, "face": 9, "person": 4}
    assert [(t["track_id"], t["frames_seen"], t["labels"]) for t in expected["tracks"]] == [
        (1, FRAMES, {"cat": 5, "face": 9}),
        (2, FRAMES - 4, {"dog": 10}),
    ]
    assert expected["objects"] == {"dog": 1, "face": 1}
    assert len(expected["frames"]) == FRAMES


async def test_a_lost_acknowledgement_then_a_takeover_is_a_lost_lease(harness: JobHarness, db: str) -> None:
    """The first batch committed, its acknowledgement was lost, and another run took the lease
    before the retry: the retry is fenced (the position alone does not make it ours)."""
    task = await harness.task("none.mp4")
    lease = await acquire(task.id, "run-a", ttl_s=30)

    async def take_over() -> None:
        other = await asyncpg.connect(db)
        try:
            await other.execute(
                "UPDATE tasks SET lease_attempt = lease_attempt + 1, lease_holder = 'run-b' WHERE id = $1", task.id
            )
        finally:
            await other.close()

    with lost_acks({1}) as acks:
        acks.then = take_over
        with pytest.raises(LeaseLost, match="run-b") as raised:
            await write_all(lease)
    assert not isinstance(raised.value, PositionMoved)
    row = await Task.get(id=task.id)
    assert (row.next_frame, row.frames_done, row.detections["face"]) == (BATCH * STRIDE, BATCH, 2)


async def test_a_position_moved_by_someone_else_stops_the_run_as_fenced(harness: JobHarness) -> None:
    """The committed position is neither where the batch starts nor where it ends: the batch is
    not written (nothing is added) and the run stops as a fenced one does."""
    task = await harness.task("none.mp4")
    writer = ResultWriter(
        await acquire(task.id, "run-a", ttl_s=30),
        stride=STRIDE,
        batch_frames=BATCH,
        progress_interval_s=60,
        tracking=True,
    )
    first, second, *_ = tracked_batches()
    await writer.add(first)
    await writer._wait_inflight()
    before = await aggregate(task.id)
    await Task.filter(id=task.id).update(next_frame=1)  # neither 6 (the start) nor 12 (the end)
    await writer.add(second)
    with pytest.raises(PositionMoved, match="at frame 1, not 6") as raised:
        await writer._wait_inflight()
    assert isinstance(raised.value, LeaseLost)  # the job stops as superseded, writing nothing more
    assert await aggregate(task.id) == {**before, "next_frame": 1}
    assert writer.written == BATCH


# Tortoise binds the models' SQL dialect globally at init: SQLite runs in a process of its own.
SQLITE_LOST_ACKS = """
import asyncio, json, sys
from tests.support.lost_acks import aggregate, lost_acks, write_all
from videoanalysis.db import close_db, init_db
from videoanalysis.lease import acquire
from videoanalysis.tables import Task, User
from videoanalysis.settings import CoreSettings

async def run(user, losses):
    task = await Task.create(owner=user, model="opencv-face", video_uri="file:///v.mp4")
    lease = await acquire(task.id, "run-a", ttl_s=30)
    with lost_acks(losses) as acks:
        writer = await write_all(lease)
    return {"lost": acks.lost, "writes": writer.writes, "aggregate": await aggregate(task.id)}

async def main():
    await init_db(CoreSettings(data_dir=sys.argv[1]))
    user = await User.create(email="acks@example.com", password_hash="-")
    runs = [await run(user, set()), await run(user, set(json.loads(sys.argv[2])))]
    print(json.dumps(runs))
    await close_db()

asyncio.run(main())
"""


def test_lost_acknowledgements_on_sqlite(tmp_path) -> None:
    losses = LOSSES["on several batches"]
    done = subprocess.run(
        [sys.executable, "-c", SQLITE_LOST_ACKS, str(tmp_path), json.dumps(sorted(losses))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    clean, lossy = json.loads(done.stdout)
    assert (clean["lost"], clean["writes"]) == ([], WRITES)
    assert (lossy["lost"], lossy["writes"]) == (sorted(losses), WRITES)
    assert lossy["aggregate"] == clean["aggregate"]
    assert clean["aggregate"]["frames_done"] == FRAMES and len(clean["aggregate"]["tracks"]) == 2
