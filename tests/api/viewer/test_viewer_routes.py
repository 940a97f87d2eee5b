"""The viewer's HTTP routes on the real API: frame JPEGs with boxes, the video with Range, the
query-token rule, and owner-only refusals."""

from __future__ import annotations

from pathlib import Path

import cv2
import httpx
import numpy as np

from api.viewer.boxes import label_colour
from api.viewer.routes import NO_VIDEO, _announced
from tests.api.viewer.pixels import edge_hits, stray_pixels
from tests.support.uploads import Analysed, viewer_token

FRAME = 10


def _iou(a: list[float], b: tuple[int, int, int, int]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_frame_jpeg_has_the_box_drawn_at_the_detection(api_server: str, viewer_tasks: dict[str, Analysed]) -> None:
    task = viewer_tasks["webm"]
    face = task.frames[FRAME]["objects"][0]
    assert face["label"] == "face" and _iou(face["box"], task.video.face_boxes[FRAME]) > 0.5
    resp = httpx.get(
        f"{api_server}/tasks/{task.task_id}/frames/{FRAME}.jpg", headers={"Authorization": f"Bearer {task.token}"}
    )
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/jpeg"
    img = cv2.imdecode(np.frombuffer(resp.content, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == (240, 320, 3)
    r, g, b = label_colour("face")
    box = tuple(face["box"])
    assert edge_hits(img, box, (b, g, r), tol=60) >= 0.9
    assert stray_pixels(img, box, (b, g, r), tol=40, label=(110, 16)) < 15

    link = viewer_token(api_server, task.token, task.task_id)
    plain = httpx.get(
        f"{api_server}/tasks/{task.task_id}/frames/{FRAME}.jpg", params={"boxes": "false", "viewer_token": link}
    )
    plain_img = cv2.imdecode(np.frombuffer(plain.content, np.uint8), cv2.IMREAD_COLOR)
    assert plain.status_code == 200 and edge_hits(plain_img, box, (b, g, r), tol=60) < 0.2
    hidden = httpx.get(
        f"{api_server}/tasks/{task.task_id}/frames/{FRAME}.jpg", params={"min_score": 1, "viewer_token": link}
    )
    hidden_img = cv2.imdecode(np.frombuffer(hidden.content, np.uint8), cv2.IMREAD_COLOR)
    assert edge_hits(hidden_img, box, (b, g, r), tol=60) < 0.2


def test_frame_404s_say_why(api_server: str, viewer_tasks: dict[str, Analysed]) -> None:
    strided = viewer_tasks["mp4v"]
    auth = {"Authorization": f"Bearer {strided.token}"}
    base = f"{api_server}/tasks/{strided.task_id}/frames"
    past = httpx.get(f"{base}/24.jpg", headers=auth)
    assert past.status_code == 404 and "past the end of the video (24 frames)" in past.json()["detail"]
    skipped = httpx.get(f"{base}/7.jpg", headers=auth)
    assert skipped.status_code == 404
    assert "frame 7 was not analysed" in skipped.json()["detail"] and "frame stride 6" in skipped.json()["detail"]
    assert httpx.get(f"{base}/7.jpg", params={"boxes": "false"}, headers=auth).status_code == 200
    # past the end without boxes: answered from the container's count, nothing decoded
    far = httpx.get(f"{base}/999999999.jpg", params={"boxes": "false"}, headers=auth)
    assert far.status_code == 404 and "past the end of the video (24 frames)" in far.json()["detail"]
    assert httpx.get(f"{base}/6.jpg", headers=auth).status_code == 200
    assert httpx.get(f"{base}/-1.jpg", headers=auth).status_code == 422


def test_video_supports_range_requests(api_server: str, viewer_tasks: dict[str, Analysed]) -> None:
    task = viewer_tasks["webm"]
    url = f"{api_server}/tasks/{task.task_id}/video"
    link = viewer_token(api_server, task.token, task.task_id)
    full = httpx.get(url, params={"viewer_token": link})
    assert full.status_code == 200 and full.headers["content-type"] == "video/webm"
    assert full.content == task.video.path.read_bytes()
    part = httpx.get(url, params={"viewer_token": link}, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(full.content)}"
    assert part.content == full.content[100:200]


def test_other_users_and_strangers_are_refused(
    api_server: str, viewer_tasks: dict[str, Analysed], other_token: str
) -> None:
    task, sibling = viewer_tasks["webm"], viewer_tasks["mp4v"]
    other_task_link = viewer_token(api_server, sibling.token, sibling.task_id)
    refused = httpx.post(
        f"{api_server}/tasks/{task.task_id}/viewer-link", headers={"Authorization": f"Bearer {other_token}"}
    )
    assert refused.status_code == 404  # no link to someone else's task
    for path in ("view", "video", f"frames/{FRAME}.jpg"):
        url = f"{api_server}/tasks/{task.task_id}/{path}"
        assert httpx.get(url, params={"viewer_token": other_task_link}).status_code == 404, path  # one task only
        assert httpx.get(url, headers={"Authorization": f"Bearer {other_token}"}).status_code == 404
        assert httpx.get(url).status_code == 401, path
        assert httpx.get(url, params={"viewer_token": "not-a-token"}).status_code == 401, path
    page = httpx.get(f"{api_server}/tasks/{task.task_id}/view", params={"viewer_token": other_task_link})
    assert page.headers["content-type"].startswith("text/html") and f"task {task.task_id} not found" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"


def test_viewer_token_opens_one_tasks_get_routes_and_nothing_else(
    api_server: str, viewer_tasks: dict[str, Analysed]
) -> None:
    task = viewer_tasks["webm"]
    link = viewer_token(api_server, task.token, task.task_id)
    result = httpx.get(f"{api_server}/tasks/video-analysis-result/{task.task_id}/", params={"viewer_token": link})
    assert result.status_code == 200 and result.json()["task_id"] == task.task_id
    as_bearer = {"Authorization": f"Bearer {link}"}
    assert httpx.get(f"{api_server}/me/", headers=as_bearer).status_code == 401
    assert httpx.get(f"{api_server}/tasks/", headers=as_bearer).status_code == 401
    assert httpx.delete(f"{api_server}/tasks/{task.task_id}/", headers=as_bearer).status_code == 401
    page = httpx.get(f"{api_server}/tasks/{task.task_id}/view", params={"viewer_token": link})
    assert page.status_code == 200 and "/viewer/assets/viewer.js" in page.text
    assert httpx.get(f"{api_server}/viewer/assets/viewer.js").status_code == 200
    assert httpx.get(f"{api_server}/viewer/assets/viewer.html").status_code == 404


def test_the_accounts_access_token_is_refused_in_a_url(api_server: str, viewer_tasks: dict[str, Analysed]) -> None:
    task = viewer_tasks["webm"]
    for path in (f"video-analysis-result/{task.task_id}/", f"{task.task_id}/video", f"{task.task_id}/view"):
        resp = httpx.get(f"{api_server}/tasks/{path}", params={"access_token": task.token})
        assert resp.status_code == 401, path
        assert "not accepted in a URL" in resp.text, path


def test_a_stored_file_opencv_cannot_open_lays_out_no_frames(tmp_path: Path) -> None:
    """A manifest may name any file: the page then has no timeline and every frame is past the end."""
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video at all")
    assert _announced(notes) == NO_VIDEO and NO_VIDEO.frames == 0
