"""A task's tracks: each object the tracker followed, summarised, and its thumbnail.

Owner only, by header or viewer link (`ViewerTask`: others get the task's 404). A running
task's tracks are those of its committed frames so far. Pages are keyed on `track_id`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi import Path as PathParam
from fastapi.responses import Response

from api.viewer.access import ViewerTask
from videoanalysis.tables import Track
from videoanalysis.track_fields import TRACK_FIELDS

router = APIRouter(prefix="/tasks/{task_id}/tracks", tags=["tracks"])

MAX_TRACK_ID = 2**31 - 1


def track_json(values: dict[str, Any]) -> dict[str, Any]:
    out = {k: values[k] for k in TRACK_FIELDS}
    out["mean_box_area"] = round(out["mean_box_area"], 1)
    return out


@router.get("/", summary="The task's tracks, by track id")
async def list_tracks(
    task: ViewerTask,
    label: Annotated[str | None, Query(max_length=100, description="only tracks of this label")] = None,
    min_frames: Annotated[int, Query(ge=1, le=MAX_TRACK_ID, description="only tracks seen in this many frames")] = 1,
    cursor: Annotated[
        str | None, Query(max_length=20, description="`next_cursor` of the previous page (a track id)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    after = 0
    if cursor is not None:
        if not cursor.isdigit() or int(cursor) > MAX_TRACK_ID:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="cursor must be a next_cursor value")
        after = int(cursor)
    query = Track.filter(task_id=task.id, track_id__gt=after, frames_seen__gte=min_frames)
    if label is not None:
        query = query.filter(label=label)
    rows = await query.order_by("track_id").limit(limit + 1).values(*TRACK_FIELDS)
    more = len(rows) > limit
    page = [track_json(r) for r in rows[:limit]]
    return {"tracks": page, "next_cursor": str(page[-1]["track_id"]) if more else None}


@router.get(
    "/{track_id}/thumbnail.jpg",
    summary="The track's best frame cropped around its box (JPEG)",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
async def thumbnail(task: ViewerTask, track_id: Annotated[int, PathParam(ge=1, le=MAX_TRACK_ID)]) -> Response:
    row = await Track.filter(task_id=task.id, track_id=track_id).first().values("thumbnail")
    if row is None or not row["thumbnail"]:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"track {track_id} of task {task.id} has no thumbnail")
    return Response(
        bytes(row["thumbnail"]),
        media_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=60", "X-Content-Type-Options": "nosniff"},
    )
