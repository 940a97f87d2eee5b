"""Through the API with the local dispatcher on PostgreSQL: upload the astronaut pan, poll the
result endpoint until SUCCEEDED, read the faces back page by page; and cancel a running job."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.videos import iou, pan_video
from videoanalysis.tables import FrameDetections
from videoanalysis.task_status import TaskStatus

UPLOAD = "/tasks/video-objects-detection/"
RESULT = "/tasks/video-analysis-result/{}/"


async def poll(client, headers, task_id: str, until, timeout: float = 90) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        resp = await client.get(RESULT.format(task_id), headers=headers, params={"limit": 10})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        if until(body):
            return body
        assert loop.time() < deadline, f"not reached in {timeout}s: {body['status']}"
        await asyncio.sleep(0.2)


async def test_uploaded_pan_video_comes_back_with_a_face_per_frame(api_client, signup_user, tmp_path) -> None:
    pan = pan_video(tmp_path / "pan.mp4")
    _, headers = await signup_user(api_client)
    resp = await api_client.post(
        UPLOAD,
        headers=headers,
        data={"model": "opencv-face"},
        files={"videofile": ("pan.mp4", pan.path.read_bytes(), "video/mp4")},
    )
    assert resp.status_code == 202, resp.text
    task_id = resp.json()["task_id"]
    body = await poll(api_client, headers, task_id, lambda b: b["ready"])
    assert body["status"] == "SUCCEEDED", body["error"]
    assert body["frames_done"] == body["frames_total"] == pan.frames
    frames, cursor = [], None
    while True:  # page through the detections, 10 frames at a time
        params = {"limit": 10} | ({"cursor": cursor} if cursor is not None else {})
        page = (await api_client.get(RESULT.format(task_id), headers=headers, params=params)).json()
        frames += page["detections"]
        if (cursor := page["next_cursor"]) is None:
            break
    assert [f["frame"] for f in frames] == list(range(pan.frames))
    matched = [
        f
        for f, box in zip(frames, pan.face_boxes, strict=False)
        if any(o["label"] == "face" and iou(o["box"], box) >= 0.5 for o in f["objects"])
    ]
    assert len(matched) >= 0.9 * pan.frames


async def test_delete_stops_a_running_job(
    open_api_client, signup_user, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VA_PROGRESS_INTERVAL_S", "0")  # the child inherits it
    monkeypatch.setenv("VA_WRITE_BATCH_FRAMES", "8")
    long = pan_video(tmp_path / "long.mp4", frames=400, step=0)
    async with open_api_client() as client:
        _, headers = await signup_user(client)
        resp = await client.post(
            UPLOAD, headers=headers, files={"videofile": ("long.mp4", long.path.read_bytes(), "video/mp4")}
        )
        task_id = resp.json()["task_id"]
        await poll(client, headers, task_id, lambda b: b["frames_done"] > 0 or b["ready"])
        resp = await client.delete(f"/tasks/{task_id}/", headers=headers)
        assert resp.status_code == 200, resp.text
        body = await poll(client, headers, task_id, lambda b: b["ready"])
        assert body["status"] == TaskStatus.CANCELLED
        dispatcher = client.app.state.dispatcher
        await poll(client, headers, task_id, lambda _: task_id not in dispatcher.running, 10)
        written = await FrameDetections.filter(task_id=task_id).count()
        await asyncio.sleep(1.0)  # nothing is written after the stop
        assert await FrameDetections.filter(task_id=task_id).count() == written < long.frames
