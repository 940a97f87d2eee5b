"""Retention: tasks that ended more than `VA_RETENTION_DAYS` ago are erased (video, rows, the
resource the API made), like an owner's `DELETE ?erase=true`; 0 keeps everything for ever.
Oldest first, until none is due, a failing task passed over (videoanalysis.retention).
Tasks of resources applied by hand are the operator's (va_operator.retention): their resource is
kept (GitOps would re-create it and run it again) and marked `Expired`.

Stored uploads whose task was never created (a crash between writing the file and the row, or
a partial body) are swept whatever the retention: files of the upload's own naming only
(`.upload-*` and `<32 hex>.<ext>` keys) that no task names and that nobody wrote to for
`UPLOAD_GRACE`; videos placed on the volume by hand keep their names and are never touched.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

from api.dispatchers import Dispatcher
from api.dispatchers.base import DispatchError
from api.erase import erase_task
from videoanalysis.clock import db_now
from videoanalysis.periodic import every
from videoanalysis.retention import BATCH, SWEEP_BUDGET_S, Backoff, sweep
from videoanalysis.storage import video_uri
from videoanalysis.tables import Task, TaskOrigin
from videoanalysis.uploadkeys import UPLOAD_KEY, UPLOAD_TMP_PREFIX

log = logging.getLogger(__name__)

UPLOAD_GRACE = timedelta(hours=1)
SWEEP_INTERVAL_S = 3600.0


async def erase_expired(
    days: int,
    dispatcher: Dispatcher,
    videos_dir: Path,
    backoff: Backoff | None = None,
    *,
    budget_s: float = SWEEP_BUDGET_S,
    batch: int = BATCH,
) -> int:
    """Erase API-made tasks that ended more than `days` ago, oldest first, until none is left
    or `budget_s` has passed (videoanalysis.retention); returns how many were erased. A task
    whose resource cannot be deleted is retried after `backoff` (the loop keeps one)."""
    if days <= 0:
        return 0
    # finished_at is the database clock's stamp: compare it with that clock, not this replica's.
    due = Task.filter(finished_at__lt=await db_now() - timedelta(days=days), origin=TaskOrigin.API)
    erased = await sweep(
        due,
        lambda task: erase_task(task, dispatcher, videos_dir),
        lambda task: f"task {task.id}",
        backoff if backoff is not None else Backoff(),
        expected=(DispatchError,),
        budget_s=budget_s,
        batch=batch,
    )
    if erased:
        log.info("retention: erased %d task(s) that ended more than %d day(s) ago", erased, days)
    return erased


async def sweep_orphan_uploads(videos_dir: Path, grace: timedelta = UPLOAD_GRACE) -> list[str]:
    """Remove stale upload files that no task names; returns their names."""
    if not videos_dir.is_dir():
        return []
    stale_before = time.time() - grace.total_seconds()
    candidates = [
        p
        for p in videos_dir.iterdir()
        if p.is_file()
        and (p.name.startswith(UPLOAD_TMP_PREFIX) or UPLOAD_KEY.fullmatch(p.name))
        and p.stat().st_mtime < stale_before
    ]
    named = set(
        await Task.filter(video_uri__in=[video_uri(p.name) for p in candidates]).values_list("video_uri", flat=True)
    )
    removed = [p.name for p in candidates if video_uri(p.name) not in named]
    for name in removed:
        (videos_dir / name).unlink(missing_ok=True)
    return removed


async def retention_loop(
    days: int, dispatcher: Dispatcher, videos_dir: Path, interval_s: float = SWEEP_INTERVAL_S
) -> None:
    """Sweep at start-up and then every `interval_s`; a failed round is logged and retried."""
    backoff = Backoff()  # the tasks that failed to erase, kept from one sweep to the next

    async def sweep_once() -> None:
        await erase_expired(days, dispatcher, videos_dir, backoff)
        await sweep_orphan_uploads(videos_dir)

    await every(interval_s, sweep_once, name="retention sweep", logger=log)
