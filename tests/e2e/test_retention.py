"""Retention (VA_RETENTION_DAYS) on the test API server: a task that ended long enough ago is
erased with the resource the API made for it, while a resource applied by hand is kept, its
results erased and an `Expired` condition set by the operator. Tasks are backdated rather than
waited for."""

from __future__ import annotations

import asyncio
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from api.retention import erase_expired
from tests.e2e.drivers import RETENTION_DAYS, ClusterDriver
from tests.support.cluster import kubectl
from tests.support.resources import condition, event_reasons, get_va, job_of, jobs, manifest, phase_is
from tests.support.uploads import upload
from tests.support.videos import pan_video
from tests.support.waits import wait_for
from videoanalysis.clock import local_now
from videoanalysis.k8s import names
from videoanalysis.tables import FrameDetections, Task

FRAMES = 6
pytestmark = pytest.mark.kubernetes


async def backdate(task_id: str, days: int) -> None:
    await Task.filter(id=task_id).update(finished_at=local_now() - timedelta(days=days))


def resource_names(namespace: str) -> list[str]:
    return kubectl("get", "va", "-n", namespace, "-o", "name").stdout.split()


async def test_retention_erases_an_api_task_with_its_resource_and_keeps_a_recent_one(
    cluster: ClusterDriver, signup_user: Any, tmp_path: Path
) -> None:
    video = pan_video(tmp_path / "pan.mp4", frames=FRAMES).path
    ns = cluster.namespace
    async with cluster.api() as api:
        _, headers = await signup_user(api)
        old, recent = await upload(api, headers, video), await upload(api, headers, video)
        for task_id in (old, recent):
            [job] = await wait_for(lambda t=task_id: job_of(cluster.kube, ns, names.resource_name(t)), what="Job")
            await cluster.run_job(job)
            await wait_for(phase_is(cluster.kube, ns, names.resource_name(task_id), "Succeeded"), what="Succeeded")
        old_video = api.settings.resolved_videos_dir / (await Task.get(id=old)).video_uri.removeprefix("videos://")
        assert old_video.is_file()
        await backdate(old, RETENTION_DAYS + 1)
        await backdate(recent, RETENTION_DAYS - 1)
        assert await erase_expired(RETENTION_DAYS, api.app.state.dispatcher, api.settings.resolved_videos_dir) == 1
        assert (await api.get(f"/tasks/video-analysis-result/{old}/", headers=headers)).status_code == 404
        assert (await api.get(f"/tasks/video-analysis-result/{recent}/", headers=headers)).json()[
            "status"
        ] == "SUCCEEDED"
    assert not old_video.exists() and await FrameDetections.filter(task_id=old).count() == 0
    await wait_for(
        lambda: resource_names(ns) == [f"videoanalysis.videoanalysis.io/{names.resource_name(recent)}"],
        what="the old resource gone",
    )


async def test_a_resource_applied_by_hand_is_kept_and_marked_expired(
    cluster: ClusterDriver, signup_user: Any, tmp_path: Path
) -> None:
    cluster.videos_dir.mkdir(parents=True, exist_ok=True)  # type: ignore[attr-defined]
    placed = cluster.videos_dir / "kept.mp4"  # type: ignore[attr-defined]
    shutil.copy(pan_video(tmp_path / "pan.mp4", frames=FRAMES).path, placed)
    ns = cluster.namespace
    async with cluster.api() as api:
        owner, headers = await signup_user(api)
        kubectl(
            "apply", "-f", "-", input=manifest(ns, "kept", owner=owner["user"]["email"], videoUri="videos://kept.mp4")
        )
        [job] = await wait_for(lambda: jobs(cluster.kube, ns), what="the Job")
        await cluster.run_job(job)
        await wait_for(phase_is(cluster.kube, ns, "kept", "Succeeded"), what="Succeeded")
        task_id = get_va(cluster.kube, ns, "kept")["status"]["taskId"]
        await backdate(task_id, RETENTION_DAYS + 1)
        expired = await wait_for(lambda: condition(get_va(cluster.kube, ns, "kept"), "Expired"), what="Expired")
        for _ in range(100):  # the row goes right after the condition is written
            if not await Task.exists(id=task_id):
                break
            await asyncio.sleep(0.1)
        assert (await api.get(f"/tasks/video-analysis-result/{task_id}/", headers=headers)).status_code == 404
    assert expired["status"] == "True" and f"erased {RETENTION_DAYS} day(s) after" in expired["message"]
    va = get_va(cluster.kube, ns, "kept")
    assert va["status"]["phase"] == "Succeeded" and len(jobs(cluster.kube, ns)) == 1  # not run again
    assert await FrameDetections.filter(task_id=task_id).count() == 0 and placed.is_file()
    await wait_for(lambda: "Expired" in event_reasons(cluster.kube, ns, "kept"), what="the Expired Event")
