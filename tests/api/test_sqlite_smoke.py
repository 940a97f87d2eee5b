"""Smoke pass of the embedded default, the way `make run` starts it: `python -m api` on SQLite
with the local dispatcher, over real HTTP. Sign up, sign in, upload, poll until the real job ends."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.support.api_server import api_process, embedded_env
from tests.support.ports import free_port
from tests.support.videos import pan_video


@pytest.fixture
async def server(tmp_path: Path):
    async with api_process(embedded_env(tmp_path / "data", free_port())) as (client, _):
        yield client, tmp_path / "data"


async def test_embedded_round_trip(server, tmp_path):
    client, data_dir = server
    assert (data_dir / "secret_key").exists() and (data_dir / "videoanalysis.sqlite3").exists()
    assert (await client.get("/readyz")).status_code == 200
    assert (await client.get("/docs")).status_code == 200
    signup = await client.post(
        "/signup", json={"email": "smoke@example.com", "password": "smoke test pw", "first_name": "S", "last_name": "M"}
    )
    assert signup.status_code == 201, signup.text
    signin = await client.post("/signin", data={"username": "smoke@example.com", "password": "smoke test pw"})
    assert signin.status_code == 200, signin.text
    headers = {"Authorization": f"Bearer {signin.json()['access_token']}"}
    video = pan_video(tmp_path / "pan.mp4", frames=12)
    keyed = {**headers, "Idempotency-Key": "smoke-1"}  # bound in the task's own SQLite transaction
    answers = []
    for _ in range(2):
        with open(video.path, "rb") as f:
            answers.append(
                await client.post(
                    "/tasks/video-objects-detection/",
                    headers=keyed,
                    files={"videofile": ("pan.mp4", f, "video/mp4")},
                    data={"frame_stride": "3"},
                )
            )
    resp = answers[0]
    assert resp.status_code == 202, resp.text
    assert answers[1].status_code == 202 and answers[1].json()["task_id"] == resp.json()["task_id"]
    task_id = resp.json()["task_id"]
    for _ in range(600):
        result = (await client.get(f"/tasks/video-analysis-result/{task_id}/", headers=headers)).json()
        if result["ready"]:
            break
        await asyncio.sleep(0.2)
    assert result["status"] == "SUCCEEDED", result["error"]
    assert [f["frame"] for f in result["detections"]] == [0, 3, 6, 9]
    assert all("face" in compact for compact in result["result"]), result["result"]
    listed = (await client.get("/tasks/", headers=headers)).json()["tasks"]
    assert [t["task_id"] for t in listed] == [task_id]
    ended = await client.delete(f"/tasks/{task_id}/", headers=headers)
    assert ended.status_code == 200 and ended.json()["status"] == "SUCCEEDED"
