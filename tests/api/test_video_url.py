"""Uploads by URL: `video_url` instead of a file, checked by the SSRF guard and probed as a
video at upload, fetched again (and checked again) by the real job through the local
dispatcher, from a local HTTPS server whose certificate a test CA signed. The server is on
loopback, let in by the allow-list: a server inside the network, whose failures the probe
answers only with "not a video". A trickling server ends the probe at the minimum rate or its
deadline, in the probe's own threads: Starlette's shared pool stays free for everything else."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest

from api.video_url import NOT_A_VIDEO
from tests.support.https_videos import Trickle, VideoServer, https_video_server
from tests.support.ports import free_port
from tests.support.uploads import stored_files, wait_final
from tests.support.videos import pan_video
from videoanalysis import video_fetch
from videoanalysis.tables import Task

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
        (
            {"video_url": "https://localhost:{port}/pan.mp4", "shards": "auto"},
            422,
            "auto needs the video's frame count",
        ),
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
    monkeypatch.setattr(video_fetch, "refusal", lambda address: None)  # the test server counts as public
    _, headers = await signup_user(client)
    server.expired.add("pan.mp4")
    answers = []
    for name in ("missing.mp4", "pan.mp4"):
        resp = await client.post(UPLOAD, headers=headers, files={"video_url": (None, server.url(name))})
        answers.append((resp.status_code, resp.json()["detail"].split(":")[0]))
    assert answers == [(422, "the video URL answered 404 Not Found"), (422, "the video URL answered 403 Forbidden")]


@pytest.mark.parametrize(
    "limits, reason",
    [
        (  # 20 bytes/s: under the minimum once the first half second has passed
            {"video_url_min_bytes_per_second": 1024, "video_url_rate_window_seconds": 0.5},
            r"the server sent \d+ bytes in 0.5 s, below the minimum of 1 KiB/s",
        ),
        (  # a window longer than the probe: its deadline ends it
            {"video_url_probe_seconds": 1, "video_url_rate_window_seconds": 5},
            r"the first bytes of the video did not arrive within 1 s",
        ),
    ],
)
async def test_a_trickling_url_is_refused_with_the_reason_quickly(
    open_api_client: Any,
    signup_user: Any,
    server: VideoServer,
    monkeypatch: pytest.MonkeyPatch,
    limits: dict,
    reason: str,
) -> None:
    """A valid head, then one byte every 50 ms: a public server is told why (422), an inside one
    gets the 415 alone; either answer comes within the limits, and no task is made."""
    server.trickle["pan.mp4"] = Trickle(head=64, step=1, every_s=0.05)
    settings = {"video_url_allowed_networks": "127.0.0.1", "ca_bundle": server.ca_bundle, **limits}
    async with open_api_client(**settings) as client:
        data, headers = await signup_user(client)
        answers = []
        for public in (True, False):
            with monkeypatch.context() as patch:
                if public:
                    patch.setattr(video_fetch, "refusal", lambda address: None)  # the test server counts as public
                start = time.monotonic()
                resp = await asyncio.wait_for(
                    client.post(UPLOAD, headers=headers, files={"video_url": (None, server.url("pan.mp4"))}), 5
                )
                answers.append((resp.status_code, resp.json()["detail"], time.monotonic() - start))
    (public_code, public_detail, public_took), (inside_code, inside_detail, inside_took) = answers
    assert public_code == 422 and re.fullmatch(reason, public_detail), answers
    assert (inside_code, inside_detail) == (415, NOT_A_VIDEO)
    assert public_took < 2 and inside_took < 2
    assert await Task.filter(owner_id=data["user"]["id"]).count() == 0


class HoldingDispatcher:
    """Takes tasks and runs nothing: the test is about the upload's answer."""

    name = "holding"

    async def submit(self, task: Task) -> None:
        return None

    async def cancel(self, task: Task) -> None:
        return None

    async def close(self) -> None:
        return None


async def test_trickling_probes_leave_the_shared_threadpool_free(
    open_api_client: Any, signup_user: Any, server: VideoServer
) -> None:
    """Starlette's shared pool cut to 2 threads (40 in production) and 2 trickling probes in
    flight: a file upload, whose steps run in that pool, still answers at once; a third URL is
    answered 503 with Retry-After at once (the probe threads are full); the two trickling ones
    end at the minimum rate."""
    server.trickle["pan.mp4"] = Trickle(head=64, step=1, every_s=0.1)
    limiter = anyio.to_thread.current_default_thread_limiter()
    tokens = limiter.total_tokens
    settings = {
        "video_url_allowed_networks": "127.0.0.1",
        "ca_bundle": server.ca_bundle,
        "video_url_probe_threads": 2,
        "video_url_probe_seconds": 5,
        "video_url_min_bytes_per_second": 1024,
        "video_url_rate_window_seconds": 2.5,
    }
    async with open_api_client(HoldingDispatcher(), **settings) as client:
        _, headers = await signup_user(client)
        limiter.total_tokens = 2
        try:
            url = {"video_url": (None, server.url("pan.mp4"))}
            probes = [asyncio.create_task(client.post(UPLOAD, headers=headers, files=url)) for _ in range(2)]
            while len(server.requests) < 2:  # both probes are being trickled to
                await asyncio.sleep(0.02)
            start = time.monotonic()
            video = (server.root / "pan.mp4").read_bytes()
            upload = await asyncio.wait_for(
                client.post(UPLOAD, headers=headers, files={"videofile": ("pan.mp4", video, "video/mp4")}), 5
            )
            upload_took = time.monotonic() - start
            assert upload.status_code == 202, upload.text
            start = time.monotonic()
            third = await asyncio.wait_for(client.post(UPLOAD, headers=headers, files=url), 5)
            third_took = time.monotonic() - start
            assert not any(probe.done() for probe in probes)  # all this while both were in flight
            ended = await asyncio.wait_for(asyncio.gather(*probes), 10)
        finally:
            limiter.total_tokens = tokens
    assert upload_took < 1 and third_took < 1
    assert third.status_code == 503 and third.headers["Retry-After"] == "5", third.text
    assert "too many video URLs are being checked at once" in third.json()["detail"]
    assert [(r.status_code, r.json()["detail"]) for r in ended] == [(415, NOT_A_VIDEO)] * 2
    assert len(server.requests) == 2  # the third was not sent


@pytest.mark.parametrize(
    "variables, refusal",
    [
        ({"VA_VIDEO_URL_DEADLINE_SECONDS": "0"}, "VA_VIDEO_URL_DEADLINE_SECONDS: Input should be greater than 0"),
        ({"VA_VIDEO_URL_MIN_BYTES_PER_SECOND": "-1"}, "VA_VIDEO_URL_MIN_BYTES_PER_SECOND: Input should be greater"),
        ({"VA_VIDEO_URL_RATE_WINDOW_SECONDS": "0"}, "VA_VIDEO_URL_RATE_WINDOW_SECONDS: Input should be greater"),
        ({"VA_VIDEO_URL_PROBE_SECONDS": "0"}, "VA_VIDEO_URL_PROBE_SECONDS: Input should be greater than 0"),
        ({"VA_VIDEO_URL_PROBE_THREADS": "0"}, "VA_VIDEO_URL_PROBE_THREADS: Input should be greater than 0"),
        (
            {"VA_VIDEO_URL_DEADLINE_SECONDS": "60", "VA_VIDEO_URL_RATE_WINDOW_SECONDS": "60"},
            "VA_VIDEO_URL_RATE_WINDOW_SECONDS (60) must be shorter than VA_VIDEO_URL_DEADLINE_SECONDS (60)",
        ),
        (
            {"VA_VIDEO_URL_DEADLINE_SECONDS": "2", "VA_VIDEO_URL_RATE_WINDOW_SECONDS": "1"},  # 4 GiB in 2 s
            "VA_VIDEO_URL_DEADLINE_SECONDS (2) is too short for VA_VIDEO_URL_MAX_BYTES (4 GiB): the largest "
            "video would have to arrive at 2 GiB/s",
        ),
        (
            {"VA_VIDEO_URL_MIN_BYTES_PER_SECOND": str(2 * 1024**3)},
            f"VA_VIDEO_URL_MIN_BYTES_PER_SECOND ({2 * 1024**3}) is more than one connection delivers",
        ),
    ],
)
def test_absurd_limits_stop_the_api_and_the_job_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], refusal: str
) -> None:
    from api.config import SettingsError, load_settings
    from inference_job.config import JobSettings

    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=re.escape(refusal)):
        load_settings(data_dir=tmp_path)
    named = refusal.split(" ")[0].removesuffix(":").removeprefix("VA_")
    if "PROBE" not in named:  # the job's limits are the core's, refused the same way
        with pytest.raises(ValueError, match=f"(?i){named}"):
            JobSettings()


def test_sane_limits_reach_the_job_s_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.config import load_settings
    from inference_job.config import JobSettings

    defaults = load_settings(data_dir=tmp_path)
    assert (defaults.video_url_deadline_seconds, defaults.video_url_min_bytes_per_second) == (1800, 64 * 1024)
    assert (defaults.video_url_rate_window_seconds, defaults.video_url_probe_seconds) == (10, 10)
    monkeypatch.setenv("VA_VIDEO_URL_MAX_BYTES", str(512 * 1024**2))
    monkeypatch.setenv("VA_VIDEO_URL_DEADLINE_SECONDS", "600")
    monkeypatch.setenv("VA_VIDEO_URL_MIN_BYTES_PER_SECOND", "32768")
    handed_on = load_settings(data_dir=tmp_path).video_url_env()  # what the dispatchers give the job
    monkeypatch.delenv("VA_VIDEO_URL_DEADLINE_SECONDS")
    monkeypatch.delenv("VA_VIDEO_URL_MIN_BYTES_PER_SECOND")
    for name, value in handed_on.items():
        monkeypatch.setenv(name, value)
    policy = JobSettings().video_url_policy
    assert (policy.deadline_s, policy.min_rate, policy.rate_window_s) == (600, 32768, 10)
