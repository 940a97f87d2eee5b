"""Retention in the API without a cluster (embedded mode's local dispatcher): expired tasks are
erased with their video, recent ones and those of resources applied by hand are not, and
uploads whose task was never created are swept. API tasks and manifest tasks are told apart by
`origin` (both name their resource)."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

from api.dispatchers.local import LocalDispatcher
from api.erase import erase_task
from api.retention import erase_expired, sweep_orphan_uploads
from videoanalysis.models import Task, TaskOrigin, User
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
    applied, _ = await ended_task(
        owner, videos, 8, origin=TaskOrigin.MANIFEST, resource_namespace="ns", resource_name="street"
    )
    dispatcher = LocalDispatcher(settings)
    assert await erase_expired(0, dispatcher, videos) == 0  # 0: keep for ever
    assert await erase_expired(7, dispatcher, videos) == 1
    assert not await Task.exists(id=old.id) and not old_video.exists()
    assert await Task.exists(id=recent.id) and recent_video.is_file()
    assert await Task.exists(id=applied.id)  # the operator's (resource kept, marked Expired)


class CancelRecorder:
    """A dispatcher that records what it was asked to cancel (delete the resource of)."""

    name = "recorder"

    def __init__(self) -> None:
        self.cancelled: list[uuid.UUID] = []

    async def cancel(self, task: Task) -> None:
        self.cancelled.append(task.id)


async def test_expired_api_tasks_that_name_their_resource_are_erased_with_it(api_settings) -> None:
    """The kubernetes dispatcher records the resource it makes in the row: such a task is still
    the API's to erase, its resource deleted; a manifest's task (the operator's) is not."""
    videos = api_settings().resolved_videos_dir
    videos.mkdir(parents=True, exist_ok=True)
    owner = await User.create(email=f"ret-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    made, video = await ended_task(owner, videos, 8, resource_namespace="ns", resource_name="va-made")
    applied, _ = await ended_task(
        owner, videos, 8, origin=TaskOrigin.MANIFEST, resource_namespace="ns", resource_name="street"
    )
    dispatcher = CancelRecorder()
    assert await erase_expired(7, dispatcher, videos) == 1  # type: ignore[arg-type]
    assert not await Task.exists(id=made.id) and not video.exists()
    assert dispatcher.cancelled == [made.id]  # its resource deleted
    assert await Task.exists(id=applied.id)
    await Task.filter(id=applied.id).delete()  # the session database is shared with the operator's sweeps


async def test_erasing_an_ended_api_task_deletes_the_resource_it_names(api_settings) -> None:
    videos = api_settings().resolved_videos_dir
    videos.mkdir(parents=True, exist_ok=True)
    owner = await User.create(email=f"ret-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    made, _ = await ended_task(owner, videos, 0, resource_namespace="ns", resource_name="va-made")
    applied, _ = await ended_task(
        owner, videos, 0, origin=TaskOrigin.MANIFEST, resource_namespace="ns", resource_name="street"
    )
    dispatcher = CancelRecorder()
    for task in (made, applied):
        await erase_task(task, dispatcher, videos)  # type: ignore[arg-type]
    assert dispatcher.cancelled == [made.id]  # the manifest's resource is its author's Git's


async def test_erasing_a_manifest_task_leaves_its_video_in_place(api_settings) -> None:
    """A manifest's video is its author's (and may be another manifest's input), even under a
    key shaped like an upload's (a row made before such keys were refused); an API task's
    video is deleted only under a key of the API's upload."""
    videos = api_settings().resolved_videos_dir
    videos.mkdir(parents=True, exist_ok=True)
    owner = await User.create(email=f"ret-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    shared = videos / f"street-{uuid.uuid4().hex[:8]}.mp4"
    shared.write_bytes(b"video")
    by_hand = [
        await Task.create(
            owner=owner,
            model="opencv-face",
            video_uri=video_uri(shared.name),
            status=TaskStatus.SUCCEEDED,
            origin=TaskOrigin.MANIFEST,
        )
        for _ in range(2)
    ]
    upload_shaped, upload_shaped_video = await ended_task(owner, videos, 0, origin=TaskOrigin.MANIFEST)
    not_an_upload = await Task.create(owner=owner, model="opencv-face", video_uri=video_uri(shared.name))
    dispatcher = CancelRecorder()
    for task in (*by_hand, upload_shaped, not_an_upload):
        await erase_task(task, dispatcher, videos)  # type: ignore[arg-type]
        assert not await Task.exists(id=task.id)
    assert shared.is_file() and upload_shaped_video.is_file()


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
