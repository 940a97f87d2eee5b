"""Tracks on the real API: the list with its filters and cursor, the summary's object counts,
the thumbnail (a crop of the best frame, no video needed), owner only, viewer links, erase."""

from __future__ import annotations

import cv2
import httpx
import numpy as np

from tests.support.accounts import sign_up_sync
from tests.support.uploads import Analysed, upload_sync, viewer_token, wait_succeeded_sync
from tests.support.videos import pan_video


def _get(url: str, token: str, path: str, **params: object) -> httpx.Response:
    return httpx.get(f"{url}{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_one_face_is_one_track_with_a_thumbnail(api_server: str, viewer_tasks: dict[str, Analysed]) -> None:
    task = viewer_tasks["webm"]
    body = _get(api_server, task.token, f"/tasks/{task.task_id}/tracks/").json()
    assert body["next_cursor"] is None
    (track,) = body["tracks"]
    video = task.video
    assert track["track_id"] == 1 and track["label"] == "face"
    assert track["frames_seen"] >= 0.8 * video.frames and track["first_frame"] <= 2
    assert track["last_frame"] >= video.frames - 2
    assert track["last_timestamp"] > track["first_timestamp"] >= 0
    x1, y1, x2, y2 = track["best_box"]
    assert track["mean_box_area"] > 0.5 * (x2 - x1) * (y2 - y1)
    ids = {o["track_id"] for f in task.frames.values() for o in f["objects"]} - {None}
    assert ids == {1}  # each detection carries its track id
    summary = _get(api_server, task.token, f"/tasks/video-analysis-result/{task.task_id}/").json()["summary"]
    assert summary["objects"] == {"face": 1} and summary["objects_total"] == 1
    listed = _get(api_server, task.token, "/tasks/").json()["tasks"]
    assert next(t for t in listed if t["task_id"] == task.task_id)["summary"]["objects_total"] == 1

    thumb = _get(api_server, task.token, f"/tasks/{task.task_id}/tracks/1/thumbnail.jpg")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    img = cv2.imdecode(np.frombuffer(thumb.content, np.uint8), cv2.IMREAD_COLOR)
    assert max(img.shape[:2]) <= 128 and min(img.shape[:2]) >= 32
    # the crop is the face: its pixels differ from the grey canvas
    assert float(np.abs(img.astype(int) - 90).mean()) > 20


def test_filters_cursor_and_hostile_queries(api_server: str, viewer_tasks: dict[str, Analysed]) -> None:
    task = viewer_tasks["webm"]
    base = f"/tasks/{task.task_id}/tracks/"
    assert _get(api_server, task.token, base, label="cat").json()["tracks"] == []
    assert _get(api_server, task.token, base, min_frames=10_000).json()["tracks"] == []
    assert len(_get(api_server, task.token, base, label="face", min_frames=2).json()["tracks"]) == 1
    assert _get(api_server, task.token, base, cursor="1").json() == {"tracks": [], "next_cursor": None}
    bad = _get(api_server, task.token, base, cursor="x'; drop")
    assert bad.status_code == 422 and "cursor" in bad.json()["detail"]
    assert _get(api_server, task.token, base, min_frames=0).status_code == 422
    missing = _get(api_server, task.token, f"/tasks/{task.task_id}/tracks/7/thumbnail.jpg")
    assert missing.status_code == 404 and "track 7" in missing.json()["detail"]


def test_only_the_owner_or_a_viewer_link_sees_tracks(
    api_server: str, viewer_tasks: dict[str, Analysed], other_token: str
) -> None:
    task = viewer_tasks["webm"]
    for path in (f"/tasks/{task.task_id}/tracks/", f"/tasks/{task.task_id}/tracks/1/thumbnail.jpg"):
        assert _get(api_server, other_token, path).status_code == 404
        assert httpx.get(f"{api_server}{path}", timeout=30).status_code == 401
        link = viewer_token(api_server, task.token, task.task_id)
        assert httpx.get(f"{api_server}{path}", params={"viewer_token": link}, timeout=30).status_code == 200


def test_tracker_none_stores_no_tracks_and_erase_removes_them(api_server: str, tmp_path) -> None:
    token = sign_up_sync(api_server)[0]["access_token"]
    video = pan_video(tmp_path / "pan.mp4", frames=12)
    plain = upload_sync(api_server, token, video.path, tracker="none")
    tracked = upload_sync(api_server, token, video.path)
    body = wait_succeeded_sync(api_server, token, plain)
    assert body["params"]["tracker"] == "none" and body["summary"]["objects"] is None
    assert all(o["track_id"] is None for f in body["detections"] for o in f["objects"])
    assert _get(api_server, token, f"/tasks/{plain}/tracks/").json()["tracks"] == []
    wait_succeeded_sync(api_server, token, tracked)
    assert len(_get(api_server, token, f"/tasks/{tracked}/tracks/").json()["tracks"]) == 1
    erased = httpx.delete(
        f"{api_server}/tasks/{tracked}/", params={"erase": "true"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert erased.status_code == 204
    assert _get(api_server, token, f"/tasks/{tracked}/tracks/").status_code == 404
    bad = httpx.post(
        f"{api_server}/tasks/video-objects-detection/",
        headers={"Authorization": f"Bearer {token}"},
        files={"videofile": ("a.mp4", video.path.read_bytes())},
        data={"tracker": "deepsort"},
        timeout=30,
    )
    assert bad.status_code == 422 and "tracker" in str(bad.json()["detail"])
