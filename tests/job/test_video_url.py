"""The job fetching its video by URL (videoanalysis.video_fetch) from a real local HTTPS server with
a test CA: it checks the URL again, and an expired or trickling URL fails the task with the
reason, within the limits the dispatchers hand on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.https_videos import Trickle, VideoServer, blob_server
from videoanalysis.exitcodes import JobExit
from videoanalysis.tables import Task
from videoanalysis.task_status import TaskStatus


@pytest.fixture
def server(tmp_path: Path) -> Iterator[VideoServer]:
    with blob_server(tmp_path) as srv:
        yield srv


async def test_a_url_that_expired_before_the_run_fails_the_task_with_that_reason(
    harness: Any, server: VideoServer
) -> None:
    task = await Task.create(
        owner=harness.owner, model="opencv-face", video_uri=server.url("blob.mp4"), video_name="blob.mp4", params={}
    )
    server.expired.add("blob.mp4")
    env = {"VA_VIDEO_URL_ALLOWED_NETWORKS": "127.0.0.1", "VA_CA_BUNDLE": str(server.ca_bundle)}
    assert (await harness.run(task, **env)).returncode == JobExit.FAILED  # permanent: no rerun fixes it
    row = await Task.get(id=task.id)
    assert row.status == TaskStatus.FAILED
    assert row.error is not None and row.error.startswith("the video URL answered 403 Forbidden: it has expired")


async def test_the_job_checks_the_url_again(harness: Any, server: VideoServer) -> None:
    task = await Task.create(
        owner=harness.owner, model="opencv-face", video_uri=server.url("blob.mp4"), video_name="blob.mp4", params={}
    )
    assert (
        await harness.run(task, VA_CA_BUNDLE=str(server.ca_bundle))
    ).returncode == JobExit.FAILED  # no allow-list here
    row = await Task.get(id=task.id)
    assert row.error == (
        "the video URL is refused: video_url host 'localhost' resolves to a non-public address (127.0.0.1: loopback)"
    )
    assert server.requests == []


async def test_a_trickling_url_fails_the_task_with_the_reason(harness: Any, server: VideoServer) -> None:
    """The real job, its limits from the environment the dispatchers hand on: the task ends
    FAILED with the reason, in about a window, not never."""
    task = await Task.create(
        owner=harness.owner, model="opencv-face", video_uri=server.url("blob.mp4"), video_name="blob.mp4", params={}
    )
    server.trickle["blob.mp4"] = Trickle(head=64, step=1, every_s=0.05)
    env = {
        "VA_VIDEO_URL_ALLOWED_NETWORKS": "127.0.0.1",
        "VA_CA_BUNDLE": str(server.ca_bundle),
        "VA_VIDEO_URL_MIN_BYTES_PER_SECOND": "1024",
        "VA_VIDEO_URL_RATE_WINDOW_SECONDS": "0.5",
    }
    assert (await harness.run(task, timeout=60, **env)).returncode == JobExit.FAILED
    row = await Task.get(id=task.id)
    assert row.status == TaskStatus.FAILED
    assert row.error is not None and re.fullmatch(
        r"the video URL kept failing after 4 attempts: the server sent \d+ bytes in 0.5 s, below the minimum of 1 KiB/s",
        row.error,
    )
