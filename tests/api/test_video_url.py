"""Uploads by URL: `video_url` instead of a file, checked by the SSRF guard and probed as a
video at upload, fetched again (and checked again) by the real job through the local
dispatcher, from a local HTTPS server whose certificate a test CA signed. The server is on
loopback, let in by the allow-list: a server inside the network, whose failures the probe
answers only with "not a video"."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.video_url import NOT_A_VIDEO
from tests.api.test_upload import stored_files, wait_final
from tests.api_process import free_port
from tests.https_videos import VideoServer, https_video_server
from tests.videos import pan_video
from videoanalysis import remote
from videoanalysis.models import Task

FRAMES = 12
UPLOAD = "/tasks/video-objects-detection/"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[VideoServer]:
    www = tmp_path / "www"
    www.mkdir()
    shutil.copy(pan_video(tmp_path / "pan.mp4", frames=FRAMES).path, www / "pan.mp4")
    (www / "notes.txt").write_text("not a video at all, just some text " * 20)
    with https_video_server(www, tmp_path) as srv:
        yield srv


@pytest.fixture
async def client(open_api_client: Any, server: VideoServer) -> Any:
    async with open_api_client(video_url_allowed_networks="127.0.0.1", ca_bundle=server.ca_bundle) as c:
        yield c


async def test_a_video_by_url_is_analysed_and_never_stored(client: Any, signup_user: Any, server: VideoServer) -> None:
    _, headers = await signup_user(client)
    resp = await client.post(
        UPLOAD, headers=headers, files={"video_url": (None, server.url("pan.mp4")), "frame_stride": (None, "2")}
    )
    assert resp.status_code == 202, resp.text
    task = resp.json()
    assert task["video_name"] == "pan.mp4" and task["frames_total"] is None  # unknown until the job has it
    assert server.requests == [("pan.mp4", "bytes=0-511")]  # the probe reads the head only
    result = await wait_final(client, headers, task["task_id"])
    assert result["status"] == "SUCCEEDED", result["error"]
    assert result["frames_total"] == FRAMES // 2 == len(result["detections"])
    assert result["summary"]["detections"]["face"] >= FRAMES // 4
    assert stored_files(client) == []  # the API keeps no copy; the job's temporary file is gone
    video = await client.get(f"/tasks/{task['task_id']}/video", headers=headers)
    assert video.status_code == 404 and "read from its URL by the analysis" in video.json()["detail"]


@pytest.mark.parametrize(
    "fields, code, reason",
    [
        ({"video_url": "https://localhost:{port}/pan.mp4", "videofile": "FILE"}, 422, "not both"),
        ({"model": "opencv-face"}, 422, "no video: send the file"),
        ({"video_url": "http://localhost:{port}/pan.mp4"}, 422, "video_url must be https://"),
        ({"video_url": "https://localhost:{port}/notes.txt"}, 415, "does not point to a video"),
        ({"video_url": "file:///etc/passwd"}, 422, "video_url must be an absolute http(s) URL"),
        ({"video_url": "https://u:p@localhost:{port}/pan.mp4"}, 422, "must not carry credentials"),
    ],
)
async def test_refused_urls_say_why_and_leave_nothing(
    client: Any, signup_user: Any, server: VideoServer, tmp_path: Path, fields: dict, code: int, reason: str
) -> None:
    data, headers = await signup_user(client)
    files: dict[str, Any] = {k: (None, v.format(port=server.port)) for k, v in fields.items() if k != "videofile"}
    if "videofile" in fields:
        files["videofile"] = ("pan.mp4", (server.root / "pan.mp4").read_bytes(), "video/mp4")
    resp = await client.post(UPLOAD, headers=headers, files=files)
    assert resp.status_code == code and reason in resp.json()["detail"], resp.text
    assert await Task.filter(owner_id=data["user"]["id"]).count() == 0 and stored_files(client) == []


async def test_loopback_without_the_allow_list_is_refused_at_upload(
    open_api_client: Any, signup_user: Any, server: VideoServer
) -> None:
    async with open_api_client(ca_bundle=server.ca_bundle) as client:
        _, headers = await signup_user(client)
        resp = await client.post(UPLOAD, headers=headers, files={"video_url": (None, server.url("pan.mp4"))})
    assert resp.status_code == 422
    assert resp.json()["detail"] == "video_url host 'localhost' resolves to a non-public address (127.0.0.1: loopback)"
    assert server.requests == []


async def test_an_inside_server_that_serves_no_video_gets_one_answer(
    client: Any, signup_user: Any, server: VideoServer
) -> None:
    """Text, a 404, a 403 and a closed port look the same: the probe maps no internal service."""
    _, headers = await signup_user(client)
    server.expired.add("pan.mp4")
    urls = [server.url(name) for name in ("notes.txt", "missing.mp4", "pan.mp4")]
    urls.append(f"https://localhost:{free_port()}/pan.mp4")
    answers = []
    for url in urls:
        resp = await client.post(UPLOAD, headers=headers, files={"video_url": (None, url)})
        answers.append((resp.status_code, resp.json()["detail"]))
    assert answers == [(415, NOT_A_VIDEO)] * 4
    assert [name for name, _ in server.requests] == ["notes.txt", "missing.mp4", "pan.mp4"]
    assert stored_files(client) == []


async def test_a_public_server_s_answer_is_shown(
    client: Any, signup_user: Any, server: VideoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a public server answers anyone could ask it directly; it says what to fix."""
    monkeypatch.setattr(remote, "refusal", lambda address: None)  # the test server counts as public
    _, headers = await signup_user(client)
    server.expired.add("pan.mp4")
    answers = []
    for name in ("missing.mp4", "pan.mp4"):
        resp = await client.post(UPLOAD, headers=headers, files={"video_url": (None, server.url(name))})
        answers.append((resp.status_code, resp.json()["detail"].split(":")[0]))
    assert answers == [(422, "the video URL answered 404 Not Found"), (422, "the video URL answered 403 Forbidden")]
