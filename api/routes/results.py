"""A task's result, read page by page: status, progress and the detections of its frames in order.

The hot read of a client polling a task: the frames come as raw rows and go to the answer in one
pass of pydantic's core (`STORED_FRAMES`). Owner only, by header or viewer link (`ViewerTask`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Json, TypeAdapter

from api.reads import Prepared, json_text
from api.schemas import DetectedObject, FrameOut, ShardOut, TaskOut, TaskResult, asked_shards
from api.viewer.access import ViewerTask
from videoanalysis.tables import FrameDetections, Task, TaskShard

router = APIRouter(prefix="/tasks", tags=["tasks"])

FRAMES_AFTER = Prepared(
    FrameDetections,
    {"task_id": uuid.UUID, "after": int, "limit": int},
    lambda task_id, after, limit: (
        FrameDetections.filter(task_id=task_id, frame_index__gt=after).order_by("frame_index").limit(limit)
    ),
)


@router.get("/video-analysis-result/{task_id}/", response_model=TaskResult)
async def read_result(
    task: ViewerTask,
    limit: Annotated[int, Query(ge=1, le=1000, description="frames per page")] = 100,
    cursor: Annotated[int | None, Query(ge=0, description="return frames after this frame index")] = None,
) -> dict[str, Any]:
    """Status, progress and one page of detections (frames in order)."""
    rows = await FRAMES_AFTER.rows(task_id=task.id, after=-1 if cursor is None else cursor, limit=limit + 1)
    more = len(rows) > limit
    frames = STORED_FRAMES.validate_python([_frame(r) for r in rows[:limit]])
    # A dict of ready models: the response model takes them as they are and serializes the page
    # in one pass of pydantic's core, where building it in Python cost more than the query.
    parts = await shard_parts(task) if asked_shards(task) > 1 else None
    return {
        **TaskOut.of(task, parts).model_dump(),
        "detections": frames,
        "result": [_best_scores(f) for f in frames],
        "next_cursor": frames[-1].frame if more else None,
    }


async def shard_parts(task: Task) -> list[ShardOut]:
    """Each planned shard's state and progress (none before the plan)."""
    rows = (
        await TaskShard.filter(task_id=task.id)
        .order_by("index")
        .values("index", "status", "frames_done", "frames_total")
    )
    return [ShardOut.model_validate(r) for r in rows]


class _StoredFrame(FrameOut):
    """A frame row as read: `objects` is the column's JSON text, parsed by pydantic's core."""

    objects: Json[list[DetectedObject]]


STORED_FRAMES = TypeAdapter(list[_StoredFrame])


def _frame(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"frame": row["frame_index"], "timestamp": row["timestamp"], "objects": json_text(row["objects"])}


def _best_scores(frame: FrameOut) -> dict[str, float]:
    best: dict[str, float] = {}
    for obj in frame.objects:
        best[obj.label] = max(obj.score, best.get(obj.label, 0.0))
    return best
