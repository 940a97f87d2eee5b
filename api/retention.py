"""Retention: tasks that ended more than `VA_RETENTION_DAYS` ago are erased (video, rows, the
resource the API made), like an owner's `DELETE ?erase=true`; 0 keeps everything for ever.
Tasks of resources applied by hand are the operator's (va_operator.retention): their resource is
kept (GitOps would re-create it and run it again) and marked `Expired`.

Stored uploads whose task was never created (a crash between writing the file and the row, or
a partial body) are swept whatever the retention: files of the upload's own naming only
(`.upload-*` and `<32 hex>.<ext>` keys) that no task names and that nobody wrote to for
`UPLOAD_GRACE`; videos placed on the volume by hand keep their names and are never touched.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from pathlib import Path

from api.dispatchers import Dispatcher
from api.dispatchers.base import DispatchError
from api.erase import erase_task
from videoanalysis.models import Task, TaskOrigin
from videoanalysis.storage import video_uri
from videoanalysis.tasks import utcnow
from videoanalysis.uploadkeys import UPLOAD_KEY, UPLOAD_TMP_PREFIX

log = logging.getLogger(__name__)

UPLOAD_GRACE = timedelta(hours=1)
SWEEP_INTERVAL_S = 3600.0


async def erase_expired(days: int, dispatcher: Dispatcher, videos_dir: Path, *, batch: int = 500) -> int:
    """Erase API-made tasks that ended more than `days` ago; returns how many were erased."""
    if days <= 0:
        return 0
    cutoff = utcnow() - timedelta(days=days)
    erased = 0
    for task in await Task.filter(finished_at__lt=cutoff, origin=TaskOrigin.API).limit(batch):
        try:
            await erase_task(task, dispatcher, videos_dir)
        except DispatchError as exc:  # the resource could not be deleted: next sweep
            log.warning("retention: task %s not erased yet: %s", task.id, exc)
            continue
        erased += 1
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
    while True:
        try:
            await erase_expired(days, dispatcher, videos_dir)
            await sweep_orphan_uploads(videos_dir)
        except Exception:
            log.exception("retention sweep failed; retrying at the next round")
        await asyncio.sleep(interval_s)
