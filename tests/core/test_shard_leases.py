"""The leases of a task in shards: each shard's on its row, the task's own only for the merge, and
no run of the whole video beside the shards."""

from __future__ import annotations

import pytest

from tests.support.job_harness import JobHarness
from videoanalysis.lease import LeaseHeld, ShardDone, TaskStopped, acquire, acquire_shard, release
from videoanalysis.tables import Task, TaskShard
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition

PLAN = {"frames": 20, "shards": [{"index": 0, "start": 0, "end": 10}, {"index": 1, "start": 10, "end": 20}]}


async def sharded_task(harness: JobHarness) -> Task:
    task = await harness.task("none.mp4")
    await Task.filter(id=task.id).update(shard_plan=PLAN, shards=2)
    for i in range(2):
        await TaskShard.create(
            task_id=task.id, index=i, start_frame=10 * i, end_frame=10 * i + 10, preroll_start=0, start_seconds=0.0
        )
    return task


async def test_shards_take_their_own_leases_and_the_task_runs_with_the_first(harness: JobHarness) -> None:
    task = await sharded_task(harness)
    a = await acquire_shard(task.id, 0, "run-a", ttl_s=30)
    b = await acquire_shard(task.id, 1, "run-b", ttl_s=30)
    assert (a.shard, a.attempt, b.shard, b.attempt) == (0, 1, 1, 1)
    assert (await Task.get(id=task.id)).status == TaskStatus.RUNNING
    with pytest.raises(LeaseHeld, match="holds shard 0"):
        await acquire_shard(task.id, 0, "run-c", ttl_s=30)
    await TaskShard.filter(task_id=task.id, index=1).update(status=TaskStatus.SUCCEEDED)
    with pytest.raises(ShardDone):
        await acquire_shard(task.id, 1, "run-c", ttl_s=30)


async def test_a_run_of_the_whole_video_never_runs_beside_the_shards(harness: JobHarness) -> None:
    task = await sharded_task(harness)
    with pytest.raises(LeaseHeld, match="the task runs in shards"):
        await acquire(task.id, "whole", ttl_s=30)
    merge = await acquire(task.id, "merger", ttl_s=30, merge=True)
    assert merge.shard is None
    plain = await harness.task("none.mp4")
    with pytest.raises(LeaseHeld, match="the task has no shards"):
        await acquire(plain.id, "merger", ttl_s=30, merge=True)


async def test_a_shard_waits_for_a_whole_run_that_began_before_the_plan(harness: JobHarness) -> None:
    task = await harness.task("none.mp4")
    whole = await acquire(task.id, "whole", ttl_s=30)  # no plan yet: a run of the whole video
    await Task.filter(id=task.id).update(shard_plan=PLAN, shards=2)
    await TaskShard.create(task_id=task.id, index=0, start_frame=0, end_frame=10, preroll_start=0, start_seconds=0.0)
    with pytest.raises(LeaseHeld, match="run whole analyses the whole task"):
        await acquire_shard(task.id, 0, "run-a", ttl_s=30)
    assert await release(whole)
    assert (await acquire_shard(task.id, 0, "run-a", ttl_s=30)).attempt == 1


async def test_the_tasks_ending_ends_its_open_shards_and_fences_their_runs(harness: JobHarness) -> None:
    task = await sharded_task(harness)
    a = await acquire_shard(task.id, 0, "run-a", ttl_s=30)
    await transition(task.id, TaskStatus.CANCELLED)
    shards = await TaskShard.filter(task_id=task.id).order_by("index")
    assert [(s.status, s.lease_holder) for s in shards] == [(TaskStatus.CANCELLED, None)] * 2
    assert not await a.fenced().update(next_frame=5)
    with pytest.raises(TaskStopped):
        await acquire_shard(task.id, 0, "run-a", ttl_s=30)
