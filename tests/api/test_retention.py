"""Retention in the API without a cluster (embedded mode's local dispatcher): expired tasks are
erased with their video, recent ones and those of resources applied by hand are not, and
uploads whose task was never created are swept. API tasks and manifest tasks are told apart by
`origin` (both name their resource)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

from api.dispatchers.base import DispatchError
from api.dispatchers.local import LocalDispatcher
from api.erase import erase_task
from api.retention import erase_expired, sweep_orphan_uploads
from videoanalysis.clock import local_now
from videoanalysis.retention import Backoff
from videoanalysis.storage import video_uri
from videoanalysis.tables import Task, TaskOrigin, User
from videoanalysis.task_status import TaskStatus


async def ended_task(owner: User, videos: Path, days_ago: float, **fields: str) -> tuple[Task, Path]:
    key = f"{uuid.uuid4().hex}.mp4"
    (videos / key).write_bytes(b"video")
    task = await Task.create(
        owner=owner, model="opencv-face", video_uri=video_uri(key), status=TaskStatus.SUCCEEDED, **fields
    )
    await Task.filter(id=task.id).update(finished_at=local_now() - timedelta(days=days_ago))
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


class FailingFor(CancelRecorder):
    """Records every cancel (resource delete) asked for, and fails those of `failing`."""

    def __init__(self, failing: set[uuid.UUID] | None = None, delay_s: float = 0.0) -> None:
        super().__init__()
        self.failing = failing or set()
        self.delay_s = delay_s

    async def cancel(self, task: Task) -> None:
        await super().cancel(task)
        await asyncio.sleep(self.delay_s)
        if task.id in self.failing:
            raise DispatchError("the API server answered 503")


async def expired_with_resources(api_settings, count: int) -> tuple[list[Task], Path]:
    """`count` expired API tasks that name their resource, oldest first, created newest first
    (so the table's own order is the wrong one)."""
    videos = api_settings().resolved_videos_dir
    videos.mkdir(parents=True, exist_ok=True)
    owner = await User.create(email=f"ret-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    made = [
        (await ended_task(owner, videos, 8 + n / 10, resource_namespace="ns", resource_name=f"va-{n}"))[0]
        for n in range(count)
    ]
    return made[::-1], videos


async def test_a_sweep_erases_oldest_first_in_batches_until_none_is_due(api_settings) -> None:
    tasks, videos = await expired_with_resources(api_settings, 7)
    dispatcher = FailingFor()
    assert await erase_expired(7, dispatcher, videos, batch=2) >= 7  # type: ignore[arg-type]
    ours = {t.id for t in tasks}
    assert [i for i in dispatcher.cancelled if i in ours] == [t.id for t in tasks]
    assert not await Task.filter(id__in=ours).exists()


async def test_tasks_that_fail_to_erase_are_passed_over_for_the_others(api_settings, caplog) -> None:
    """The two oldest fail: the sweep goes past them (a batch of two would otherwise be them
    alone, sweep after sweep), and the next sweeps leave them alone until their retry is due."""
    tasks, videos = await expired_with_resources(api_settings, 5)
    failing = {tasks[0].id, tasks[1].id}
    dispatcher = FailingFor(failing)
    now = [0.0]
    backoff = Backoff(clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="videoanalysis.retention"):
        assert await erase_expired(7, dispatcher, videos, backoff=backoff, batch=2) >= 3  # type: ignore[arg-type]
    assert set(await Task.filter(id__in=[t.id for t in tasks]).values_list("id", flat=True)) == failing
    assert f"task {tasks[0].id} not erased, retried in 3600 s: the API server answered 503" in caplog.text
    dispatcher.cancelled.clear()
    await erase_expired(7, dispatcher, videos, backoff=backoff, batch=2)  # type: ignore[arg-type]
    assert not failing & set(dispatcher.cancelled)  # not tried again before their time
    now[0] = 3600.0
    await erase_expired(7, dispatcher, videos, backoff=backoff, batch=2)  # type: ignore[arg-type]
    assert [i for i in dispatcher.cancelled if i in failing] == [tasks[0].id, tasks[1].id]
    assert backoff.failed(tasks[0].id) == 4 * 3600  # the third failure: twice as long again
    dispatcher.failing = set()
    await erase_expired(7, dispatcher, videos, backoff=Backoff(), batch=2)  # type: ignore[arg-type]
    assert not await Task.filter(id__in=failing).exists()


async def test_a_sweep_stops_when_its_time_is_up_and_the_next_goes_on(api_settings) -> None:
    tasks, videos = await expired_with_resources(api_settings, 6)
    dispatcher = FailingFor(delay_s=0.1)
    first = await erase_expired(7, dispatcher, videos, budget_s=0.25)  # type: ignore[arg-type]
    assert 1 <= first <= 3
    left = await Task.filter(id__in=[t.id for t in tasks]).order_by("finished_at").values_list("id", flat=True)
    assert list(left) == [t.id for t in tasks[first:]]  # the oldest went first
    await erase_expired(7, dispatcher, videos)  # type: ignore[arg-type]
    assert not await Task.filter(id__in=[t.id for t in tasks]).exists()
