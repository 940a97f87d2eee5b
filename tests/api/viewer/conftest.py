"""Viewer fixtures on the real API (`api_server`: `python -m api` under uvicorn on the session
PostgreSQL database): two analysed videos, two users, and a real headless Chromium driven
through Debian's chromedriver (installed by `make test-prereqs`, see mk/viewer.mk)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.accounts import sign_up_sync
from tests.support.browser import chromium
from tests.support.uploads import Analysed, upload_sync, wait_succeeded_sync
from tests.support.videos import pan_video


@pytest.fixture(scope="session")
def viewer_tasks(api_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Analysed]:
    """Two analysed pan videos of one owner, submitted together (the server runs two at once):
    `webm` (VP8: a codec Chromium plays, every frame analysed) and `mp4v` (MPEG-4 part 2, which
    Chromium cannot play, analysed every 6th frame)."""
    tmp = tmp_path_factory.mktemp("viewer-videos")
    token = sign_up_sync(api_server)[0]["access_token"]
    videos = {"webm": pan_video(tmp / "pan.webm", fourcc="VP80"), "mp4v": pan_video(tmp / "pan.mp4", fourcc="mp4v")}
    params = {"webm": {}, "mp4v": {"frame_stride": "6"}}
    ids = {k: upload_sync(api_server, token, v.path, **params[k]) for k, v in videos.items()}
    out = {}
    for key, task_id in ids.items():
        body = wait_succeeded_sync(api_server, token, task_id)
        frames = {f["frame"]: f for f in body["detections"]}
        out[key] = Analysed(task_id, token, videos[key], frames, body["params"])
    return out


@pytest.fixture(scope="session")
def other_token(api_server: str) -> str:
    """A second user's access token (owns none of the viewer tasks)."""
    return sign_up_sync(api_server)[0]["access_token"]


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A headless Chromium (fresh profile) under chromedriver; 1280×900 CSS px at DPR 1."""
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver
