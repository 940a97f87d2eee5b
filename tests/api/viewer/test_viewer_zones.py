"""Zones and lines in the viewer, in the real browser: drawn over the picture where the task
says, their counters following the time shown, each event marked on the timeline."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import pytest
from selenium.webdriver.support.ui import WebDriverWait

from bench.tracking_scenes import scene_video
from tests.api.viewer.test_viewer_browser import SETTLE_JS, SHOTS, _open, _shot, _step_to
from tests.support.accounts import sign_up_sync
from tests.support.uploads import upload_sync, wait_succeeded_sync

LINES = [{"name": "middle", "start": [0.5, 0.05], "end": [0.5, 0.95]}]
ZONES = [{"name": "right", "polygon": [[0.55, 0.1], [0.95, 0.1], [0.95, 0.9], [0.55, 0.9]]}]
ZONE_BLUE = (0x4F, 0x8C, 0xFF)
LINE_YELLOW = (0xFF, 0xD2, 0x4F)


def _webm(scene_path: Path, out: Path) -> None:
    """The scene as VP8 (a codec Chromium plays), frame for frame."""
    cap = cv2.VideoCapture(str(scene_path))
    fps, size = (
        cap.get(cv2.CAP_PROP_FPS),
        (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))),
    )
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"VP80"), fps, size)
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        writer.write(frame)
    writer.release()
    cap.release()


@pytest.fixture(scope="module")
def zoned(api_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("viewer-zones")
    _webm(scene_video("crossing", tmp / "crossing.avi"), tmp / "crossing.webm")
    token = sign_up_sync(api_server)[0]["access_token"]
    task_id = upload_sync(api_server, token, tmp / "crossing.webm", zones=json.dumps(ZONES), lines=json.dumps(LINES))
    body = wait_succeeded_sync(api_server, token, task_id)
    return {"task_id": task_id, "token": token, "frames": sorted(f["frame"] for f in body["detections"])}


def _colour_near(img: np.ndarray, x: float, y: float, colour: tuple[int, int, int], r: int = 3) -> bool:
    patch = img[round(y) - r : round(y) + r + 1, round(x) - r : round(x) + r + 1].astype(int)
    return bool((np.abs(patch - np.array(colour)).max(axis=2) <= 20).any())


def test_zones_and_lines_are_drawn_with_counters_and_events(browser, api_server: str, zoned: dict) -> None:
    _open(browser, api_server, zoned["task_id"], zoned["token"])
    WebDriverWait(browser, 20).until(
        lambda d: d.execute_script("return document.getElementById('video').readyState") >= 2
    )
    rules = lambda: browser.execute_script(  # noqa: E731
        "return [...document.querySelectorAll('#rules li')].map((li) => li.textContent)"
    )
    _step_to(browser, zoned["frames"][0])  # the face moving left starts inside the zone: in from frame 0
    assert rules() == ["right: 1 inside · 1 entered · 0 left", "middle: in 0 · out 0"]
    assert browser.execute_script("return document.getElementById('overlay').dataset.rules") == "2"
    assert browser.execute_script("return document.getElementById('timeline').dataset.events") == "6"
    img, geo = _shot(browser, "viewer-zones-start.png")
    w, h = browser.execute_script("const v = document.getElementById('video'); return [v.videoWidth, v.videoHeight]")
    at = lambda fx, fy: (geo["x"] + fx * w * geo["scale"], geo["y"] + fy * h * geo["scale"])  # noqa: E731
    assert _colour_near(img, *at(0.95, 0.5), ZONE_BLUE)  # the zone's right edge
    assert _colour_near(img, *at(0.5, 0.3), LINE_YELLOW)  # the line
    assert not _colour_near(img, *at(0.25, 0.5), ZONE_BLUE, r=1)  # nothing drawn left of it
    # The counters only grow as the video plays, and inside is entered minus left.
    seen = browser.execute_script(
        "return arguments[0].map((t) => Object.fromEntries(window.viewer.countsAt(t)))", [i / 4 for i in range(21)]
    )
    for before, after in pairwise(seen):
        assert all(after[r][k] >= before[r][k] for r in before for k in ("entered", "left", "in", "out"))
    assert all(c["right"]["inside"] == c["right"]["entered"] - c["right"]["left"] for c in seen)
    browser.execute_script("window.viewer.showFrame(window.viewer.state.frames.length - 1)")
    browser.execute_async_script(SETTLE_JS)
    assert browser.execute_script("return document.getElementById('overlay').dataset.frame") == str(zoned["frames"][-1])
    assert rules() == ["right: 0 inside · 2 entered · 2 left", "middle: in 1 · out 1"]
    _shot(browser, "viewer-zones-end.png")
    assert (SHOTS / "viewer-zones-end.png").stat().st_size > 10_000
