"""What the Kopf handlers do, as plain async functions: bind the task row, create the Job if
absent, write an outcome to the task row first and then move the resource's phase to what the
row says (status subresource, optimistic concurrency), post an Event per move, and mirror the
row's progress. When the Job is made and how a timer repairs both from the Job, its Pods and
the row is `va_operator.lifecycle`'s.

Orchestration only: requests to the API server are `va_operator.kube_io`'s, task-row reads and
writes `va_operator.row_io`'s, and the phase rules live in the pure `va_operator.phases` and
`va_operator.outcomes`. API hiccups become `kopf.TemporaryError`, specs that can never run
`kopf.PermanentError`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import kopf

from va_operator import kube_io, metrics, row_io, taskrow
from va_operator.builders import SpecError
from va_operator.config import OperatorSettings
from va_operator.locks import RESOURCE_LOCKS
from va_operator.outcomes import ERASED, never_started
from va_operator.phases import WAITING, Outcome, Phase, next_status
from videoanalysis.k8s import names
from videoanalysis.k8s.resource import task_id_of
from videoanalysis.tables import Task
from videoanalysis.webhooks import result_url

log = logging.getLogger(__name__)


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
        await kube_io.patch_status(body, wanted, settings)
    try:  # after status.taskId: a failure here is mirrored to the row
        taskrow.checked_params(task, settings.zone_limits)
    except SpecError as exc:
        raise await fail_spec(body, exc, settings) from exc
    return {**body, "status": {**status, **wanted}}


async def ensure_job(body: Mapping[str, Any], settings: OperatorSettings) -> dict[str, Any]:
    """Create the resource's Job unless it exists (409 is success); returns the Job. A Job the
    API server refuses fails the resource (JobRejected)."""
    try:
        job = kube_io.owned_job(await with_row_shards(body), settings)
    except SpecError as exc:
        raise await fail_spec(body, exc, settings) from exc
    try:
        return await kube_io.create_job(job, body, settings)
    except kopf.PermanentError as err:
        await advance(body, Outcome(Phase.FAILED, "JobRejected", str(err)), settings)
        raise


async def with_row_shards(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """The body with the row's shard count: like every analysis parameter, the snapshot the task
    was planned with decides, and an edit of `spec.shards` afterwards is only reported."""
    row = await Task.filter(id=task_id_of(body)).first().values("params")
    shards = ((row or {}).get("params") or {}).get("shards")
    if not isinstance(shards, int):
        return body
    return {**body, "spec": {**(body.get("spec") or {}), "shards": shards}}


async def advance(body: Mapping[str, Any], outcome: Outcome, settings: OperatorSettings, *, attempts: int = 5) -> bool:
    """Move the resource to `outcome` if the state machine allows it. Returns True on a move.

    The task row is written first (`row_io.write_row`) and the resource then shows what the row
    says: a crash between the two leaves the row ahead, and the next event or the repair pass
    catches the resource up. Read-modify-write with the resourceVersion, so two watchers racing
    cannot lose a move; moves of one resource in this process are serialised (`RESOURCE_LOCKS`).
    An erased row stops the Job of a resource that has not ended before the resource shows it
    (a failed stop leaves the resource unended, for the repair pass to try again).
    """
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
    async with RESOURCE_LOCKS.hold(namespace, name):
        return await _advance(namespace, name, outcome, settings, attempts, body["metadata"].get("uid"))


async def _advance(
    namespace: str, name: str, outcome: Outcome, settings: OperatorSettings, attempts: int, uid: str | None
) -> bool:
    first = await kube_io.read_resource(namespace, name)
    if first is not None and uid and first["metadata"]["uid"] != uid:
        return False  # the outcome was of an earlier resource of the same name
    if first is not None:
        outcome = never_started(outcome, first.get("status"))
    if first is not None and task_id_of(first):
        outcome = await row_io.write_row(str(task_id_of(first)), outcome)
        if outcome == ERASED and (first.get("status") or {}).get("phase") not in (Phase.SUCCEEDED, Phase.FAILED):
            await kube_io.stop_job(namespace, names.job_name(name))  # nothing is left for it to write
    for _ in range(attempts):
        current = await kube_io.read_resource(namespace, name) if first is None else first
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
            counters = await row_io.row_counters(task_id) or {}
            if outcome.phase is Phase.SUCCEEDED:
                counters.pop("progress", None)  # "100%" whatever the last mirror said
            patch.update(counters)
        written = await kube_io.patch_status_at(current, patch, settings)
        if written is None:
            continue
        if written:
            await _after_move(current, outcome)
        return written
    raise kopf.TemporaryError(f"{name}: status kept changing under us", delay=1)


async def _after_move(resource: Mapping[str, Any], outcome: Outcome) -> None:
    """Post a move as an Event (the row was written before the move)."""
    if outcome.phase is Phase.FAILED:
        metrics.FAILURES.labels(outcome.reason).inc()
    post = kopf.warn if outcome.phase is Phase.FAILED or outcome.reason in WAITING else kopf.info
    post(dict(resource), reason=outcome.reason, message=outcome.message)  # type: ignore[arg-type]  # kopf accepts any resource mapping
    log.info(
        "%s/%s -> %s (%s)",
        resource["metadata"]["namespace"],
        resource["metadata"]["name"],
        outcome.phase.value,
        outcome.reason,
    )


def _as_stored(value: Any) -> Any:
    """`value` as a merge patch leaves it in the status: a null member is deleted, not kept
    (else a summary without tracks never equals the one written, and is written every tick)."""
    if isinstance(value, Mapping):
        return {k: _as_stored(v) for k, v in value.items() if v is not None}
    return value


async def mirror_progress(body: Mapping[str, Any], settings: OperatorSettings) -> bool:
    """Copy the row's counters into the status when they changed; True when written. Written
    against the resourceVersion the timer saw, under the resource's lock, so a mirror read
    before the final move can never overwrite that move's "100%" (a conflict waits a tick)."""
    status = body.get("status") or {}
    if not status.get("taskId"):
        return False
    meta = body["metadata"]
    async with RESOURCE_LOCKS.hold(meta["namespace"], meta["name"]):
        # Kopf's body is a live view: by now it may hold the final move (and its resourceVersion),
        # whose "100%" the row's last progress must not overwrite.
        status = body.get("status") or {}
        if Phase(status.get("phase") or Phase.PENDING.value).is_final:
            return False
        patch = await row_io.row_counters(status["taskId"])
        if patch is None or all(_as_stored(status.get(k)) == _as_stored(v) for k, v in patch.items()):
            return False
        return bool(await kube_io.patch_status_at(body, patch, settings))


async def report_spec_change(body: Mapping[str, Any], settings: OperatorSettings) -> None:
    """Set SpecChanged (True while the spec differs from the task's snapshot) with an Event."""
    changed = await row_io.spec_changes(body, settings.default_model)
    if changed is None:
        return
    if changed:
        fields = ", ".join(f"spec.{name}" for name in changed)
        message = f"{fields} changed after the analysis started; the run keeps the spec it started with"
        if await kube_io.update_condition(body, "SpecChanged", True, "SpecChangedAfterStart", message, settings):
            kopf.warn(dict(body), reason="SpecChanged", message=message)  # type: ignore[arg-type]  # any resource mapping
    else:
        message = "the spec equals the one the analysis started with"
        await kube_io.update_condition(body, "SpecChanged", False, "SpecAsStarted", message, settings)
