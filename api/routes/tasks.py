"""A caller's tasks: the list, newest first and page by page (opaque cursors), and cancel or
erase one. Submitting is `api.routes.uploads`, reading a result `api.routes.results`."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import Json, TypeAdapter
from tortoise.expressions import Q

from api.deps import CurrentUser, DispatcherDep, OwnedTask, SettingsDep
from api.dispatchers.base import DispatchError
from api.erase import erase_task
from api.reads import Prepared, json_text, json_value
from api.routes.tasks_openapi import ERASED
from api.schemas import TaskOut, TaskPage, task_shards
from videoanalysis.summary import TaskSummary
from videoanalysis.tables import Task
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition

router = APIRouter(prefix="/tasks", tags=["tasks"])


def _encode_cursor(task: TaskOut) -> str:
    return base64.urlsafe_b64encode(f"{task.created_at.isoformat()}|{task.task_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        stamp, _, key = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), uuid.UUID(key)
    except ValueError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="malformed cursor") from None


NEWEST_TASKS = Prepared(
    Task,
    {"owner_id": int, "limit": int},
    lambda owner_id, limit: Task.filter(owner_id=owner_id).order_by("-created_at", "-id").limit(limit),
)


@router.get("/", response_model=TaskPage)
async def list_tasks(
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> TaskPage:
    """The caller's tasks, newest first."""
    if cursor:
        stamp, key = _decode_cursor(cursor)
        query = Task.filter(owner_id=user.id).filter(Q(created_at__lt=stamp) | Q(created_at=stamp, id__lt=key))
        tasks: list[TaskOut] = [TaskOut.of(t) for t in await query.order_by("-created_at", "-id").limit(limit + 1)]
    else:  # the first page, by far the most read: rows to answers in one pass of pydantic's core
        rows = await NEWEST_TASKS.rows(owner_id=user.id, limit=limit + 1)
        tasks = list(STORED_TASKS.validate_python([_task_fields(r) for r in rows]))
    more = len(tasks) > limit
    tasks = tasks[:limit]
    return TaskPage(tasks=tasks, next_cursor=_encode_cursor(tasks[-1]) if more else None)


class _StoredTask(TaskOut):
    """A task row as read: `params` is the column's JSON text, parsed by pydantic's core."""

    params: Json[dict[str, Any]]


STORED_TASKS = TypeAdapter(list[_StoredTask])


def _task_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    status = TaskStatus(row["status"])
    detections, objects = row["detections"], row["objects"]
    return {
        **row,
        "params": json_text(row["params"]),
        "task_id": row["id"],
        "ready": status.is_final,
        "success": status is TaskStatus.SUCCEEDED,
        "summary": TaskSummary.of(
            json_value(detections), json_value(objects), json_value(row["params"]), json_value(row["zone_totals"])
        ),
        "shards": task_shards(json_value(row["params"]), row["shards"], json_value(row["shard_plan"]), None),
    }


@router.delete(
    "/{task_id}/",
    response_model=TaskOut,
    responses=ERASED,
)
async def cancel_task(
    task: OwnedTask,
    dispatcher: DispatcherDep,
    settings: SettingsDep,
    erase: Annotated[bool, Query(description="also erase the video, the results and the task (204)")] = False,
) -> TaskOut | Response:
    """Stop the run and mark the task CANCELLED; a task that has already ended is answered as
    it is (200, repeatable). With `erase=true`: cancel if it runs, then erase its video, rows
    and API-made resource (204)."""
    if erase:
        try:
            await erase_task(task, dispatcher, settings.resolved_videos_dir)
        except DispatchError as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"could not erase: {exc}") from None
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    if TaskStatus(task.status).is_final:
        return TaskOut.of(task)
    try:
        await dispatcher.cancel(task)
    except DispatchError as exc:  # the run may still be going: do not claim it stopped
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"could not cancel: {exc}") from None
    moved = await transition(task.id, TaskStatus.CANCELLED, error="cancelled by the owner")
    if moved is None:  # it ended meanwhile, on its own
        await task.refresh_from_db()
        return TaskOut.of(task)
    return TaskOut.of(moved)
