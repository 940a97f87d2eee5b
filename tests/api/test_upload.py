"""Uploads: a real video becomes a PENDING task and is run; every rejection leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from tests.support.uploads import UPLOAD, stored_files, wait_final
from tests.support.videos import noise_video, pan_video, png_image, truncate
from videoanalysis.storage import NotAVideo, check_upload, resolve_uri
from videoanalysis.tables import FrameDetections, Task


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return noise_video(tmp_path_factory.mktemp("clip") / "noise.mp4", frames=10).read_bytes()


async def test_upload_real_video_is_stored_and_analysed(api_client, signup_user, clip):
    _, headers = await signup_user(api_client)
    resp = await api_client.post(
        UPLOAD,
        headers=headers,
        files={"videofile": ("noise.mp4", clip, "video/mp4")},
        data={"score_threshold": "0.3", "frame_stride": "2", "labels": " face, "},
    )
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["status"] == "PENDING" and body["ready"] is False and body["model"] == "opencv-face"
    assert body["params"] == {
        "score_threshold": 0.3,
        "frame_stride": 2,
        "labels": ["face"],
        "batch_size": None,
        "tracker": "ocsort",
        "shards": 1,
        "zones": None,
        "lines": None,
    }
    assert body["shards"] is None  # one shard: no plan to show
    task = await Task.get(id=body["task_id"])
    # frames_total means "frames that will be analysed" from the upload on: 10 frames, stride 2.
    assert body["frames_total"] == task.frames_total == 5 and task.video_name == "noise.mp4"
    path = resolve_uri(task.video_uri, api_client.settings.resolved_videos_dir)
    assert path.read_bytes() == clip and path.suffix == ".mp4"
    assert stored_files(api_client) == [path]  # no temporary files left
    # The local dispatcher runs the real job (`python -m inference_job`) on it.
    result = await wait_final(api_client, headers, body["task_id"])
    assert result["status"] == "SUCCEEDED", result["error"]
    assert result["success"] is True and result["error"] is None
    assert [f["frame"] for f in result["detections"]] == [0, 2, 4, 6, 8]
    stored = [o["label"] for f in result["detections"] for o in f["objects"]]
    assert result["summary"] == {
        "detections": {label: stored.count(label) for label in set(stored)},
        "detections_total": len(stored),
        "objects": {},  # tracked (the default tracker), nothing to follow
        "objects_total": 0,
        "zones": None,  # none asked
        "lines": None,
    }
    assert result["result"] == [{} for _ in range(5)]  # noise: no faces


async def test_upload_accepts_the_file_field_and_defaults(api_client, signup_user, clip):
    _, headers = await signup_user(api_client)
    resp = await api_client.post(UPLOAD, headers=headers, files={"file": ("clip.mp4", clip, "video/mp4")})
    assert resp.status_code == 202, resp.text
    assert resp.json()["params"] == {
        "score_threshold": 0.5,
        "frame_stride": 1,
        "labels": None,
        "batch_size": None,
        "tracker": "ocsort",
        "shards": 1,
        "zones": None,
        "lines": None,
    }


async def assert_rejected(client, auth: dict, status: int, fragment: str, **kwargs) -> None:
    kwargs.setdefault("headers", auth)
    resp = await client.post(UPLOAD, **kwargs)
    assert resp.status_code == status, resp.text
    assert fragment in str(resp.json()["detail"])
    user = (await client.get("/me/", headers=auth)).json()
    assert await Task.filter(owner_id=user["id"]).count() == 0
    assert stored_files(client) == []


async def test_rejected_uploads_leave_no_row_and_no_file(api_client, signup_user, clip, tmp_path):
    _, headers = await signup_user(api_client)
    png = png_image(tmp_path / "a.png").read_bytes()
    cut = truncate(noise_video(tmp_path / "n.mp4"), tmp_path / "cut.mp4", 0.02).read_bytes()
    video = {"videofile": ("clip.mp4", clip, "video/mp4")}
    cases = [
        (415, "not a video", {"files": {"videofile": ("a.png", png, "image/png")}}),
        (415, "mp4", {"files": {"videofile": ("cut.mp4", cut, "video/mp4")}}),
        (415, "not a video", {"files": {"videofile": ("x.mp4", b"hello" * 100, "video/mp4")}}),
        (422, "known models: ", {"files": video, "data": {"model": "yolo9000"}}),
        (422, "score_threshold", {"files": video, "data": {"score_threshold": "1.5"}}),
        (422, "score_threshold", {"files": video, "data": {"score_threshold": "high"}}),
        (422, "frame_stride", {"files": video, "data": {"frame_stride": "0"}}),
        (422, "frame_stride", {"files": video, "data": {"frame_stride": "1.5"}}),
        (422, "batch_size", {"files": video, "data": {"batch_size": "0"}}),
        (422, "shards: must be an integer from 1 to 64, or auto", {"files": video, "data": {"shards": "0"}}),
        (422, "more than this server allows (16, VA_MAX_SHARDS)", {"files": video, "data": {"shards": "17"}}),
        (422, "videofile", {"files": {"other": ("clip.mp4", clip, "video/mp4")}}),
        (415, "multipart", {"json": {"videofile": "clip.mp4"}}),
    ]
    for status, fragment, kwargs in cases:
        await assert_rejected(api_client, headers, status, fragment, **kwargs)
    unauthenticated = await api_client.post(UPLOAD, files=video)
    assert unauthenticated.status_code == 401 and stored_files(api_client) == []


async def test_an_unknown_field_is_refused_naming_it_and_the_closest_known(api_client, signup_user, clip):
    """A misspelt field would run with the default in its place: 422 instead, before any row."""
    _, headers = await signup_user(api_client)
    video = {"videofile": ("clip.mp4", clip, "video/mp4")}
    await assert_rejected(
        api_client,
        headers,
        422,
        "unknown field 'score_treshold' (did you mean 'score_threshold'?)",
        files=video,
        data={"score_treshold": "0.9"},
    )
    thumbnail = {**video, "thumbnail": ("a.png", b"png", "image/png")}
    await assert_rejected(api_client, headers, 422, "unknown field 'thumbnail'", files=thumbnail)
    resp = await api_client.post(UPLOAD, headers=headers, files=video, data={"colour": "red"})
    assert resp.status_code == 422 and "did you mean" not in resp.json()["detail"]  # nothing close
    assert "videofile, file, video_url, model, score_threshold" in resp.json()["detail"]
    every = {
        "model": "opencv-face",
        "score_threshold": "0.9",
        "frame_stride": "3",
        "batch_size": "4",
        "tracker": "none",
        "shards": "2",
        "labels": "face",
        "client_request_token": "every-field",
    }
    resp = await api_client.post(UPLOAD, headers=headers, files=video, data=every)
    assert resp.status_code == 202, resp.text
    assert resp.json()["params"]["score_threshold"] == 0.9 and resp.json()["params"]["shards"] == 2
    assert resp.json()["shards"] == {"asked": 2, "planned": None, "reason": None, "parts": []}


@pytest.mark.parametrize("api_client", [{"shard_min_frames": 4, "max_shards": 2}], indirect=True)
async def test_auto_shards_are_resolved_from_the_frames_to_analyse(api_client, signup_user, clip):
    """`auto`: one shard per VA_SHARD_MIN_FRAMES frames the stride keeps, within VA_MAX_SHARDS;
    the row, the answer and a resource carry the number."""
    _, headers = await signup_user(api_client)
    video = {"videofile": ("clip.mp4", clip, "video/mp4")}
    cases = [({"shards": "auto"}, 2), ({"shards": "auto", "frame_stride": "3"}, 1)]  # 10 frames: 10 // 4, 4 // 4
    for data, expected in cases:
        resp = await api_client.post(UPLOAD, headers=headers, files=video, data=data)
        assert resp.status_code == 202, resp.text
        assert resp.json()["params"]["shards"] == expected
        assert (await Task.get(id=resp.json()["task_id"])).params["shards"] == expected


def multipart(boundary: str, headers: bytes, clip: bytes) -> bytes:
    """One `videofile` part with `headers` after its Content-Disposition."""
    disposition = b'Content-Disposition: form-data; name="videofile"; filename="clip.mp4"\r\n'
    return b"--%s\r\n%s%s\r\n%s\r\n--%s--\r\n" % (boundary.encode(), disposition, headers, clip, boundary.encode())


async def test_part_headers_past_the_limit_are_refused(api_client, signup_user, clip):
    """A part's headers are bounded (8 lines, 8 KiB in all) whatever the upload limit: a long
    run of lines each short enough, one line of a megabyte, too many lines: 413 saying so."""
    _, headers = await signup_user(api_client)
    form = {**headers, "content-type": "multipart/form-data; boundary=b0undary"}
    cases = [
        b"".join(b"X-Pad-%d: %s\r\n" % (n, b"p" * 2000) for n in range(5)),
        b"X-Pad: %s\r\n" % (b"p" * 1024 * 1024),
        b"".join(b"X-Pad-%d: p\r\n" % n for n in range(8)),
    ]
    for extra in cases:
        body = multipart("b0undary", extra, clip)
        await assert_rejected(api_client, headers, 413, "headers exceed the limit", content=body, headers=form)
    ordinary = b"Content-Type: video/mp4\r\n" + b"X-Note: %s\r\n" % (b"n" * 4000)
    resp = await api_client.post(UPLOAD, content=multipart("b0undary", ordinary, clip), headers=form)
    assert resp.status_code == 202, resp.text


async def test_too_large_is_cut_off_while_reading(open_api_client, signup_user, clip):
    async with open_api_client(max_upload_bytes=len(clip) - 1, upload_chunk_bytes=1024) as client:
        _, headers = await signup_user(client)
        await assert_rejected(
            client, headers, 413, "exceeds the limit", files={"videofile": ("clip.mp4", clip, "video/mp4")}
        )
        # Announced too large: refused from Content-Length before reading.
        await assert_rejected(
            client,
            headers,
            413,
            "exceeds the limit",
            content=b"x",
            headers={**headers, "content-type": "multipart/form-data; boundary=b", "content-length": str(10**9)},
        )
        # No Content-Length (chunked): the server stops reading once the cap is passed.
        sent = 0
        limit = client.settings.max_upload_bytes

        async def body():
            nonlocal sent
            yield b'--b\r\nContent-Disposition: form-data; name="videofile"; filename="big.mp4"\r\n\r\n'
            for _ in range(1000):
                sent += 4096
                yield b"\0" * 4096
            yield b"\r\n--b--\r\n"

        await assert_rejected(
            client,
            headers,
            413,
            "exceeds the limit",
            content=body(),
            headers={**headers, "content-type": "multipart/form-data; boundary=b"},
        )
        assert limit < sent < limit + 64 * 1024 + 2 * 4096  # stopped early, not after 4 MB


async def test_a_video_named_html_is_stored_and_served_as_the_video_it_is(api_client, signup_user, tmp_path):
    """A valid MP4 with a script appended, uploaded as evil.html: the key's extension and the
    served type come from the sniffed container, and the browser may not sniff or run it."""
    _, headers = await signup_user(api_client)
    payload = pan_video(tmp_path / "pan.mp4", frames=4).path.read_bytes() + b"<script>alert(document.cookie)</script>"
    resp = await api_client.post(
        "/tasks/video-objects-detection/", headers=headers, files={"videofile": ("evil.html", payload, "text/html")}
    )
    assert resp.status_code == 202, resp.text
    task = await Task.get(id=resp.json()["task_id"])
    assert task.video_uri.endswith(".mp4") and task.video_name == "evil.html"
    video = await api_client.get(f"/tasks/{task.id}/video", headers=headers)
    assert video.status_code == 200 and video.content == payload
    assert video.headers["content-type"] == "video/mp4"
    assert video.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in video.headers["content-security-policy"]
    assert "default-src 'none'" in video.headers["content-security-policy"]
    assert 'filename="evil.mp4"' in video.headers["content-disposition"]


async def test_erase_removes_the_video_the_rows_and_the_task(api_client, signup_user, clip):
    _, headers = await signup_user(api_client)
    _, stranger = await signup_user(api_client)
    resp = await api_client.post(UPLOAD, headers=headers, files={"videofile": ("a.mp4", clip, "video/mp4")})
    task_id = resp.json()["task_id"]
    await wait_final(api_client, headers, task_id)
    path = resolve_uri((await Task.get(id=task_id)).video_uri, api_client.settings.resolved_videos_dir)
    assert path.exists()
    assert (await api_client.delete(f"/tasks/{task_id}/?erase=true", headers=stranger)).status_code == 404
    cancel = await api_client.delete(f"/tasks/{task_id}/", headers=headers)  # cancel: it ended, left as it is
    assert cancel.status_code == 200 and cancel.json()["status"] == "SUCCEEDED" and path.exists()
    erased = await api_client.delete(f"/tasks/{task_id}/?erase=true", headers=headers)
    assert erased.status_code == 204 and erased.content == b""
    assert not path.exists() and not await Task.exists(id=task_id)
    assert not await FrameDetections.exists(task_id=task_id)
    assert (await api_client.get(f"/tasks/video-analysis-result/{task_id}/", headers=headers)).status_code == 404
    assert (await api_client.delete(f"/tasks/{task_id}/?erase=true", headers=headers)).status_code == 404


@pytest.mark.parametrize(
    "uri",
    ["file:///etc/passwd", "videos://../x", "videos:///etc/passwd", "videos://", "file://relative/x.mp4"],
)
def test_video_uris_never_resolve_outside_the_videos_folder(uri: str, tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "inside.mp4").write_bytes(b"v")
    assert resolve_uri("videos://inside.mp4", videos) == (videos / "inside.mp4").resolve()
    assert resolve_uri(f"file://{videos}/inside.mp4", videos) == (videos / "inside.mp4").resolve()
    with pytest.raises(ValueError, match=r"outside the videos folder|unsupported video URI"):
        resolve_uri(uri, videos)


def test_a_symbolic_link_out_of_the_videos_folder_is_refused(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "out.mp4").symlink_to("/etc/passwd")
    with pytest.raises(ValueError, match="outside the videos folder"):
        resolve_uri("videos://out.mp4", videos)


def test_an_upload_must_open_and_hold_a_decodable_frame(tmp_path: Path) -> None:
    """Two refusals told apart: a container OpenCV cannot open, and one that opens holding no frame."""
    empty = tmp_path / "empty.avi"  # an AVI header and no frame
    cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48)).release()
    with pytest.raises(NotAVideo, match=r"^the avi file holds no decodable video frame$"):
        check_upload(empty)
    cut = truncate(pan_video(tmp_path / "pan.mp4", frames=6).path, tmp_path / "cut.mp4", 0.6)
    with pytest.raises(NotAVideo, match=r"^the mp4/mov file cannot be opened as a video$"):
        check_upload(cut)
    meta, extension = check_upload(pan_video(tmp_path / "whole.mp4", frames=6).path)
    assert (meta.frames, extension) == (6, ".mp4")
