"""Tasks: upload a video for analysis, read the result page by page, list, cancel."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import Json, TypeAdapter
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from api import dispatch_intents as intents
from api import idempotency
from api.config import ApiSettings
from api.deps import CurrentUser, DispatcherDep, OwnedTask, SettingsDep
from api.dispatchers import Dispatcher
from api.dispatchers.base import DispatchError
from api.erase import erase_task
from api.metrics import UPLOAD_BYTES, UPLOADS
from api.reads import Prepared
from api.schemas import DetectedObject, FrameOut, TaskOut, TaskPage, TaskResult, TaskSummary
from api.upload import Upload, UploadError, receive_upload
from api.video_url import UrlProber, probe_video_url
from api.viewer_auth import ViewerTask
from videoanalysis.catalogue import ModelNotInstalledError, UnknownModelError, check_installed
from videoanalysis.clock import db_now
from videoanalysis.models import FrameDetections, Task, User
from videoanalysis.params import TRACKERS, AnalysisParams, ParamsError, frames_to_analyse, parse_params
from videoanalysis.status import TaskStatus
from videoanalysis.storage import NotAVideo, UploadTooLarge, new_key, probe_video, video_uri
from videoanalysis.tasks import transition
from videoanalysis.uploadkeys import UPLOAD_TMP_PREFIX
from videoanalysis.webhooks import UnsafeCallbackURL, WebhookPolicy, check_url

router = APIRouter(prefix="/tasks", tags=["tasks"])
UPLOAD_PATH = "/tasks/video-objects-detection/"
STREAMED_PATHS = frozenset({UPLOAD_PATH})  # bodies capped by VA_MAX_UPLOAD_BYTES while streamed, not VA_MAX_JSON_BYTES
log = logging.getLogger(__name__)
#: Form fields of the parameter contract besides `labels` (comma-separated in the form).
FORM_PARAMS = ("model", "score_threshold", "frame_stride", "batch_size", "tracker")
#: Every text field the upload takes (the video is `videofile` or `file`); any other is a 422.
UPLOAD_FIELDS = ("video_url", *FORM_PARAMS, "labels", "callback_url", idempotency.FIELD)

UPLOAD_DOC = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 255},
            "description": "the same key within 24 h answers the first response (same fields and file; "
            "else 422); 409 while the first request is still being received",
        }
    ],
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "additionalProperties": False,  # any other field is a 422 (UPLOAD_FIELDS)
                    "properties": {
                        "videofile": {
                            "type": "string",
                            "format": "binary",
                            "description": "the video (also accepted as `file`); or give `video_url`",
                        },
                        "video_url": {
                            "type": "string",
                            "description": "https:// URL of the video (a presigned URL is one), instead of a file",
                        },
                        "model": {"type": "string", "description": "model name; default VA_DEFAULT_MODEL"},
                        "score_threshold": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
                        "frame_stride": {"type": "integer", "minimum": 1, "default": 1},
                        "batch_size": {"type": "integer", "minimum": 1, "maximum": 256},
                        "tracker": {"type": "string", "enum": list(TRACKERS), "default": "ocsort"},
                        "labels": {"type": "string", "description": "comma-separated labels to keep (all if empty)"},
                        "callback_url": {
                            "type": "string",
                            "description": "POSTed a signed JSON body when the task ends",
                        },
                        "client_request_token": {
                            "type": "string",
                            "maxLength": 255,
                            "description": "as the Idempotency-Key header: a retry answers the first task",
                        },
                    },
                }
            }
        },
    },
}


def _task_params(fields: dict[str, str], settings: ApiSettings) -> AnalysisParams:
    """The parameter contract from the form fields (model defaulted to VA_DEFAULT_MODEL);
    422 naming each bad field. With the local dispatcher the job runs in this install, so a
    model whose dependencies it lacks is refused here rather than failing later."""
    raw: dict = {k: fields[k].strip() for k in FORM_PARAMS if fields.get(k, "").strip()}
    labels = [x.strip() for x in fields.get("labels", "").split(",") if x.strip()]
    raw["labels"] = labels or None
    try:
        params = parse_params(raw, strict=False).with_model(settings.default_model)
        if settings.dispatcher == "local":
            check_installed(str(params.model))
    except (ParamsError, UnknownModelError, ModelNotInstalledError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    return params


def _callback_url(fields: dict[str, str], policy: WebhookPolicy) -> str | None:
    url = fields.get("callback_url", "").strip(" ")
    if not url:
        return None
    try:
        check_url(url, policy)
    except UnsafeCallbackURL as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    return url


async def _store_upload(request: Request, videos_dir: Path, settings: ApiSettings) -> Upload:
    """Stream the body to a temporary file; 413/400/415/422 errors leave nothing behind.
    Exactly one of a file and `video_url` (422 for both or neither); an unknown field is a 422."""
    tmp = videos_dir / f"{UPLOAD_TMP_PREFIX}{uuid.uuid4().hex}"
    try:
        upload = await receive_upload(
            request,
            tmp,
            max_bytes=settings.max_upload_bytes,
            chunk_bytes=settings.upload_chunk_bytes,
            text_fields=UPLOAD_FIELDS,
            max_fields=settings.max_form_fields,
        )
    except UploadTooLarge as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=str(exc)) from None
    except UploadError as exc:
        raise HTTPException(exc.status, detail=exc.message) from None
    url = upload.fields.get("video_url", "").strip()
    if upload.path is not None and url:
        upload.path.unlink(missing_ok=True)
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="send either a video file (`videofile`) or `video_url`, not both",
        )
    if upload.path is None and not url:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="no video: send the file in the multipart field `videofile`, or its URL in `video_url`",
        )
    return upload


@router.post(
    "/video-objects-detection/", status_code=status.HTTP_202_ACCEPTED, response_model=TaskOut, openapi_extra=UPLOAD_DOC
)
async def create_detection_task(
    request: Request, user: CurrentUser, settings: SettingsDep, dispatcher: DispatcherDep
) -> Any:
    """Upload a video (streamed, size-capped, checked to be a video) and start its analysis.
    With an `Idempotency-Key` (or `client_request_token`), a retry answers the first response."""
    async with idempotency.scope(request, user, settings.upload_idle_seconds) as keyed:
        try:
            task, size = await _accept_upload(request, user, settings, keyed)
        except idempotency.Replay as replay:
            return replay.response()
        except HTTPException as exc:
            UPLOADS.labels(str(exc.status_code)).inc()
            raise
        UPLOADS.labels("accepted").inc()
        UPLOAD_BYTES.inc(size)
        # The key (if any) is bound to the task since its INSERT: whatever happens from here on,
        # a retry answers this task, never a second one.
        try:
            return await _dispatch(task, dispatcher)
        except HTTPException as exc:  # it FAILED to start: the key answers that from now on
            await keyed.answer(exc.status_code, {"detail": exc.detail})
            raise


async def _accept_upload(
    request: Request, user: User, settings: ApiSettings, keyed: idempotency.Scope
) -> tuple[Task, int]:
    """Store the video (or check its URL) and write the PENDING task row; nothing is left
    behind on a 4xx."""
    videos_dir = settings.resolved_videos_dir
    upload = await _store_upload(request, videos_dir, settings)
    if upload.path is None:
        await keyed.check(upload.fields, None)
        return await _accept_url(upload.fields, user, settings, request.app.state.url_prober, keyed), 0
    stored: Path = upload.path
    try:
        await keyed.check(upload.fields, stored)  # Replay, 409 or 422 before any task is made
        params = _task_params(upload.fields, settings)
        callback = await run_in_threadpool(_callback_url, upload.fields, settings.webhook_policy)
        try:
            info = await run_in_threadpool(probe_video, stored)
        except NotAVideo as exc:
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail=str(exc)) from None
        key = new_key(info.extension)  # from the sniffed container, never the client's file name
        final = videos_dir / key
        stored.rename(final)
        stored = final
        task = await _create_task(
            user,
            settings,
            keyed,
            params,
            callback,
            video_uri=video_uri(key),
            video_name=Path(upload.filename).name[:255],
            frames_total=frames_to_analyse(info.frames, params.frame_stride),
        )
    except BaseException:
        stored.unlink(missing_ok=True)
        raise
    return task, upload.size


async def _accept_url(
    fields: dict[str, str], user: User, settings: ApiSettings, prober: UrlProber, keyed: idempotency.Scope
) -> Task:
    """A task whose video the job reads from `video_url`; frames_total stays unknown (null)
    until the job has the video and counts the frames it will analyse."""
    params = _task_params(fields, settings)
    callback = await run_in_threadpool(_callback_url, fields, settings.webhook_policy)
    url = fields["video_url"].strip()
    name = await probe_video_url(url, settings.video_url_policy, prober)
    return await _create_task(user, settings, keyed, params, callback, video_uri=url, video_name=name)


async def _create_task(
    user: User,
    settings: ApiSettings,
    keyed: idempotency.Scope,
    params: AnalysisParams,
    callback: str | None,
    **video: Any,
) -> Task:
    """The PENDING row, one INSERT with how it will run: the local queue's name, or the intent
    to dispatch it to the cluster (see api.dispatch_intents); the upload's Idempotency-Key is
    bound to it in the same transaction, answered with the 202 the upload answers."""
    local = settings.dispatcher == "local"

    async def insert(conn: BaseDBAsyncClient | None) -> Task:
        return await Task.create(
            owner=user,
            model=params.model,
            params=params.stored(),
            callback_url=callback,
            queue=settings.local_queue if local else None,
            dispatch_due_at=None if local else await db_now(conn),
            using_db=conn,
            **video,
        )

    return await keyed.create(insert, lambda task: TaskOut.of(task).model_dump(mode="json"))


async def _dispatch(task: Task, dispatcher: Dispatcher) -> TaskOut:
    """Hand the task to the dispatcher; a failure marks it FAILED and answers 503."""
    intent = task.dispatch_due_at is not None
    if intent and not await intents.claim(task.id):
        return TaskOut.of(task)  # a reconciler claimed it meanwhile and dispatches it
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
    if intent:
        await Task.filter(id=task.id).update(dispatch_due_at=None)
    return TaskOut.of(task)


FRAMES_AFTER = Prepared(
    FrameDetections,
    {"task_id": uuid.UUID, "after": int, "limit": int},
    lambda task_id, after, limit: (
        FrameDetections.filter(task_id=task_id, frame_index__gt=after).order_by("frame_index").limit(limit)
    ),
)


@router.get("/video-analysis-result/{task_id}/", response_model=TaskResult)
async def read_result(
    task: ViewerTask,
    limit: Annotated[int, Query(ge=1, le=1000, description="frames per page")] = 100,
    cursor: Annotated[int | None, Query(ge=0, description="return frames after this frame index")] = None,
) -> dict[str, Any]:
    """Status, progress and one page of detections (frames in order)."""
    rows = await FRAMES_AFTER.rows(task_id=task.id, after=-1 if cursor is None else cursor, limit=limit + 1)
    more = len(rows) > limit
    frames = STORED_FRAMES.validate_python([_frame(r) for r in rows[:limit]])
    # A dict of ready models: the response model takes them as they are and serializes the page
    # in one pass of pydantic's core, where building it in Python cost more than the query.
    return {
        **TaskOut.of(task).model_dump(),
        "detections": frames,
        "result": [_best_scores(f) for f in frames],
        "next_cursor": frames[-1].frame if more else None,
    }


class _StoredFrame(FrameOut):
    """A frame row as read: `objects` is the column's JSON text, parsed by pydantic's core."""

    objects: Json[list[DetectedObject]]


STORED_FRAMES = TypeAdapter(list[_StoredFrame])


def _frame(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"frame": row["frame_index"], "timestamp": row["timestamp"], "objects": _as_json(row["objects"])}


def _parsed(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _as_json(value: Any) -> str | bytes:
    """JSON columns arrive as text from asyncpg and SQLite; a union with the parsed form cost
    four times the parse, so anything else is turned back into text."""
    return value if isinstance(value, str | bytes) else json.dumps(value)


def _best_scores(frame: FrameOut) -> dict[str, float]:
    best: dict[str, float] = {}
    for obj in frame.objects:
        best[obj.label] = max(obj.score, best.get(obj.label, 0.0))
    return best


def _encode_cursor(task: TaskOut) -> str:
    return base64.urlsafe_b64encode(f"{task.created_at.isoformat()}|{task.task_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        stamp, _, key = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), uuid.UUID(key)
    except ValueError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="malformed cursor") from None


NEWEST_TASKS = Prepared(
    Task,
    {"owner_id": int, "limit": int},
    lambda owner_id, limit: Task.filter(owner_id=owner_id).order_by("-created_at", "-id").limit(limit),
)


@router.get("/", response_model=TaskPage)
async def list_tasks(
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> TaskPage:
    """The caller's tasks, newest first."""
    if cursor:
        stamp, key = _decode_cursor(cursor)
        query = Task.filter(owner_id=user.id).filter(Q(created_at__lt=stamp) | Q(created_at=stamp, id__lt=key))
        tasks: list[TaskOut] = [TaskOut.of(t) for t in await query.order_by("-created_at", "-id").limit(limit + 1)]
    else:  # the first page, by far the most read: rows to answers in one pass of pydantic's core
        rows = await NEWEST_TASKS.rows(owner_id=user.id, limit=limit + 1)
        tasks = list(STORED_TASKS.validate_python([_task_fields(r) for r in rows]))
    more = len(tasks) > limit
    tasks = tasks[:limit]
    return TaskPage(tasks=tasks, next_cursor=_encode_cursor(tasks[-1]) if more else None)


class _StoredTask(TaskOut):
    """A task row as read: `params` is the column's JSON text, parsed by pydantic's core."""

    params: Json[dict[str, Any]]


STORED_TASKS = TypeAdapter(list[_StoredTask])


def _task_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    status = TaskStatus(row["status"])
    detections, objects = row["detections"], row["objects"]
    return {
        **row,
        "params": _as_json(row["params"]),
        "task_id": row["id"],
        "ready": status.is_final,
        "success": status is TaskStatus.SUCCEEDED,
        "summary": TaskSummary.of(_parsed(detections), _parsed(objects)),
    }


@router.delete(
    "/{task_id}/",
    response_model=TaskOut,
    responses={204: {"description": "erased (with `erase=true`): the task is a 404 from now on"}},
)
async def cancel_task(
    task: OwnedTask,
    dispatcher: DispatcherDep,
    settings: SettingsDep,
    erase: Annotated[bool, Query(description="also erase the video, the results and the task (204)")] = False,
) -> TaskOut | Response:
    """Stop the run and mark the task CANCELLED; a task that has already ended is answered as
    it is (200, repeatable). With `erase=true`: cancel if it runs, then erase its video, rows
    and API-made resource (204)."""
    if erase:
        try:
            await erase_task(task, dispatcher, settings.resolved_videos_dir)
        except DispatchError as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"could not erase: {exc}") from None
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    if TaskStatus(task.status).is_final:
        return TaskOut.of(task)
    try:
        await dispatcher.cancel(task)
    except DispatchError as exc:  # the run may still be going: do not claim it stopped
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"could not cancel: {exc}") from None
    moved = await transition(task.id, TaskStatus.CANCELLED, error="cancelled by the owner")
    if moved is None:  # it ended meanwhile, on its own
        await task.refresh_from_db()
        return TaskOut.of(task)
    return TaskOut.of(moved)
