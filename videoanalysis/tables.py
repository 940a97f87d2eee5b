"""The database tables (Tortoise models): users, tasks, per-frame detections and tracks."""

from __future__ import annotations

import uuid
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from videoanalysis.task_status import TaskStatus


class TaskOrigin(StrEnum):
    """Who made a task: the API (an upload or a URL; with the kubernetes dispatcher, the API
    also makes its resource), or the operator from a VideoAnalysis manifest applied by hand."""

    API = "api"
    MANIFEST = "manifest"


class User(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=320, unique=True)
    first_name = fields.CharField(max_length=150, default="")
    last_name = fields.CharField(max_length=150, default="")
    password_hash = fields.CharField(max_length=255)
    # Bumped on password change: tokens carry it, so older tokens stop working.
    token_version = fields.IntField(default=0)
    # Key of the HMAC signature on this user's completion webhooks (made on first use).
    webhook_secret = fields.CharField(max_length=128, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"


class Task(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="tasks", on_delete=fields.CASCADE
    )
    status = fields.CharEnumField(TaskStatus, max_length=16, default=TaskStatus.PENDING)
    model = fields.CharField(max_length=100)
    params: dict = fields.JSONField(default=dict)
    video_uri = fields.CharField(max_length=1024)
    video_name = fields.CharField(max_length=255, default="")
    frames_total = fields.IntField(null=True)
    frames_done = fields.IntField(default=0)
    error = fields.TextField(null=True)
    # Called with a signed JSON body when the task ends (see videoanalysis.webhooks).
    callback_url = fields.CharField(max_length=2048, null=True)
    # {label: n} of the detections stored so far, kept by the job in each batch's transaction.
    detections: dict = fields.JSONField(default=dict)
    # {label: unique tracks} so far, kept with the tracks by the job; null without a tracker.
    objects: dict | None = fields.JSONField(null=True)
    # Zone and line totals so far (`videoanalysis.zone_totals`), kept with the events by the job.
    zone_totals: dict | None = fields.JSONField(null=True)
    # Who made the task: the API, or the operator from a manifest applied by hand.
    origin = fields.CharEnumField(TaskOrigin, max_length=16, default=TaskOrigin.API)
    # The VideoAnalysis resource this task runs: the manifest the operator made the row from,
    # or the one the API's kubernetes dispatcher creates (recorded before it is created: the
    # operator binds a resource's spec.taskId only to the row that names that resource).
    # Null for tasks the API runs itself (the local dispatcher).
    resource_namespace = fields.CharField(max_length=253, null=True)
    resource_name = fields.CharField(max_length=253, null=True)
    # Why a PENDING task's Job waits (the operator's reading of the cluster: `Unschedulable`
    # with the scheduler's message, `Queued` behind a Kueue quota); null once it runs.
    wait_reason = fields.CharField(max_length=64, null=True)
    wait_message = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    # The lease of the one run allowed to write (see videoanalysis.lease): every write of a run
    # is fenced by (lease_attempt, lease_holder); a run that lost them cannot write.
    lease_attempt = fields.IntField(default=0)
    lease_holder = fields.CharField(max_length=255, null=True)
    lease_expires_at = fields.DatetimeField(null=True)
    heartbeat_at = fields.DatetimeField(null=True)
    # The committed position: the first frame index not yet analysed, committed with the rows
    # of each batch, and the opaque JSON state later stages keep across frames.
    next_frame = fields.IntField(default=0)
    stage_state: dict | None = fields.JSONField(null=True)
    # The local dispatcher's durable queue: which queue runs the task (NULL: another
    # dispatcher), crashed runs counted against VA_LOCAL_BACKOFF_LIMIT, the next retry's time.
    queue = fields.CharField(max_length=64, null=True)
    retries = fields.IntField(default=0)
    retry_at = fields.DatetimeField(null=True)
    # The intent to dispatch, written with the row: due (and unclaimed) from this time; a
    # dispatch claims it by moving it forward (a conditional update), and clears it once the
    # dispatcher took the task. NULL: nothing to dispatch (or the local queue's task).
    dispatch_due_at = fields.DatetimeField(null=True)
    # A video analysed in shards (`task_shards`, one run each): how many, the plan they follow
    # (`videoanalysis.shard_plan`: ranges, pre-rolls, the library that made it, why fewer than
    # asked), and the merge of their tracks once all have ended (the links' global ids and the
    # first frame whose rows still carry shard ids). One shard: 1, null, null.
    shards = fields.IntField(default=1)
    shard_plan: dict | None = fields.JSONField(null=True)
    merge_state: dict | None = fields.JSONField(null=True)

    class Meta:
        table = "tasks"
        # A user's tasks newest first (the list and its keyset cursor: created_at, then id);
        # tasks by status (open runs, the /metrics counts read from the index alone); the
        # local dispatcher's queue (its open tasks, oldest first).
        indexes = (
            ("owner_id", "created_at", "id"),
            ("status",),
            ("queue", "status", "created_at"),
            ("dispatch_due_at",),
        )


class TaskShard(Model):
    """One range of a sharded task's frames, analysed by one run at a time: its own lease,
    committed position and tracker state, as a whole task has (`videoanalysis.lease`). The
    position starts at the shard's pre-roll; its frames before `start_frame` feed the tracker
    and go to `seam_frames`, not to the results. `frames_done` counts its own analysed frames."""

    id = fields.BigIntField(primary_key=True)
    task: fields.ForeignKeyRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="shard_runs", on_delete=fields.CASCADE
    )
    index = fields.IntField()
    start_frame = fields.IntField()
    end_frame = fields.IntField()
    preroll_start = fields.IntField()
    start_seconds = fields.FloatField()
    status = fields.CharEnumField(TaskStatus, max_length=16, default=TaskStatus.PENDING)
    frames_total = fields.IntField(default=0)
    frames_done = fields.IntField(default=0)
    error = fields.TextField(null=True)
    lease_attempt = fields.IntField(default=0)
    lease_holder = fields.CharField(max_length=255, null=True)
    lease_expires_at = fields.DatetimeField(null=True)
    heartbeat_at = fields.DatetimeField(null=True)
    next_frame = fields.IntField(default=0)
    stage_state: dict | None = fields.JSONField(null=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "task_shards"
        unique_together = (("task", "index"),)


class SeamFrame(Model):
    """What a shard's tracker made of a frame of its pre-roll (owned by the shard before it):
    read by the merge to link the two shards' tracks, then deleted."""

    id = fields.BigIntField(primary_key=True)
    task: fields.ForeignKeyRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="seam_frames", on_delete=fields.CASCADE
    )
    shard = fields.IntField()
    frame_index = fields.IntField()
    objects: list = fields.JSONField(default=list)

    class Meta:
        table = "seam_frames"
        unique_together = (("task", "shard", "frame_index"),)


class FrameDetections(Model):
    """One row per analysed frame: a long video reads back in frame order, page by page.

    Unique on (task, frame_index), so a retried run overwrites its rows instead of appending.
    `objects` is a list of {"label", "score", "box": [x1, y1, x2, y2], "track_id"} in
    original-frame pixels (`track_id` null, or absent in rows of older versions: untracked).
    """

    id = fields.BigIntField(primary_key=True)
    task: fields.ForeignKeyRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="frames", on_delete=fields.CASCADE
    )
    frame_index = fields.IntField()
    timestamp = fields.FloatField()
    objects: list = fields.JSONField(default=list)

    class Meta:
        table = "frame_detections"
        unique_together = (("task", "frame_index"),)


class ZoneEvent(Model):
    """One event of a track in a task's zones and lines: `entered`/`left` a zone (`left` with
    the dwell), `in`/`out` across a line. Unique on what it is, so a batch written again after a
    lost acknowledgement, or a resumed run, adds nothing twice."""

    id = fields.BigIntField(primary_key=True)
    task: fields.ForeignKeyRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="zone_events", on_delete=fields.CASCADE
    )
    rule = fields.CharField(max_length=63)
    kind = fields.CharField(max_length=8)
    track_id = fields.IntField()
    label = fields.CharField(max_length=100)
    frame_index = fields.IntField()
    timestamp = fields.FloatField()
    dwell_s = fields.FloatField(null=True)

    class Meta:
        table = "zone_events"
        unique_together = (("task", "rule", "track_id", "kind", "frame_index"),)
        indexes = (("task", "frame_index"),)


class Track(Model):
    """One object followed across a task's frames (a tracker's id), summarised.

    Written by the job in each batch's transaction, merged with what earlier batches wrote, so
    a running task shows its tracks so far. `label` is the majority of `labels` ({label: n});
    `thumbnail` is a small JPEG of the best frame cropped around `best_box`, so it is served
    without the source video.
    """

    id = fields.BigIntField(primary_key=True)
    task: fields.ForeignKeyRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="tracks", on_delete=fields.CASCADE
    )
    track_id = fields.IntField()
    label = fields.CharField(max_length=100)
    labels: dict = fields.JSONField(default=dict)
    first_frame = fields.IntField()
    last_frame = fields.IntField()
    first_timestamp = fields.FloatField()
    last_timestamp = fields.FloatField()
    frames_seen = fields.IntField()
    best_score = fields.FloatField()
    best_frame = fields.IntField()
    best_box: list = fields.JSONField(default=list)
    mean_box_area = fields.FloatField()
    thumbnail = fields.BinaryField(null=True)

    class Meta:
        table = "tracks"
        unique_together = (("task", "track_id"),)


class WebhookDelivery(Model):
    """Outbox of completion callbacks: written in the same transaction as the task's ending,
    so an ending is never lost; the API's delivery loop sends and retries it."""

    id = fields.BigIntField(primary_key=True)
    task: fields.ForeignKeyRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="webhook_deliveries", on_delete=fields.CASCADE
    )
    url = fields.CharField(max_length=2048)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    delivered_at = fields.DatetimeField(null=True)
    gave_up = fields.BooleanField(default=False)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "webhook_deliveries"
        # Due deliveries (the delivery loop); given-up ones (a /metrics count).
        indexes = (("delivered_at", "gave_up", "next_attempt_at"), ("gave_up",))


class IdempotencyKey(Model):
    """A client's Idempotency-Key on an upload (see api.idempotency): claimed before the body
    is read, then bound to the task it made and the response it got, so a retry with the same
    key returns that response instead of a second task. Unique per owner across replicas."""

    id = fields.BigIntField(primary_key=True)
    owner: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="idempotency_keys", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=255)
    # sha256 of the form fields and of the file; NULL while the first request is received.
    fingerprint = fields.CharField(max_length=64, null=True)
    task: fields.ForeignKeyNullableRelation[Task] = fields.ForeignKeyField(
        "models.Task", related_name="idempotency_keys", null=True, on_delete=fields.CASCADE
    )
    status_code = fields.IntField(null=True)
    response: dict | None = fields.JSONField(null=True)
    # Moved on while the first request's body arrives: a claim idle longer than the upload
    # idle timeout is abandoned and the next request with the key takes it over.
    claimed_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "idempotency_keys"
        unique_together = (("owner", "key"),)
        indexes = (("created_at",),)  # the purge of keys older than 24 h


class AuthSession(Model):
    """One sign-in: the family of its refresh tokens. Each refresh rotates `current_jti`; the
    token it replaced stays usable for a few seconds (two clients refreshing at once), any older
    one is a replay and revokes the session. Logout revokes it too, access tokens included."""

    id = fields.CharField(max_length=32, primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE
    )
    current_jti = fields.CharField(max_length=32)
    previous_jti = fields.CharField(max_length=32, null=True)
    rotated_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "auth_sessions"
