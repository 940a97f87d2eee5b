"""A task's zone and line events: entries, exits and crossings of its tracks, in frame order.

Owner only, by header or viewer link (`ViewerTask`). A running task's events are those of its
committed frames so far. Pages are keyed on the event's row id within frame order.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field
from tortoise.expressions import Q

from api.viewer.access import ViewerTask
from videoanalysis.tables import ZoneEvent

router = APIRouter(prefix="/tasks/{task_id}/events", tags=["events"])

EVENT_FIELDS = ("rule", "kind", "track_id", "label", "frame_index", "timestamp", "dwell_s")
Kind = Literal["entered", "left", "in", "out"]


# No docstrings: pydantic would publish them as the schemas' descriptions.
class EventOut(BaseModel):
    rule: str = Field(description="The zone or line.")
    kind: Kind = Field(description="entered or left a zone; in or out across a line.")
    track_id: int
    label: str
    frame_index: int = Field(description="The first frame of the new side (the event counted min_frames later).")
    timestamp: float = Field(description="That frame's time in the video (s).")
    dwell_s: float | None = Field(description="For `left`: the time inside (s); null otherwise.")


class EventPage(BaseModel):
    events: list[EventOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


def _cursor(cursor: str) -> tuple[int, int]:
    frame, _, row = cursor.partition(".")
    if not (frame.isdigit() and row.isdigit()) or max(int(frame), int(row)) >= 2**63:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="cursor must be a next_cursor value")
    return int(frame), int(row)


@router.get("/", summary="The task's zone and line events, in frame order")
async def list_events(
    task: ViewerTask,
    rule: Annotated[str | None, Query(max_length=63, description="only this zone or line")] = None,
    kind: Annotated[Kind | None, Query(description="only this kind")] = None,
    label: Annotated[str | None, Query(max_length=100, description="only tracks of this label")] = None,
    since_s: Annotated[float | None, Query(ge=0, description="only events at or after this time (s)")] = None,
    until_s: Annotated[float | None, Query(ge=0, description="only events before this time (s)")] = None,
    cursor: Annotated[str | None, Query(max_length=41, description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    query = ZoneEvent.filter(task_id=task.id)
    for field, value in (("rule", rule), ("kind", kind), ("label", label)):
        if value is not None:
            query = query.filter(**{field: value})
    if since_s is not None:
        query = query.filter(timestamp__gte=since_s)
    if until_s is not None:
        query = query.filter(timestamp__lt=until_s)
    if cursor is not None:
        frame, row = _cursor(cursor)
        query = query.filter(Q(frame_index__gt=frame) | Q(frame_index=frame, id__gt=row))
    rows = await query.order_by("frame_index", "id").limit(limit + 1).values("id", *EVENT_FIELDS)
    more = len(rows) > limit
    page = rows[:limit]
    last = page[-1] if page else None
    return EventPage(
        events=[EventOut(**{k: r[k] for k in EVENT_FIELDS}) for r in page],
        next_cursor=f"{last['frame_index']}.{last['id']}" if more and last else None,
    )
