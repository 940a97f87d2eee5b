"""Zone and line events written with the batch that confirmed them: their rows
(`zone_events`) and the task's totals (`tasks.zone_totals`), in the batch's transaction, so a
run that dies mid-batch leaves neither and a resumed run adds only what it commits."""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from videoanalysis.tables import Task, ZoneEvent
from videoanalysis.zone_totals import add_events

__all__ = ["write_events"]


async def write_events(conn: BaseDBAsyncClient, task_id: Any, events: list[dict]) -> None:
    """Each event once (one already written is left as it is: the unique key is what it is)
    and the totals moved by the same events, under the task row's lock."""
    if not events:
        return
    rows = [
        ZoneEvent(
            task_id=task_id,
            rule=e["rule"],
            kind=e["kind"],
            track_id=e["track_id"],
            label=e["label"],
            frame_index=e["frame"],
            timestamp=e["timestamp"],
            dwell_s=e.get("dwell_s"),
        )
        for e in events
    ]
    await ZoneEvent.bulk_create(rows, ignore_conflicts=True, using_db=conn)
    # `.first()`: Tortoise leaves FOR UPDATE out of a values_list query
    task = await Task.filter(id=task_id).using_db(conn).select_for_update().first()
    if task is not None:
        totals = add_events(task.zone_totals, events)
        await Task.filter(id=task_id).using_db(conn).update(zone_totals=totals)
