"""A new task's row, made the same way by the API (an upload or a URL) and by the operator (a
resource applied by hand): the parameter contract's snapshot the run will use, the video, who
made it and for whom. Each caller keeps its own transaction and its own retry of a duplicate."""

from __future__ import annotations

import uuid
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from videoanalysis.params import AnalysisParams
from videoanalysis.tables import Task, TaskOrigin, User


async def create_task(
    owner: User,
    params: AnalysisParams,
    *,
    origin: TaskOrigin,
    video_uri: str,
    video_name: str,
    frames_total: int | None = None,
    callback_url: str | None = None,
    task_id: uuid.UUID | None = None,
    queue: str | None = None,
    dispatch_due_at: datetime | None = None,
    resource_namespace: str | None = None,
    resource_name: str | None = None,
    conn: BaseDBAsyncClient | None = None,
) -> Task:
    """INSERT the PENDING row, through `conn` (inside the caller's transaction) or the default
    connection. `params` has its model set (`AnalysisParams.with_model`); `task_id`: the
    caller's own id (the operator's, derived from the resource), else a random one."""
    return await Task.create(
        id=task_id or uuid.uuid4(),
        owner=owner,
        model=params.model,
        params=params.stored(),
        video_uri=video_uri,
        video_name=video_name,
        frames_total=frames_total,
        callback_url=callback_url,
        origin=origin,
        queue=queue,
        dispatch_due_at=dispatch_due_at,
        resource_namespace=resource_namespace,
        resource_name=resource_name,
        using_db=conn,
    )
