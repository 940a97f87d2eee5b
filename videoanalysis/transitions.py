"""Moving a task through its status machine (`videoanalysis.task_status`) under a lock on its row;
used by the API, the job and the operator alike."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from videoanalysis.clock import db_now
from videoanalysis.tables import Task, TaskShard, WebhookDelivery
from videoanalysis.task_status import TaskStatus, can_move

if TYPE_CHECKING:
    from videoanalysis.lease import Lease


async def transition(
    task_id: uuid.UUID | str,
    status: TaskStatus,
    *,
    error: str | None = None,
    fence: Lease | None = None,
    **fields: Any,
) -> Task | None:
    """Move the task to `status` if the state machine allows it, under a row lock.

    Returns the updated task, or None when the move is not allowed (an ended task stays
    ended: a late RUNNING after CANCELLED is ignored) or the task does not exist.
    Extra keyword arguments are written in the same update (e.g. frames_total=...).
    An ending of a task with a callback URL queues its webhook in the same transaction.
    `fence`: only if that run still holds the task's lease, or its shard's (None otherwise).
    An ending frees the lease, and ends the task's open shards.
    """
    async with in_transaction() as conn:
        task = await Task.filter(id=task_id).using_db(conn).select_for_update().first()
        if task is None or not can_move(TaskStatus(task.status), status):
            return None
        if fence is not None and not await _holds(conn, task, fence):
            return None
        now = await db_now(conn)
        task.status = status
        if status is TaskStatus.RUNNING and task.started_at is None:
            task.started_at = now
        if status.is_final:
            task.finished_at = now
            task.lease_holder = task.lease_expires_at = task.retry_at = None
        if error is not None:
            task.error = error
        for name, value in fields.items():
            setattr(task, name, value)
        await task.save(using_db=conn)
        if status.is_final:  # a sharded task's open shards end with it: their runs are fenced out
            await (
                TaskShard.filter(task_id=task.id, status__in=[TaskStatus.PENDING, TaskStatus.RUNNING])
                .using_db(conn)
                .update(status=status, lease_holder=None, lease_expires_at=None, finished_at=now)
            )
        if status.is_final and task.callback_url:
            await WebhookDelivery.create(task=task, url=task.callback_url, next_attempt_at=now, using_db=conn)
        return task


async def _holds(conn: Any, task: Task, fence: Lease) -> bool:
    """Whether the run of `fence` still holds its lease: the task's, or its shard's (read under
    the task's row lock, which every write of a shard's run takes first)."""
    row: Task | TaskShard | None = task
    if fence.shard is not None:
        row = await TaskShard.filter(task_id=task.id, index=fence.shard).using_db(conn).first()
    return row is not None and (row.lease_attempt, row.lease_holder) == (fence.attempt, fence.holder)
