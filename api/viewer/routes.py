"""The results viewer: an HTML page over a task's video, the video itself (with HTTP Range, so the
browser can seek), and single frames as JPEG with the boxes drawn.

These routes (and the result) also take a viewer token as the `viewer_token` query parameter
(`api/viewer/access.py`): a navigation and a <video src> send no headers. `POST
/tasks/{task_id}/viewer-link` makes one, bound to the caller's sign-in session.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import cv2
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.auth.tokens import TokenType, create_token
from api.deps import OwnedTask, SettingsDep, TokenDep, unauthorized
from api.schemas import ViewerLinkOut
from api.viewer.access import ViewerTask, get_viewer_task
from api.viewer.boxes import PALETTE, decode_frame, draw_boxes
from videoanalysis.storage import resolve_uri, sniff_file
from videoanalysis.tables import FrameDetections, Task, TaskOrigin
from videoanalysis.uploadkeys import is_upload_uri
from videoanalysis.video_fetch import is_url
from videoanalysis.video_probe import VideoMeta, VideoReadError, probe_video

router = APIRouter(tags=["viewer"])

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSETS = {"viewer.js": "text/javascript", "viewer.css": "text/css"}
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the URL carries the token: never pass it on
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; media-src 'self'; "
    "script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
}

MEDIA_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


def _page(body_html: str, *, title: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><link rel=stylesheet href='/viewer/assets/viewer.css'>"
        f"</head><body>{body_html}</body></html>",
        status_code=status_code,
        headers=PAGE_HEADERS,
    )


def _refusal(exc: HTTPException) -> HTMLResponse:
    """A page a person can read, with the API's status code and message."""
    message = html.escape(str(exc.detail))
    return _page(
        f"<main class=refusal><h1>{exc.status_code}</h1><p id=refusal>{message}</p></main>",
        title=f"{exc.status_code} · VideoAnalysis",
        status_code=exc.status_code,
    )


def _video_path(task: Task, videos_dir: Path) -> Path:
    if is_url(task.video_uri):  # the API would have to fetch it on every seek: not proxied
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"the video of task {task.id} is read from its URL by the analysis, not stored by the API; "
            "open the URL itself",
        )
    if task.origin == TaskOrigin.MANIFEST and is_upload_uri(task.video_uri):  # a manifest row older than the refusal
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"the video of task {task.id} is an upload of the API, not the manifest's"
        )
    try:
        path = resolve_uri(task.video_uri, videos_dir)
    except ValueError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"video of task {task.id}: {exc}") from None
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"the video of task {task.id} is no longer stored")
    return path


# What the viewer lays out for a stored file OpenCV cannot open (a manifest may name anything):
# a page without a timeline, and no frame to step to.
NO_VIDEO = VideoMeta(frames=0, fps=0.0, width=0, height=0)


def _announced(path: Path) -> VideoMeta:
    try:
        return probe_video(path)
    except VideoReadError:
        return NO_VIDEO


@router.get("/tasks/{task_id}/view", response_class=HTMLResponse)
async def view_task(
    request: Request,
    task_id: str,
    settings: SettingsDep,
    token: TokenDep,
    viewer_token: Annotated[str | None, Query(description="token of a viewer link")] = None,
    access_token: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> HTMLResponse:
    """The viewer page: the video with its boxes drawn in sync, a timeline, filters, frame steps.
    Owner only; anyone else gets a refusal page with the same 404 as the API."""
    try:
        task = await get_viewer_task(request, task_id, token, settings, viewer_token, access_token)
        meta = await run_in_threadpool(_announced, _video_path(task, settings.resolved_videos_dir))
    except HTTPException as exc:
        return _refusal(exc)
    config: dict[str, Any] = {
        "task_id": str(task.id),
        "video_name": task.video_name,
        "model": task.model,
        "fps": meta.fps,
        "frames": meta.frames,
        "palette": ["#{:02x}{:02x}{:02x}".format(*c) for c in PALETTE],
        "result_url": f"/tasks/video-analysis-result/{task.id}/",
        "video_url": f"/tasks/{task.id}/video",
        "frames_url": f"/tasks/{task.id}/frames/",
        "tracks_url": f"/tasks/{task.id}/tracks/",
        "events_url": f"/tasks/{task.id}/events/",
    }
    # `<` escaped so that no value (the video's name comes from the user) can close the tag.
    data = json.dumps(config).replace("<", "\\u003c")
    template = (STATIC_DIR / "viewer.html").read_text()
    return _page(template.replace("__CONFIG__", data), title=f"{task.video_name or task.id} · VideoAnalysis")


@router.post("/tasks/{task_id}/viewer-link", response_model=ViewerLinkOut)
async def viewer_link(request: Request, task: OwnedTask, token: TokenDep, settings: SettingsDep) -> ViewerLinkOut:
    """A link to the viewer page with a short-lived token (`VA_VIEWER_TOKEN_MINUTES`) that opens
    the GET routes of this one task only (page, result, video, frames), never anything else, and
    only while the sign-in session of the access token that asked for it lasts."""
    # `OwnedTask` has checked this access token: its claims come from the replica's token cache.
    session_id = request.app.state.verified_tokens.access_claims(token or "").session_id
    if session_id is None:
        raise unauthorized("this access token belongs to no sign-in session: sign in again to make a viewer link")
    await task.fetch_related("owner")
    lifetime = timedelta(minutes=settings.viewer_token_minutes)
    link_token = create_token(
        task.owner, TokenType.VIEWER, lifetime, settings.secret_key, session_id=session_id, task_id=str(task.id)
    )
    path = f"/tasks/{task.id}/view?viewer_token={link_token}"
    return ViewerLinkOut(
        url=f"{settings.public_url.rstrip('/')}{path}",
        path=path,
        viewer_token=link_token,
        expires_at=datetime.now(UTC) + lifetime,
    )


@router.get("/viewer/assets/{name}", include_in_schema=False)
async def viewer_asset(name: str) -> FileResponse:
    """The page's script and style sheet (a fixed list: nothing else under api/viewer/static is served)."""
    if name not in ASSETS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no viewer asset {name!r}")
    return FileResponse(STATIC_DIR / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})


@router.get("/tasks/{task_id}/video", response_class=FileResponse)
async def task_video(task: ViewerTask, settings: SettingsDep) -> FileResponse:
    """The uploaded video, with HTTP Range support (206 partial content) so players can seek.
    Its type is the sniffed container's, never taken from the name, and the browser may neither
    sniff another nor run anything in it."""
    path = _video_path(task, settings.resolved_videos_dir)
    sniffed = await run_in_threadpool(sniff_file, path)
    extension, media_type = sniffed or (".bin", "application/octet-stream")
    return FileResponse(
        path,
        media_type=media_type,
        filename=f"{Path(task.video_name).stem or task.id}{extension}",
        content_disposition_type="inline",
        headers={"Cache-Control": "private, max-age=3600", **MEDIA_HEADERS},
    )


@router.get(
    "/tasks/{task_id}/frames/{index}.jpg", response_class=Response, responses={200: {"content": {"image/jpeg": {}}}}
)
async def task_frame(
    task: ViewerTask,
    settings: SettingsDep,
    index: Annotated[int, PathParam(ge=0, description="frame index, from 0")],
    boxes: Annotated[bool, Query(description="draw the detections (false: the plain frame)")] = True,
    min_score: Annotated[float, Query(ge=0.0, le=1.0, description="draw only objects scoring this or more")] = 0.0,
) -> Response:
    """One decoded frame as JPEG with its detections drawn; 404 past the end or when not analysed."""
    row = await FrameDetections.get_or_none(task_id=task.id, frame_index=index)
    path = _video_path(task, settings.resolved_videos_dir)
    if row is None:  # the container's count first: seeking past the end decodes the whole video
        total = (await run_in_threadpool(_announced, path)).frames
        if index >= total:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, detail=f"frame {index} is past the end of the video ({total} frames)"
            )
        if boxes:
            stride = (task.params or {}).get("frame_stride", 1)
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                detail=(
                    f"frame {index} was not analysed (task {task.status}, frame stride {stride}); "
                    "ask with boxes=false for the plain frame"
                ),
            )
    frame = await run_in_threadpool(decode_frame, path, index)
    if frame is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"frame {index} is past the end of the video (it cannot be decoded)"
        )
    if boxes and row is not None:
        draw_boxes(frame, [o for o in row.objects if o.get("score", 0.0) >= min_score])
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, detail="the frame could not be encoded as JPEG")
    return Response(jpeg.tobytes(), media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})
