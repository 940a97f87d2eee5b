"""Reading results, listing, cancelling; owner-only access; a dispatcher that refuses; probes."""

from __future__ import annotations

import uuid

import pytest
from tortoise import Tortoise
from tortoise.context import TortoiseContext

from api.dispatchers.base import DispatchError
from videoanalysis.db import tortoise_config
from videoanalysis.tables import FrameDetections, Task, User
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition

RESULT = "/tasks/video-analysis-result/{}/"


async def make_task(user_id: int, **fields) -> Task:
    """A task row as an upload writes it (no run; these tests read what is stored)."""
    values = {
        "owner_id": user_id,
        "model": "opencv-face",
        "video_uri": "videos://none.mp4",
        "video_name": "clip.mp4",
        "params": {"score_threshold": 0.5, "frame_stride": 1, "labels": None},
    }
    return await Task.create(**{**values, **fields})


async def test_result_pages_through_detections(api_client, signup_user):
    data, headers = await signup_user(api_client)
    task = await make_task(data["user"]["id"], frames_total=7)
    await transition(task.id, TaskStatus.RUNNING, frames_done=7)
    await transition(task.id, TaskStatus.SUCCEEDED)
    for i in range(7):
        objects = (
            [
                {"label": "face", "score": 0.5 + i / 100, "box": [i, 2, 30, 40]},
                {"label": "face", "score": 0.9, "box": [1, 1, 2, 2]},
            ]
            if i % 2
            else []
        )
        await FrameDetections.create(task=task, frame_index=i, timestamp=i / 10, objects=objects)
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor is not None else {})}
        resp = await api_client.get(RESULT.format(task.id), headers=headers, params=params)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["status"] == "SUCCEEDED" and body["ready"] and body["success"]
        assert body["frames_done"] == 7 and body["frames_total"] == 7 and body["started_at"]
        assert len(body["result"]) == len(body["detections"]) <= 3
        seen += body["detections"]
        for frame, compact in zip(body["detections"], body["result"], strict=False):
            assert compact == ({"face": 0.9} if frame["objects"] else {})
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [f["frame"] for f in seen] == list(range(7))
    assert seen[1]["timestamp"] == pytest.approx(0.1)
    assert seen[1]["objects"][0] == {"label": "face", "score": 0.51, "box": [1, 2, 30, 40], "track_id": None}
    bad = await api_client.get(RESULT.format(task.id), headers=headers, params={"limit": 0})
    assert bad.status_code == 422


async def test_result_is_owner_only(api_client, signup_user):
    owner, _ = await signup_user(api_client)
    _, stranger = await signup_user(api_client)
    task = await make_task(owner["user"]["id"])
    for task_id in (task.id, uuid.uuid4(), "not-a-uuid", "1"):
        resp = await api_client.get(RESULT.format(task_id), headers=stranger)
        assert resp.status_code == 404, task_id
        assert (await api_client.delete(f"/tasks/{task_id}/", headers=stranger)).status_code == 404
    assert (await api_client.get(RESULT.format(task.id))).status_code == 401
    assert (await Task.get(id=task.id)).status == TaskStatus.PENDING


async def test_failed_task_reports_its_error(api_client, signup_user):
    data, headers = await signup_user(api_client)
    task = await make_task(data["user"]["id"])
    await transition(task.id, TaskStatus.FAILED, error="video cannot be decoded at frame 3")
    body = (await api_client.get(RESULT.format(task.id), headers=headers)).json()
    assert (body["status"], body["ready"], body["success"]) == ("FAILED", True, False)
    assert body["error"] == "video cannot be decoded at frame 3" and body["detections"] == []


async def test_list_tasks_newest_first_paginated(api_client, signup_user):
    data, headers = await signup_user(api_client)
    other, _ = await signup_user(api_client)
    await make_task(other["user"]["id"])
    made = [await make_task(data["user"]["id"], video_name=f"v{i}.mp4") for i in range(5)]
    names, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        resp = await api_client.get("/tasks/", headers=headers, params=params)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        names += [t["video_name"] for t in body["tasks"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert names == [t.video_name for t in reversed(made)]
    assert (await api_client.get("/tasks/", headers=headers, params={"cursor": "%%%"})).status_code == 422
    assert (await api_client.get("/tasks/")).status_code == 401


async def test_delete_cancels_and_is_owner_only(api_client, signup_user):
    data, headers = await signup_user(api_client)
    task = await make_task(data["user"]["id"])
    resp = await api_client.delete(f"/tasks/{task.id}/", headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "CANCELLED" and resp.json()["ready"] is True
    assert (await Task.get(id=task.id)).status == TaskStatus.CANCELLED
    again = await api_client.delete(f"/tasks/{task.id}/", headers=headers)
    assert again.status_code == 200 and again.json()["status"] == "CANCELLED"
    done = await make_task(data["user"]["id"])
    await transition(done.id, TaskStatus.SUCCEEDED)
    for _ in range(2):  # a finished task stays as it ended, answered 200 each time
        ended = await api_client.delete(f"/tasks/{done.id}/", headers=headers)
        assert ended.status_code == 200 and ended.json()["status"] == "SUCCEEDED"
    assert (await Task.get(id=done.id)).status == TaskStatus.SUCCEEDED


class RefusingDispatcher:
    """A dispatcher whose back end is down: the path under test is the API's reaction."""

    name = "refusing"

    async def submit(self, task: Task) -> None:
        raise DispatchError("the cluster API is unreachable")

    async def cancel(self, task: Task) -> None:
        raise DispatchError("the cluster API is unreachable")

    async def close(self) -> None:
        return None


class BrokenDispatcher(RefusingDispatcher):
    """A dispatcher with a bug: the task must still not stay PENDING."""

    async def submit(self, task: Task) -> None:
        raise KeyError("spec")


async def test_dispatch_failure_marks_task_failed_and_answers_503(open_api_client, signup_user, tmp_path):
    from tests.support.videos import noise_video

    clip = noise_video(tmp_path / "n.mp4").read_bytes()
    async with open_api_client(dispatcher_instance=RefusingDispatcher()) as client:
        data, headers = await signup_user(client)
        resp = await client.post(
            "/tasks/video-objects-detection/", headers=headers, files={"videofile": ("n.mp4", clip, "video/mp4")}
        )
        assert resp.status_code == 503
        assert "the cluster API is unreachable" in resp.json()["detail"]
        task = await Task.get(owner_id=data["user"]["id"])
        assert task.status == TaskStatus.FAILED and "unreachable" in task.error
        body = (await client.get(RESULT.format(task.id), headers=headers)).json()
        assert body["status"] == "FAILED" and "unreachable" in body["error"]
        pending = await make_task(data["user"]["id"])
        refused = await client.delete(f"/tasks/{pending.id}/", headers=headers)
        assert refused.status_code == 503 and "could not cancel" in refused.json()["detail"]
        assert (await Task.get(id=pending.id)).status == TaskStatus.PENDING
    async with open_api_client(dispatcher_instance=BrokenDispatcher()) as client:
        data, headers = await signup_user(client)
        resp = await client.post(
            "/tasks/video-objects-detection/", headers=headers, files={"videofile": ("n.mp4", clip, "video/mp4")}
        )
        assert resp.status_code == 503
        task = await Task.get(owner_id=data["user"]["id"])
        assert task.status == TaskStatus.FAILED and "spec" in task.error


async def test_probes(api_client):
    marker = await User.create(email=f"probe-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    assert (await api_client.get("/healthz")).json() == {"status": "ok"}
    assert (await api_client.get("/readyz")).json() == {"status": "ready"}
    docs = await api_client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    with TortoiseContext():  # a database that does not answer, for this block only
        await Tortoise.init(config=tortoise_config("postgres://postgres@127.0.0.1:1/none"))
        resp = await api_client.get("/readyz")
        assert resp.status_code == 503 and "database unreachable" in resp.json()["detail"]
    assert (await api_client.get("/readyz")).status_code == 200
    assert await User.filter(id=marker.id).exists()  # the session database is still the current one
