"""What the Kopf handlers do, as plain async functions: create the Job if absent, write an
outcome to the task row first and then move the resource's phase to what the row says (status
subresource, optimistic concurrency), and post an Event per move. When the Job is made and how
a timer repairs both from the Job, its Pods and the row is `va_operator.lifecycle`'s. API
hiccups become `kopf.TemporaryError`, specs that can never run `kopf.PermanentError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

import kopf
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from va_operator import metrics, ownership, taskrow
from va_operator.builders import SpecError, build_job
from va_operator.config import OperatorSettings
from va_operator.state import (
    ERASED,
    Outcome,
    Phase,
    next_status,
    pod_failure_detail,
    progress_text,
    set_condition,
    settle,
    summary_of,
)
from videoanalysis import tasks
from videoanalysis.k8s import kube, names, version
from videoanalysis.k8s.resource import task_id_of
from videoanalysis.models import Task
from videoanalysis.status import TaskStatus
from videoanalysis.webhooks import result_url

log = logging.getLogger(__name__)


class _ResourceLocks:
    """One lock per resource: its moves run one after the other in this process. Without it a
    late Pod event's move (Running, settled from the row the deadline just failed) could land
    before the Job's own verdict and show the row's generic reason instead of the Job's."""

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._users: Counter[tuple[str, str]] = Counter()

    @contextlib.asynccontextmanager
    async def hold(self, namespace: str, name: str) -> AsyncIterator[None]:
        key = (namespace, name)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # nobody waits: forget it (resources come and go)
                del self._users[key], self._locks[key]


MOVES = _ResourceLocks()


def _classify(exc: ApiException, what: str, settings: OperatorSettings) -> kopf.TemporaryError | kopf.PermanentError:
    message = f"{what}: {kube.server_message(exc)}"
    if kube.is_transient(exc) or exc.status in (401, 403):  # RBAC can be fixed without a new spec
        return kopf.TemporaryError(message, delay=settings.retry_delay_s)
    return kopf.PermanentError(message)


def owned_job(body: Mapping[str, Any], settings: OperatorSettings) -> dict[str, Any]:
    """The resource's Job with its owner reference: the GC deletes it with the resource."""
    job = build_job(body, settings)
    kopf.adopt(job, owner=body)  # type: ignore[arg-type]  # a resource body is a kopf.Body
    return job


class InvalidSpec(kopf.PermanentError):
    """A spec that can never run: its author's mistake, not the operator's. The resource shows
    it (Failed, InvalidSpec); the handlers log it at WARNING instead of Kopf's ERROR."""


async def fail_spec(body: Mapping[str, Any], exc: SpecError, settings: OperatorSettings) -> InvalidSpec:
    """A spec that can never run: Failed with the reason (status, condition, Event, row)."""
    await advance(body, Outcome(Phase.FAILED, "InvalidSpec", str(exc)), settings)
    return InvalidSpec(str(exc))


async def ensure_task(body: Mapping[str, Any], settings: OperatorSettings) -> dict[str, Any]:
    """Find (or, for a resource applied by hand, create) the task row and record it as
    `status.taskId` and `status.model`; returns the body with that status."""
    try:
        task = await taskrow.find_or_create(
            body, settings.default_model, settings.videos_mount_path, settings.video_url_policy
        )
    except SpecError as exc:
        raise await fail_spec(body, exc, settings) from exc
    status = dict(body.get("status") or {})
    wanted = {"taskId": str(task.id), "model": task.model}
    if any(status.get(k) != v for k, v in wanted.items()):
        await patch_status(body, wanted, settings)
    try:  # after status.taskId: a failure here is mirrored to the row
        taskrow.checked_params(task)
    except SpecError as exc:
        raise await fail_spec(body, exc, settings) from exc
    return {**body, "status": {**status, **wanted}}


async def ensure_job(body: Mapping[str, Any], settings: OperatorSettings) -> dict[str, Any]:
    """Create the resource's Job unless it exists (409 is success); returns the Job."""
    try:
        job = owned_job(body, settings)
    except SpecError as exc:
        raise await fail_spec(body, exc, settings) from exc
    namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
    try:
        # The client serialises a plain manifest dict as well as its V1Job model.
        created = (await asyncio.to_thread(kube.batch().create_namespaced_job, namespace, job, **kube.STRICT)).to_dict()  # type: ignore[arg-type]
        metrics.JOBS_CREATED.inc()
        return created
    except ApiException as exc:
        if exc.status != 409:
            err = _classify(exc, f"creating Job {name}", settings)
            if isinstance(err, kopf.PermanentError):
                await advance(body, Outcome(Phase.FAILED, "JobRejected", str(err)), settings)
            raise err from exc
    except Exception as exc:  # no connection, timeouts
        if kube.is_transient(exc):
            raise kopf.TemporaryError(f"creating Job {name}: {exc}", delay=settings.retry_delay_s) from exc
        raise
    existing = await asyncio.to_thread(kube.batch().read_namespaced_job, name, namespace)
    owners = [ref.uid for ref in (existing.metadata and existing.metadata.owner_references) or []]
    if body["metadata"]["uid"] not in owners:
        # A Job left by an earlier resource of the same name: the GC removes it shortly.
        raise kopf.TemporaryError(f"Job {name} belongs to another owner; waiting", delay=settings.retry_delay_s)
    return existing.to_dict()


async def check_server_version() -> str:
    """The API server's version, if supported (`videoanalysis.k8s.version`); raises otherwise."""
    info = await asyncio.to_thread(client.VersionApi(kube.api_client()).get_code)
    return version.check(kube.api_client().sanitize_for_serialization(info))


async def read_resource(namespace: str, name: str) -> dict[str, Any] | None:
    try:
        resource = await asyncio.to_thread(
            kube.custom().get_namespaced_custom_object, names.GROUP, names.VERSION, namespace, names.PLURAL, name
        )
        return cast(dict[str, Any], resource)  # custom objects come back as plain dicts
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


async def advance(body: Mapping[str, Any], outcome: Outcome, settings: OperatorSettings, *, attempts: int = 5) -> bool:
    """Move the resource to `outcome` if the state machine allows it. Returns True on a move.

    The task row is written first (`write_row`) and the resource then shows what the row says:
    a crash between the two leaves the row ahead, and the next event or the repair pass catches
    the resource up. Read-modify-write with the resourceVersion, so two watchers racing cannot
    lose a move; moves of one resource in this process are serialised (`MOVES`). An erased row
    stops the Job of a resource that has not ended before the resource shows it (a failed stop
    leaves the resource unended, for the repair pass to try again).
    """
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
    async with MOVES.hold(namespace, name):
        return await _advance(namespace, name, outcome, settings, attempts, body["metadata"].get("uid"))


async def _advance(
    namespace: str, name: str, outcome: Outcome, settings: OperatorSettings, attempts: int, uid: str | None
) -> bool:
    first = await read_resource(namespace, name)
    if first is not None and uid and first["metadata"]["uid"] != uid:
        return False  # the outcome was of an earlier resource of the same name
    if first is not None and task_id_of(first):
        outcome = await write_row(str(task_id_of(first)), outcome)
        if outcome == ERASED and (first.get("status") or {}).get("phase") not in (Phase.SUCCEEDED, Phase.FAILED):
            await stop_job(namespace, names.job_name(name))  # nothing is left for it to write
    for _ in range(attempts):
        current = await read_resource(namespace, name) if first is None else first
        first = None
        if current is None:
            return False
        task_id = task_id_of(current)
        patch = next_status(
            current.get("status"),
            outcome,
            generation=current["metadata"].get("generation"),
            job_name=names.job_name(name) if task_id else None,
            result_url=result_url(settings.public_url, task_id) if settings.public_url and task_id else None,
        )
        if patch is None:
            return False
        if outcome.phase.is_final and task_id:  # the last word on progress and detections
            counters = await row_counters(task_id) or {}
            if outcome.phase is Phase.SUCCEEDED:
                counters.pop("progress", None)  # "100%" whatever the last mirror said
            patch.update(counters)
        written = await patch_status_at(current, patch, settings)
        if written is None:
            continue
        if written:
            await _after_move(current, outcome)
        return written
    raise kopf.TemporaryError(f"{name}: status kept changing under us", delay=1)


async def _send_status(meta: Mapping[str, Any], patch: dict[str, Any]) -> None:
    await asyncio.to_thread(
        kube.custom().patch_namespaced_custom_object_status,
        names.GROUP,
        names.VERSION,
        meta["namespace"],
        names.PLURAL,
        meta["name"],
        patch,
        **kube.STRICT,
    )


async def patch_status_at(
    resource: Mapping[str, Any], status: Mapping[str, Any], settings: OperatorSettings
) -> bool | None:
    """Merge `status` into the resource's status only while its resourceVersion is the one
    read: True when written, False when the resource is gone, None on a conflict (read again)."""
    meta = resource["metadata"]
    try:
        await _send_status(meta, {"metadata": {"resourceVersion": meta["resourceVersion"]}, "status": dict(status)})
    except ApiException as exc:
        if exc.status == 409:
            return None
        if exc.status == 404:
            return False
        raise _classify(exc, f"updating {meta['name']} status", settings) from exc
    return True


async def write_row(task_id: str, outcome: Outcome) -> Outcome:
    """Write `outcome` to the task row (a no-op when the row already ended) and return what
    the resource must show: the row's own ending wins, and a row that no longer exists is
    ERASED (never a success: nothing is left to show). Only the job itself records success: a
    Job that completed while the row is still open failed to record its result."""
    status = outcome.phase.task_status
    if status in (TaskStatus.RUNNING, TaskStatus.FAILED):
        await tasks.transition(task_id, status, error=outcome.message if status is TaskStatus.FAILED else None)
    row = await Task.filter(id=task_id).first().values("status", "error")
    if not row:
        return ERASED
    settled = settle(outcome, row["status"], row["error"])
    if settled.phase is Phase.FAILED and not TaskStatus(row["status"]).is_final:
        await tasks.transition(task_id, TaskStatus.FAILED, error=settled.message)
    return settled


async def _after_move(resource: Mapping[str, Any], outcome: Outcome) -> None:
    """Post a move as an Event (the row was written before the move)."""
    if outcome.phase is Phase.FAILED:
        metrics.FAILURES.labels(outcome.reason).inc()
    post = kopf.warn if outcome.phase is Phase.FAILED else kopf.info
    post(dict(resource), reason=outcome.reason, message=outcome.message)  # type: ignore[arg-type]  # kopf accepts any resource mapping
    log.info(
        "%s/%s -> %s (%s)",
        resource["metadata"]["namespace"],
        resource["metadata"]["name"],
        outcome.phase.value,
        outcome.reason,
    )


async def owner_of(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """The VideoAnalysis metadata stub (with its uid) a Job or a Pod belongs to, by owner
    reference: a Pod's Job is read to find it. None for an object no resource controls."""
    if obj.get("kind") == "Job":
        return ownership.resource_of_job(obj)
    ref = ownership.controller_ref(obj, "Job")
    if ref is None:
        return None
    try:
        job = await asyncio.to_thread(kube.batch().read_namespaced_job, ref["name"], obj["metadata"]["namespace"])
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    serialized = kube.api_client().sanitize_for_serialization(job)
    return ownership.resource_of_job(serialized) if serialized["metadata"]["uid"] == ref["uid"] else None


async def read_job(namespace: str, name: str, settings: OperatorSettings) -> dict[str, Any] | None:
    """The Job (serialized), None when it does not exist."""
    try:
        job = await asyncio.to_thread(kube.batch().read_namespaced_job, name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise _classify(exc, f"reading Job {name}", settings) from exc
    return cast(dict[str, Any], kube.api_client().sanitize_for_serialization(job))


async def owned_pods(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Job's Pods (serialized, oldest first): selected by label, kept by owner UID."""
    meta = job["metadata"]
    pods = await asyncio.to_thread(
        kube.core().list_namespaced_pod, meta["namespace"], label_selector=f"job-name={meta['name']}"
    )
    serialized = [kube.api_client().sanitize_for_serialization(p) for p in pods.items]
    mine = [p for p in serialized if ownership.controlled_by(p, "Job", meta.get("uid"))]
    return sorted(mine, key=lambda p: p["metadata"]["creationTimestamp"])  # the API lists by name


async def failure_details(job: Mapping[str, Any]) -> str | None:
    """Why the Job's last Pod failed (exit code, reason), from its Pods; None if unknown."""
    details = [d for p in await owned_pods(job) if (d := pod_failure_detail(p))]
    return details[-1] if details else None


async def stop_job(namespace: str, job: str) -> None:
    """Delete a Job that can never succeed (its Pods go with it)."""
    try:
        await asyncio.to_thread(kube.batch().delete_namespaced_job, job, namespace, propagation_policy="Background")
    except ApiException as exc:
        if exc.status != 404:
            raise


async def row_counters(task_id: str) -> dict[str, Any] | None:
    """Progress and the detection summary of the task row (None without a row)."""
    row = await Task.filter(id=task_id).first().values("frames_done", "frames_total", "detections", "objects")
    if not row:
        return None
    return {
        "progress": progress_text(row["frames_done"] or 0, row["frames_total"]),
        "framesDone": row["frames_done"] or 0,
        "framesTotal": row["frames_total"],
        "summary": summary_of(row["detections"], row["objects"]),
    }


async def mirror_progress(body: Mapping[str, Any], settings: OperatorSettings) -> bool:
    """Copy the row's counters into the status when they changed; True when written. Written
    against the resourceVersion the timer saw, under the resource's lock, so a mirror read
    before the final move can never overwrite that move's "100%" (a conflict waits a tick)."""
    status = body.get("status") or {}
    if not status.get("taskId"):
        return False
    meta = body["metadata"]
    async with MOVES.hold(meta["namespace"], meta["name"]):
        # Kopf's body is a live view: by now it may hold the final move (and its resourceVersion),
        # whose "100%" the row's last progress must not overwrite.
        status = body.get("status") or {}
        if Phase(status.get("phase") or Phase.PENDING.value).is_final:
            return False
        patch = await row_counters(status["taskId"])
        if patch is None or all(status.get(k) == v for k, v in patch.items()):
            return False
        return bool(await patch_status_at(body, patch, settings))


async def cancel_task(body: Mapping[str, Any]) -> bool:
    """The resource is being deleted: its task (`status.taskId`, none until the operator bound
    one; never `spec.taskId`, which anyone can write) ends CANCELLED unless it already ended."""
    task_id = task_id_of(body)
    if not task_id:
        return False
    moved = await tasks.transition(
        task_id, TaskStatus.CANCELLED, error="cancelled: the VideoAnalysis resource was deleted"
    )
    return moved is not None


async def patch_status(body: Mapping[str, Any], fields: Mapping[str, Any], settings: OperatorSettings) -> None:
    """Merge `fields` into the status (fields only the operator writes, no read needed)."""
    meta = body["metadata"]
    try:
        await _send_status(meta, {"status": dict(fields)})
    except ApiException as exc:
        raise _classify(exc, f"updating {meta['name']} status", settings) from exc


async def update_condition(
    body: Mapping[str, Any], kind: str, status: bool, reason: str, message: str, settings: OperatorSettings
) -> bool:
    """Upsert one condition (read-modify-write on the resourceVersion); True when it changed."""
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
    for _ in range(5):
        current = await read_resource(namespace, name)
        if current is None:
            return False
        conditions = set_condition(
            (current.get("status") or {}).get("conditions") or [],
            kind,
            status,
            reason,
            message,
            generation=current["metadata"].get("generation"),
        )
        if conditions is None:
            return False
        written = await patch_status_at(current, {"conditions": conditions}, settings)
        if written is not None:
            return written
    raise kopf.TemporaryError(f"{name}: status kept changing under us", delay=1)


async def report_spec_change(body: Mapping[str, Any], settings: OperatorSettings) -> None:
    """Set SpecChanged (True while the spec differs from the task's snapshot) with an Event."""
    task = await Task.get_or_none(id=task_id_of(body))
    if task is None:
        return
    changed = taskrow.spec_changes(body.get("spec") or {}, task, settings.default_model)
    if changed:
        fields = ", ".join(f"spec.{name}" for name in changed)
        message = f"{fields} changed after the analysis started; the run keeps the spec it started with"
        if await update_condition(body, "SpecChanged", True, "SpecChangedAfterStart", message, settings):
            kopf.warn(dict(body), reason="SpecChanged", message=message)  # type: ignore[arg-type]  # any resource mapping
    else:
        message = "the spec equals the one the analysis started with"
        await update_condition(body, "SpecChanged", False, "SpecAsStarted", message, settings)
