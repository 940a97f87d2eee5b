"""Tasks: upload a video for analysis, read the result page by page, list, cancel."""

from __future__ import annotations

import base64
import logging
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from tortoise.expressions import Q

from api.config import ApiSettings
from api.deps import CurrentUser, DispatcherDep, OwnedTask, SettingsDep
from api.dispatchers import Dispatcher
from api.dispatchers.base import DispatchError
from api.forms import parse_as
from api.metrics import UPLOAD_BYTES, UPLOADS
from api.schemas import DetectedObject, FrameOut, TaskOut, TaskPage, TaskParams, TaskResult
from api.upload import Upload, UploadError, receive_upload
from videoanalysis.catalogue import ModelNotInstalledError, UnknownModelError, check_installed, entry
from videoanalysis.models import FrameDetections, Task, User
from videoanalysis.status import TaskStatus
from videoanalysis.storage import NotAVideo, UploadTooLarge, new_key, probe_video, video_uri
from videoanalysis.tasks import transition
from videoanalysis.webhooks import UnsafeCallbackURL, WebhookPolicy, check_url

router = APIRouter(prefix="/tasks", tags=["tasks"])
log = logging.getLogger(__name__)

UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["videofile"],
                    "properties": {
                        "videofile": {
                            "type": "string",
                            "format": "binary",
                            "description": "the video (also accepted as `file`)",
                        },
                        "model": {"type": "string", "description": "model name; default VA_DEFAULT_MODEL"},
                        "score_threshold": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
                        "frame_stride": {"type": "integer", "minimum": 1, "default": 1},
                        "labels": {"type": "string", "description": "comma-separated labels to keep (all if empty)"},
                        "callback_url": {
                            "type": "string",
                            "description": "POSTed a signed JSON body when the task ends",
                        },
                    },
                }
            }
        },
    }
}


def _task_params(fields: dict[str, str]) -> dict:
    """Task.params from the form fields; 422 with the reason when a value is bad."""
    raw: dict = {k: fields[k] for k in ("score_threshold", "frame_stride") if fields.get(k, "").strip()}
    labels = [x.strip() for x in fields.get("labels", "").split(",") if x.strip()]
    raw["labels"] = labels or None
    return parse_as(TaskParams, raw).model_dump()


def _callback_url(fields: dict[str, str], policy: WebhookPolicy) -> str | None:
    url = fields.get("callback_url", "").strip()
    if not url:
        return None
    if len(url) > 2048:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="callback_url is too long")
    try:
        check_url(url, policy)
    except UnsafeCallbackURL as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    return url


def _model_name(fields: dict[str, str], settings: ApiSettings) -> str:
    """The catalogue's name; with the local dispatcher the job runs in this install, so a
    model whose dependencies it lacks is refused here rather than failing later."""
    name = fields.get("model", "").strip() or settings.default_model
    try:
        entry(name)
        if settings.dispatcher == "local":
            check_installed(name)
    except (UnknownModelError, ModelNotInstalledError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    return name


async def _store_upload(request: Request, videos_dir: Path, max_bytes: int, chunk_bytes: int) -> Upload:
    """Stream the body to a temporary file; 413/400/415/422 errors leave nothing behind."""
    tmp = videos_dir / f".upload-{uuid.uuid4().hex}"
    try:
        upload = await receive_upload(request, tmp, max_bytes=max_bytes, chunk_bytes=chunk_bytes)
    except UploadTooLarge as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=str(exc)) from None
    except UploadError as exc:
        raise HTTPException(exc.status, detail=exc.message) from None
    if upload.path is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail="no video: send the file in the multipart field `videofile`"
        )
    return upload


@router.post(
    "/video-objects-detection/", status_code=status.HTTP_202_ACCEPTED, response_model=TaskOut, openapi_extra=UPLOAD_DOC
)
async def create_detection_task(
    request: Request, user: CurrentUser, settings: SettingsDep, dispatcher: DispatcherDep
) -> TaskOut:
    """Upload a video (streamed, size-capped, checked to be a video) and start its analysis."""
    try:
        task, size = await _accept_upload(request, user, settings)
    except HTTPException as exc:
        UPLOADS.labels(str(exc.status_code)).inc()
        raise
    UPLOADS.labels("accepted").inc()
    UPLOAD_BYTES.inc(size)
    return await _dispatch(task, dispatcher)


async def _accept_upload(request: Request, user: User, settings: ApiSettings) -> tuple[Task, int]:
    """Store the video and write the PENDING task row; nothing is left behind on a 4xx."""
    videos_dir = settings.resolved_videos_dir
    upload = await _store_upload(request, videos_dir, settings.max_upload_bytes, settings.upload_chunk_bytes)
    stored: Path = upload.path  # type: ignore[assignment]  # never None after _store_upload
    try:
        model = _model_name(upload.fields, settings)
        params = _task_params(upload.fields)
        callback = await run_in_threadpool(_callback_url, upload.fields, settings.webhook_policy)
        try:
            info = await run_in_threadpool(probe_video, stored)
        except NotAVideo as exc:
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail=str(exc)) from None
        key = new_key(Path(upload.filename).suffix)
        final = videos_dir / key
        stored.rename(final)
        stored = final
        task = await Task.create(
            owner=user,
            model=model,
            params=params,
            video_uri=video_uri(key),
            video_name=Path(upload.filename).name[:255],
            frames_total=info.frames,
            callback_url=callback,
            queue=settings.local_queue if settings.dispatcher == "local" else None,
        )
    except BaseException:
        stored.unlink(missing_ok=True)
        raise
    return task, upload.size


async def _dispatch(task: Task, dispatcher: Dispatcher) -> TaskOut:
    """Hand the task to the dispatcher; a failure marks it FAILED and answers 503."""
    try:
        await dispatcher.submit(task)
    except Exception as exc:  # DispatchError, or a bug: either way the task must not stay PENDING
        if not isinstance(exc, DispatchError):
            log.exception("dispatcher %s failed on task %s", dispatcher.name, task.id)
        reason = str(exc) or type(exc).__name__
        await transition(task.id, TaskStatus.FAILED, error=f"could not start the analysis: {reason}")
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"task {task.id} failed to start: {reason}"
        ) from None
    return TaskOut.of(task)


@router.get("/video-analysis-result/{task_id}/", response_model=TaskResult)
async def read_result(
    task: OwnedTask,
    limit: Annotated[int, Query(ge=1, le=1000, description="frames per page")] = 100,
    cursor: Annotated[int | None, Query(ge=0, description="return frames after this frame index")] = None,
) -> TaskResult:
    """Status, progress and one page of detections (frames in order)."""
    query = FrameDetections.filter(task_id=task.id).order_by("frame_index")
    if cursor is not None:
        query = query.filter(frame_index__gt=cursor)
    rows = await query.limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    frames = [
        FrameOut(
            frame=r.frame_index, timestamp=r.timestamp, objects=[DetectedObject.model_validate(o) for o in r.objects]
        )
        for r in rows
    ]
    compact = [_best_scores(f) for f in frames]
    return TaskResult(
        **TaskOut.of(task).model_dump(),
        detections=frames,
        result=compact,
        next_cursor=rows[-1].frame_index if more else None,
    )


def _best_scores(frame: FrameOut) -> dict[str, float]:
    best: dict[str, float] = {}
    for obj in frame.objects:
        best[obj.label] = max(obj.score, best.get(obj.label, 0.0))
    return best


def _encode_cursor(task: Task) -> str:
    return base64.urlsafe_b64encode(f"{task.created_at.isoformat()}|{task.id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        stamp, _, key = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), uuid.UUID(key)
    except ValueError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="malformed cursor") from None


@router.get("/", response_model=TaskPage)
async def list_tasks(
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> TaskPage:
    """The caller's tasks, newest first."""
    query = Task.filter(owner_id=user.id).order_by("-created_at", "-id")
    if cursor:
        stamp, key = _decode_cursor(cursor)
        query = query.filter(Q(created_at__lt=stamp) | Q(created_at=stamp, id__lt=key))
    tasks = await query.limit(limit + 1)
    more = len(tasks) > limit
    tasks = tasks[:limit]
    return TaskPage(tasks=[TaskOut.of(t) for t in tasks], next_cursor=_encode_cursor(tasks[-1]) if more else None)


@router.delete("/{task_id}/", response_model=TaskOut)
async def cancel_task(task: OwnedTask, dispatcher: DispatcherDep) -> TaskOut:
    """Stop the run and mark the task CANCELLED; 409 when it has already ended otherwise."""
    if TaskStatus(task.status) is TaskStatus.CANCELLED:
        return TaskOut.of(task)
    if TaskStatus(task.status).is_final:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"task already ended: {task.status}")
    try:
        await dispatcher.cancel(task)
    except DispatchError as exc:  # the run may still be going: do not claim it stopped
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"could not cancel: {exc}") from None
    moved = await transition(task.id, TaskStatus.CANCELLED, error="cancelled by the owner")
    if moved is None:
        await task.refresh_from_db()
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"task already ended: {task.status}")
    return TaskOut.of(moved)
