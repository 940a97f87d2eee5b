"""Viewer fixtures: the real API (`python -m api` under uvicorn on the session PostgreSQL database,
the CLI tests' fixture), two analysed videos, two users, and a real headless Chromium driven
through Debian's chromedriver (installed by `make test-prereqs`, see mk/viewer.mk)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import api_server  # noqa: F401  (the real API server, session scope)
from tests.videos import PanVideo, pan_video

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_S = 60


@dataclass(frozen=True)
class Analysed:
    """A task that ran to SUCCEEDED on the real API, with its owner's token and its result."""

    task_id: str
    token: str
    video: PanVideo
    frames: dict[int, dict]  # frame index -> {"frame", "timestamp", "objects"}
    params: dict


def _signup(url: str) -> str:
    body = {"email": f"viewer-{uuid.uuid4().hex[:10]}@example.com", "password": "correct horse battery"}
    resp = httpx.post(f"{url}/signup", json=body, timeout=30)
    if resp.status_code != 201:
        raise RuntimeError(f"signup failed: {resp.status_code} {resp.text}")
    return resp.json()["access_token"]


def _submit(url: str, token: str, video: PanVideo, **fields: str) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    with open(video.path, "rb") as fh:
        resp = httpx.post(
            f"{url}/tasks/video-objects-detection/",
            headers=headers,
            timeout=60,
            files={"videofile": (video.path.name, fh)},
            data={"model": "opencv-face", **fields},
        )
    if resp.status_code != 202:
        raise RuntimeError(f"upload failed: {resp.status_code} {resp.text}")
    return resp.json()["task_id"]


def viewer_token(url: str, token: str, task_id: str) -> str:
    """The viewer token of a link made by POST /tasks/{task_id}/viewer-link."""
    resp = httpx.post(f"{url}/tasks/{task_id}/viewer-link", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    if resp.status_code != 200:
        raise RuntimeError(f"viewer link failed: {resp.status_code} {resp.text}")
    link = resp.json()
    assert link["path"] == f"/tasks/{task_id}/view?viewer_token={link['viewer_token']}"
    return link["viewer_token"]


def _wait_result(url: str, token: str, task_id: str) -> dict:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        resp = httpx.get(
            f"{url}/tasks/video-analysis-result/{task_id}/",
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


@pytest.fixture(scope="session")
def viewer_tasks(api_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Analysed]:  # noqa: F811
    """Two analysed pan videos of one owner, submitted together (the server runs two at once):
    `webm` (VP8: a codec Chromium plays, every frame analysed) and `mp4v` (MPEG-4 part 2, which
    Chromium cannot play, analysed every 6th frame)."""
    tmp = tmp_path_factory.mktemp("viewer-videos")
    token = _signup(api_server)
    videos = {"webm": pan_video(tmp / "pan.webm", fourcc="VP80"), "mp4v": pan_video(tmp / "pan.mp4", fourcc="mp4v")}
    params = {"webm": {}, "mp4v": {"frame_stride": "6"}}
    ids = {k: _submit(api_server, token, v, **params[k]) for k, v in videos.items()}
    out = {}
    for key, task_id in ids.items():
        body = _wait_result(api_server, token, task_id)
        frames = {f["frame"]: f for f in body["detections"]}
        out[key] = Analysed(task_id, token, videos[key], frames, body["params"])
    return out


@pytest.fixture(scope="session")
def other_token(api_server: str) -> str:  # noqa: F811
    """A second user's access token (owns none of the viewer tasks)."""
    return _signup(api_server)


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A headless Chromium (fresh profile) under chromedriver; 1280×900 CSS px at DPR 1."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        raise RuntimeError("chromium/chromedriver missing: run `make test-prereqs` (mk/viewer.mk)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1280,900",
        "--force-device-scale-factor=1",
        "--mute-audio",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
