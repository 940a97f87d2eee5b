"""Retention in the API without a cluster (embedded mode's local dispatcher): expired tasks are
erased with their video, recent ones and those of resources applied by hand are not, and
uploads whose task was never created are swept."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

from api.dispatchers.local import LocalDispatcher
from api.retention import erase_expired, sweep_orphan_uploads
from videoanalysis.models import Task, User
from videoanalysis.status import TaskStatus
from videoanalysis.storage import video_uri
from videoanalysis.tasks import utcnow


async def ended_task(owner: User, videos: Path, days_ago: float, **fields: str) -> tuple[Task, Path]:
    key = f"{uuid.uuid4().hex}.mp4"
    (videos / key).write_bytes(b"video")
    task = await Task.create(
        owner=owner, model="opencv-face", video_uri=video_uri(key), status=TaskStatus.SUCCEEDED, **fields
    )
    await Task.filter(id=task.id).update(finished_at=utcnow() - timedelta(days=days_ago))
    return task, videos / key


async def test_expired_tasks_are_erased_the_others_kept(api_settings, tmp_path: Path) -> None:
    settings = api_settings()
    videos = settings.resolved_videos_dir
    videos.mkdir(parents=True)
    owner = await User.create(email=f"ret-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    old, old_video = await ended_task(owner, videos, 8)
    recent, recent_video = await ended_task(owner, videos, 6)
    applied, _ = await ended_task(owner, videos, 8, resource_namespace="ns", resource_name="street")
    dispatcher = LocalDispatcher(settings)
    assert await erase_expired(0, dispatcher, videos) == 0  # 0: keep for ever
    assert await erase_expired(7, dispatcher, videos) == 1
    assert not await Task.exists(id=old.id) and not old_video.exists()
    assert await Task.exists(id=recent.id) and recent_video.is_file()
    assert await Task.exists(id=applied.id)  # the operator's (resource kept, marked Expired)


async def test_uploads_without_a_task_are_swept_after_the_grace(db: str, tmp_path: Path) -> None:
    owner = await User.create(email=f"ret-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    videos = tmp_path / "videos"
    videos.mkdir()
    names = {
        "partial": ".upload-0123.part",
        "orphan": f"{uuid.uuid4().hex}.mp4",
        "named": f"{uuid.uuid4().hex}.mp4",
        "by_hand": "street.mp4",
        "fresh": f"{uuid.uuid4().hex}.mkv",
    }
    for name in names.values():
        (videos / name).write_bytes(b"x")
    await Task.create(owner=owner, model="opencv-face", video_uri=video_uri(names["named"]))
    stale = time.time() - 2 * 3600
    for key in ("partial", "orphan", "named", "by_hand"):
        os.utime(videos / names[key], (stale, stale))
    removed = await sweep_orphan_uploads(videos)
    assert sorted(removed) == sorted([names["partial"], names["orphan"]])
    assert sorted(p.name for p in videos.iterdir()) == sorted([names["named"], names["by_hand"], names["fresh"]])
