"""Uploads through the API and what comes of them: async helpers for a client (of the app or of a
server), sync ones for a server's URL (the session's `api_server`)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.videos import PanVideo

UPLOAD = "/tasks/video-objects-detection/"
WAIT_S = 60


def result_path(task_id: str) -> str:
    return f"/tasks/video-analysis-result/{task_id}/"


# --- async ------------------------------------------------------------------------------------


async def upload(api: Any, headers: dict[str, str], video: Path) -> str:
    """POST the video for the OpenCV face model; returns the task id."""
    with open(video, "rb") as f:
        resp = await api.post(
            UPLOAD,
            headers=headers,
            files={"videofile": (video.name, f, "video/mp4")},
            data={"model": "opencv-face"},
        )
    assert resp.status_code == 202, resp.text
    return str(resp.json()["task_id"])


def stored_files(client: Any) -> list[Path]:
    """The files in the videos folder of the app `client` talks to."""
    videos = client.settings.resolved_videos_dir
    return sorted(videos.iterdir()) if videos.exists() else []


async def wait_final(client: Any, headers: dict, task_id: str, timeout: float = 90) -> dict:
    """The task's result once it is ready (or as it stands after `timeout`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        resp = await client.get(result_path(task_id), headers=headers)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        if body["ready"] or loop.time() > deadline:
            return body
        await asyncio.sleep(0.3)


# --- sync -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Analysed:
    """A task that ran to SUCCEEDED on the real API, with its owner's token and its result."""

    task_id: str
    token: str
    video: PanVideo
    frames: dict[int, dict]  # frame index -> {"frame", "timestamp", "objects"}
    params: dict


def upload_sync(url: str, token: str, video: Path, **fields: str) -> str:
    """POST the video (the face model, `fields` added) to the server at `url`; the task id."""
    headers = {"Authorization": f"Bearer {token}"}
    with open(video, "rb") as fh:
        resp = httpx.post(
            f"{url}{UPLOAD}",
            headers=headers,
            timeout=60,
            files={"videofile": (video.name, fh)},
            data={"model": "opencv-face", **fields},
        )
    if resp.status_code != 202:
        raise RuntimeError(f"upload failed: {resp.status_code} {resp.text}")
    return resp.json()["task_id"]


def wait_succeeded_sync(url: str, token: str, task_id: str) -> dict:
    """The task's whole result once it SUCCEEDED (an error if it ended otherwise or took longer
    than WAIT_S)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        resp = httpx.get(
            f"{url}{result_path(task_id)}",
            params={"limit": 1000},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        body = resp.json()
        if body.get("ready"):
            if body["status"] != "SUCCEEDED":
                raise RuntimeError(f"task {task_id} ended {body['status']}: {body['error']}")
            return body
        time.sleep(0.2)
    raise RuntimeError(f"task {task_id} not done after {WAIT_S}s")


def viewer_token(url: str, token: str, task_id: str) -> str:
    """The viewer token of a link made by POST /tasks/{task_id}/viewer-link."""
    resp = httpx.post(f"{url}/tasks/{task_id}/viewer-link", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    if resp.status_code != 200:
        raise RuntimeError(f"viewer link failed: {resp.status_code} {resp.text}")
    link = resp.json()
    assert link["path"] == f"/tasks/{task_id}/view?viewer_token={link['viewer_token']}"
    return link["viewer_token"]
