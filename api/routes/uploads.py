"""Submitting a video for analysis: the upload (streamed to disk, size-capped, checked to be a
video) or its `video_url`, the PENDING task row written with how it will run, then its dispatch.

With the kubernetes dispatcher the row carries the intent to dispatch it (api.dispatchers.intents):
this request claims the intent and dispatches at once; a crash in between leaves it to the
reconciler. An Idempotency-Key (api.idempotency) makes a retry answer the same task.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from tortoise.backends.base.client import BaseDBAsyncClient

from api import idempotency
from api.config import ApiSettings
from api.deps import CurrentUser, DispatcherDep, SettingsDep
from api.dispatchers import Dispatcher, intents
from api.dispatchers.base import DispatchError
from api.metrics import UPLOAD_BYTES, UPLOADS
from api.routes.tasks_openapi import UPLOAD_DOC
from api.schemas import TaskOut
from api.upload import Upload, UploadError, receive_upload
from api.video_url import UrlProber, probe_video_url
from videoanalysis.catalogue import ModelNotInstalledError, UnknownModelError, check_installed
from videoanalysis.clock import db_now
from videoanalysis.newtask import create_task
from videoanalysis.params import AUTO_SHARDS, AnalysisParams, ParamsError, auto_shards, frames_to_analyse, parse_params
from videoanalysis.storage import NotAVideo, UploadTooLarge, check_upload, new_key, video_uri
from videoanalysis.tables import Task, TaskOrigin, User
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition
from videoanalysis.uploadkeys import UPLOAD_TMP_PREFIX
from videoanalysis.webhooks import UnsafeCallbackURL, WebhookPolicy, check_url

router = APIRouter(prefix="/tasks", tags=["tasks"])
UPLOAD_PATH = "/tasks/video-objects-detection/"
STREAMED_PATHS = frozenset({UPLOAD_PATH})  # bodies capped by VA_MAX_UPLOAD_BYTES while streamed, not VA_MAX_JSON_BYTES
# The name these log lines have always carried (log queries and alerts match on it).
log = logging.getLogger("api.routes.tasks")
#: Form fields of the parameter contract besides `labels` (comma-separated in the form).
FORM_PARAMS = ("model", "score_threshold", "frame_stride", "batch_size", "tracker", "shards")
#: Every text field the upload takes (the video is `videofile` or `file`); any other is a 422.
#: Form fields holding JSON (zones and lines: lists of objects, as in a resource's spec).
JSON_PARAMS = ("zones", "lines")
UPLOAD_FIELDS = ("video_url", *FORM_PARAMS, "labels", *JSON_PARAMS, "callback_url", idempotency.FIELD)


def _task_params(fields: dict[str, str], settings: ApiSettings) -> AnalysisParams:
    """The parameter contract from the form fields (model defaulted to VA_DEFAULT_MODEL);
    422 naming each bad field. With the local dispatcher the job runs in this install, so a
    model whose dependencies it lacks is refused here rather than failing later."""
    raw: dict = {k: fields[k].strip() for k in FORM_PARAMS if fields.get(k, "").strip()}
    labels = [x.strip() for x in fields.get("labels", "").split(",") if x.strip()]
    raw["labels"] = labels or None
    for name in JSON_PARAMS:
        if fields.get(name, "").strip():
            try:
                raw[name] = json.loads(fields[name])
            except ValueError as exc:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"{name}: not JSON ({exc})") from None
    try:
        params = parse_params(raw, strict=False).with_model(settings.default_model)
        if settings.dispatcher == "local":
            check_installed(str(params.model))
    except (ParamsError, UnknownModelError, ModelNotInstalledError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    if isinstance(params.shards, int) and params.shards > settings.max_shards:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"shards: {params.shards} is more than this server allows ({settings.max_shards}, VA_MAX_SHARDS)",
        )
    try:
        params.rules.check_limits(settings.zone_limits)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    return params


def _resolved_shards(params: AnalysisParams, analysed: int, settings: ApiSettings) -> AnalysisParams:
    """`shards: auto` made a number from the frames the stride keeps, so the row, the resource
    and the Job all carry the count."""
    if params.shards != AUTO_SHARDS:
        return params
    count = auto_shards(analysed, settings.shard_min_frames, settings.max_shards)
    return params.model_copy(update={"shards": count})


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
            meta, extension = await run_in_threadpool(check_upload, stored)
        except NotAVideo as exc:
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail=str(exc)) from None
        key = new_key(extension)  # from the sniffed container, never the client's file name
        final = videos_dir / key
        stored.rename(final)
        stored = final
        try:  # zones and lines in pixels must lie in the frame, their masks within the limit
            params.rules.check_in_frame(meta.width, meta.height)
            params.rules.check_pixels(meta.width, meta.height, settings.zone_limits)
        except ValueError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
        # a frame decoded: at least one, whatever the container announces
        analysed = frames_to_analyse(max(meta.frames, 1), params.frame_stride)
        task = await _create_task(
            user,
            settings,
            keyed,
            _resolved_shards(params, analysed, settings),
            callback,
            video_uri=video_uri(key),
            video_name=Path(upload.filename).name[:255],
            frames_total=analysed,
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
    if params.shards == AUTO_SHARDS:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="shards: auto needs the video's frame count, known only for an uploaded file; give a number",
        )
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
    to dispatch it to the cluster (see api.dispatchers.intents); the upload's Idempotency-Key is
    bound to it in the same transaction, answered with the 202 the upload answers."""
    local = settings.dispatcher == "local"

    async def insert(conn: BaseDBAsyncClient | None) -> Task:
        return await create_task(
            user,
            params,
            origin=TaskOrigin.API,
            callback_url=callback,
            queue=settings.local_queue if local else None,
            dispatch_due_at=None if local else await db_now(conn),
            conn=conn,
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
        await intents.clear(task.id)
    return TaskOut.of(task)
