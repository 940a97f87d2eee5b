"""One writer at a time: the lease a run takes on its task before it writes anything.

Taking the lease bumps `lease_attempt` (the fencing token) under a row lock, so at most one
run holds a given attempt. Every later write of that run (a batch of rows with the committed
position, the heartbeat, the task's ending) only matches the row while its attempt and holder
are still there and the task is RUNNING; a run whose lease expired and was taken over, or
whose task was cancelled, changes nothing. The fenced update takes the row lock first, so a
takeover waits for the batch in flight and then reads the position it committed. Expiries are
stamped and compared with the database's clock (`videoanalysis.clock`), never a run's own.

A task cut into shards has the same lease on each shard's row (`acquire_shard`): the runs of
different shards never fence each other, and the task's own lease is left to the merge that
follows them (`inference_job.merge`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from videoanalysis.clock import db_now
from videoanalysis.tables import Task, TaskShard
from videoanalysis.task_status import TaskStatus, can_move


class TaskStopped(Exception):
    """The task left RUNNING (cancelled, or ended by someone else) while it was analysed."""


class LeaseHeld(Exception):
    """Another live run holds the task's lease."""


class LeaseLost(Exception):
    """This run's lease was taken over by another run: it must stop and write nothing more."""


class ShardDone(Exception):
    """The shard asked for has already been analysed (a retried Pod of a finished index)."""


@dataclass(frozen=True, slots=True)
class Lease:
    """What a run holds: the fencing token and the committed position it resumes from."""

    task_id: uuid.UUID
    attempt: int
    holder: str
    ttl_s: float
    next_frame: int = 0
    stage_state: Any = None
    shard: int | None = None  # the shard's row holds this lease (None: the task's row)

    def fenced(self, conn: BaseDBAsyncClient | None = None) -> QuerySet[Any]:
        """The task's row (or the shard's), only while this run still holds the lease and it runs.
        A shard's row stops running when its task ends (`transitions.transition`)."""
        fence = {"lease_attempt": self.attempt, "lease_holder": self.holder, "status": TaskStatus.RUNNING}
        if self.shard is None:
            query: QuerySet[Any] = Task.filter(id=self.task_id, **fence)
        else:
            query = TaskShard.filter(task_id=self.task_id, index=self.shard, **fence)
        return query.using_db(conn) if conn is not None else query

    def expiry(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.ttl_s)


def is_free(row: Task | TaskShard, holder: str, now: datetime) -> bool:
    return row.lease_holder in (None, holder) or row.lease_expires_at is None or row.lease_expires_at <= now


async def acquire(task_id: uuid.UUID, holder: str, ttl_s: float, *, merge: bool = False) -> Lease:
    """Take the lease of an open task and move it to RUNNING, if the state machine allows that
    move (`can_move`, as for any other move). A task cut into shards gives its own lease only to
    the merge of its shards (`merge`), never to a run of the whole video.

    Raises TaskStopped when the task has ended, LeaseHeld when another run's lease is live (or
    the task is, or is not, in shards against `merge`), LookupError when there is no such task."""
    async with in_transaction() as conn:
        task = await _open_task(conn, task_id)
        if (task.shard_plan is not None) != merge:
            raise LeaseHeld("the task runs in shards" if task.shard_plan is not None else "the task has no shards")
        now = await db_now(conn)
        await _take(conn, task, "the lease", holder, ttl_s, now)
        return Lease(task.id, task.lease_attempt, holder, ttl_s, task.next_frame, task.stage_state)


async def _open_task(conn: BaseDBAsyncClient, task_id: uuid.UUID) -> Task:
    """The task's row, locked, if it may still run."""
    task = await Task.filter(id=task_id).using_db(conn).select_for_update().first()
    if task is None:
        raise LookupError(f"task {task_id} not found")
    if not can_move(TaskStatus(task.status), TaskStatus.RUNNING):
        raise TaskStopped(f"the task is already {task.status}")
    return task


async def _take(
    conn: BaseDBAsyncClient, row: Task | TaskShard, what: str, holder: str, ttl_s: float, now: datetime
) -> None:
    """Take the locked `row`'s lease for `holder` (a new fencing token) and mark it RUNNING."""
    if not is_free(row, holder, now):
        raise LeaseHeld(f"run {row.lease_holder} holds {what} until {row.lease_expires_at:%H:%M:%S}")
    row.lease_attempt += 1
    row.lease_holder = holder
    row.heartbeat_at = now
    row.lease_expires_at = now + timedelta(seconds=ttl_s)
    row.status = TaskStatus.RUNNING
    row.started_at = row.started_at or now
    await row.save(using_db=conn)


async def acquire_shard(task_id: uuid.UUID, index: int, holder: str, ttl_s: float) -> Lease:
    """Take the lease of one shard of an open task, moving the task to RUNNING with its first
    shard. Raises ShardDone for a shard already analysed, and otherwise as `acquire` does."""
    async with in_transaction() as conn:
        # The task's row first: its transitions lock it before its shards' rows too.
        task = await _open_task(conn, task_id)
        shard = await TaskShard.filter(task_id=task_id, index=index).using_db(conn).select_for_update().first()
        if shard is None:
            raise LookupError(f"task {task_id} has no shard {index}")
        if TaskStatus(shard.status) is TaskStatus.SUCCEEDED:
            raise ShardDone(f"shard {index} is already analysed")
        now = await db_now(conn)
        if not is_free(task, holder, now):  # a run of the whole video began before the plan
            raise LeaseHeld(f"run {task.lease_holder} analyses the whole task")
        await _take(conn, shard, f"shard {index}", holder, ttl_s, now)
        if TaskStatus(task.status) is not TaskStatus.RUNNING:
            task.status = TaskStatus.RUNNING
            task.started_at = task.started_at or now
            await task.save(using_db=conn, update_fields=["status", "started_at"])
        return Lease(task.id, shard.lease_attempt, holder, ttl_s, shard.next_frame, shard.stage_state, shard=index)


async def why_fenced(lease: Lease) -> Exception:
    """The reason a fenced write matched nothing: the task ended, or the lease was lost."""
    task = await Task.get_or_none(id=lease.task_id)
    if task is None or TaskStatus(task.status) is not TaskStatus.RUNNING:
        return TaskStopped("the task is no longer running")
    row: Task | TaskShard | None = task
    if lease.shard is not None:
        row = await TaskShard.get_or_none(task_id=lease.task_id, index=lease.shard)
        if row is None or TaskStatus(row.status) is not TaskStatus.RUNNING:
            return TaskStopped(f"shard {lease.shard} is no longer running")
    assert row is not None
    return LeaseLost(f"the lease was taken over by run {row.lease_holder} (attempt {row.lease_attempt})")


async def renew(lease: Lease) -> None:
    """Heartbeat: extend the lease; raises TaskStopped or LeaseLost when it is no longer ours."""
    now = await db_now()
    if not await lease.fenced().update(heartbeat_at=now, lease_expires_at=lease.expiry(now)):
        raise await why_fenced(lease)


async def release(lease: Lease) -> bool:
    """Give the lease back (a graceful stop): the task stays RUNNING and the next run resumes
    at once instead of waiting for the expiry."""
    return bool(await lease.fenced().update(lease_holder=None, lease_expires_at=None))


async def release_holders(holders: list[str]) -> int:
    """Release the leases of runs known to be gone (a dispatcher's own children)."""
    if not holders:
        return 0
    return await Task.filter(lease_holder__in=holders, status=TaskStatus.RUNNING).update(
        lease_holder=None, lease_expires_at=None
    )
