"""Per-label detection counters of a task, kept in `Task.detections` ({label: n}).

Updated inside the writer's batch transaction, so the counts always match the frames
committed with them: a run that dies mid-batch leaves neither, and a fresh run resets both.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable

from tortoise.backends.base.client import BaseDBAsyncClient

from videoanalysis.tables import Task


def label_counts(objects_per_frame: Iterable[list[dict]]) -> Counter[str]:
    """How many stored detections each label has in these frames."""
    counts: Counter[str] = Counter()
    for objects in objects_per_frame:
        if objects:  # most frames of most videos: nothing found
            counts.update(str(o["label"]) for o in objects)
    return counts


async def add_counts(conn: BaseDBAsyncClient, task_id: uuid.UUID | str, counts: Counter[str], *, reset: bool) -> None:
    """Add `counts` to the task's counters (start from zero with `reset`), under a row lock."""
    if not counts and not reset:
        return
    # `.first()`: Tortoise leaves FOR UPDATE out of a values_list query
    task = await Task.filter(id=task_id).using_db(conn).select_for_update().first()
    total: Counter[str] = Counter() if reset or task is None else Counter(task.detections or {})
    total.update(counts)
    await Task.filter(id=task_id).using_db(conn).update(detections=dict(sorted(total.items())))
