"""Request and response bodies (pydantic). Field names follow the original API's contract."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, field_validator

from videoanalysis.summary import TaskSummary
from videoanalysis.tables import Task, User
from videoanalysis.task_status import TaskStatus
from videoanalysis.text import printable, valid_unicode

PASSWORD_MIN = 8


def _normalise_email(value: str) -> str:
    return value.strip().lower()


#: A name, label or other short text stored in the database.
PlainText = Annotated[str, AfterValidator(printable)]
#: A password: any characters, but encodable for hashing.
Secret = Annotated[str, AfterValidator(valid_unicode)]


class UserOut(BaseModel):
    id: int
    email: str
    first_name: str
    last_name: str

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, email=user.email, first_name=user.first_name, last_name=user.last_name)


class WebhookSecretOut(BaseModel):
    secret: str = Field(description="HMAC-SHA256 key of your completion webhooks.")
    signature_header: str = Field(description='Header holding "sha256=<hex>" of "<timestamp>." + body.')
    timestamp_header: str = Field(description="Header holding the Unix time the body was signed at.")


class SignupIn(BaseModel):
    email: EmailStr
    password: Secret = Field(min_length=PASSWORD_MIN, max_length=1024)
    first_name: PlainText = Field("", max_length=150)
    last_name: PlainText = Field("", max_length=150)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return _normalise_email(value)


class SigninIn(BaseModel):
    email: PlainText = Field(min_length=1, max_length=320)
    password: Secret = Field(min_length=1, max_length=1024)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"


class AuthOut(TokenPair):
    user: UserOut


class RefreshIn(BaseModel):
    refresh_token: str


class PasswordChangeIn(BaseModel):
    old_password: Secret = Field(min_length=1, max_length=1024)
    new_password: Secret = Field(min_length=PASSWORD_MIN, max_length=1024)


class PasswordChangeOut(TokenPair):
    detail: str = "password changed; tokens issued before now no longer work"


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr | None = None
    first_name: PlainText | None = Field(None, max_length=150)
    last_name: PlainText | None = Field(None, max_length=150)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return _normalise_email(value) if value is not None else None


class TaskWaiting(BaseModel):
    reason: str = Field(
        description="`Unschedulable` (no node can take the Job now) or `Queued` (behind a Kueue quota)."
    )
    message: str = Field(description="Why, in the scheduler's or the queue's words.")


class ShardOut(BaseModel):
    index: int
    status: TaskStatus
    frames_done: int = Field(description="Frames of its own range analysed and committed.")
    frames_total: int = Field(description="Frames of its own range that will be analysed.")


class TaskShards(BaseModel):
    asked: int = Field(description="Shards asked for (`shards`, `auto` resolved at upload).")
    planned: int | None = Field(
        description="Shards the plan cut (fewer than asked when the video has fewer clean cuts); null before the plan."
    )
    reason: str | None = Field(description="Why the plan cut fewer shards than asked, when it did.")
    parts: list[ShardOut] = Field(description="Each shard's state and progress, by index (once planned).")


class TaskOut(BaseModel):
    task_id: uuid.UUID
    status: TaskStatus
    ready: bool = Field(description="The task has ended (SUCCEEDED, FAILED or CANCELLED).")
    success: bool = Field(description="The task ended with SUCCEEDED.")
    error: str | None
    waiting: TaskWaiting | None = Field(
        None, description="While PENDING on a cluster: why its Job does not run yet; null otherwise."
    )
    model: str
    params: dict[str, Any]
    video_name: str
    callback_url: str | None = None
    frames_done: int
    frames_total: int | None = Field(description="Frames that will be analysed (after the stride).")
    summary: TaskSummary
    shards: TaskShards | None = Field(
        None, description="A task asked to run in more than one shard: the plan and each shard's progress."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, task: Task, parts: list[ShardOut] | None = None) -> TaskOut:
        status = TaskStatus(task.status)
        return cls(
            task_id=task.id,
            status=status,
            ready=status.is_final,
            success=status is TaskStatus.SUCCEEDED,
            error=task.error,
            waiting=(
                TaskWaiting(reason=task.wait_reason, message=task.wait_message or "")
                if status is TaskStatus.PENDING and task.wait_reason
                else None
            ),
            model=task.model,
            params=task.params,
            video_name=task.video_name,
            callback_url=task.callback_url,
            frames_done=task.frames_done,
            frames_total=task.frames_total,
            summary=TaskSummary.of(task.detections, task.objects, task.params, task.zone_totals),
            shards=task_shards(task.params, task.shards, task.shard_plan, parts),
            created_at=task.created_at,
            started_at=task.started_at,
            finished_at=task.finished_at,
        )


def asked_shards(task: Task) -> int:
    asked = (task.params or {}).get("shards", 1)
    return asked if isinstance(asked, int) else 1


def task_shards(
    params: Mapping[str, Any] | None, planned: int | None, plan: Mapping[str, Any] | None, parts: list[ShardOut] | None
) -> TaskShards | None:
    """The `shards` of an answer: null for a task that runs whole (asked one, planned one)."""
    asked = (params or {}).get("shards", 1)
    asked = asked if isinstance(asked, int) else 1
    if asked <= 1 and (planned or 1) <= 1:
        return None
    return TaskShards(
        asked=asked,
        planned=planned if plan is not None else None,
        reason=(plan or {}).get("reason"),
        parts=parts or [],
    )


class TaskPage(BaseModel):
    tasks: list[TaskOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end.")


class DetectedObject(BaseModel):
    label: str
    score: float
    box: list[float] = Field(description="[x1, y1, x2, y2] in frame pixels.")
    track_id: int | None = Field(None, description="The object's track (GET /tasks/{id}/tracks/); null: untracked.")


class FrameOut(BaseModel):
    frame: int
    timestamp: float = Field(description="Seconds from the start of the video.")
    objects: list[DetectedObject]


class TaskResult(TaskOut):
    detections: list[FrameOut]
    result: list[dict[str, float]] = Field(
        description="The original compact form: per frame of this page, {label: best score}."
    )
    next_cursor: int | None = Field(
        description="Pass as `cursor` for the next page of frames; null when no more are stored."
    )


class ViewerLinkOut(BaseModel):
    url: str = Field(description="The viewer page of the task, with its viewer token (VA_PUBLIC_URL based).")
    path: str = Field(description="The same link relative to the API's root.")
    viewer_token: str = Field(description="Opens the GET routes of this task only, until expires_at.")
    expires_at: datetime
