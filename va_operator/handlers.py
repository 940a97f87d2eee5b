"""Kopf handlers of the VideoAnalysis operator: `kopf run -m va_operator.handlers` (or
`python -m va_operator.launcher`, which adds the namespaces and peering from settings).

Thin on purpose: builders, the phase state machine and the API calls live beside it in
`va_operator`. The Job is the resource's child (owner reference), so deleting the
resource deletes the Job through Kubernetes' garbage collector, not through code here.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import kopf

from va_operator import kube_io, lifecycle, metrics, reconcile, retention, row_io
from va_operator.config import OperatorSettings, apply_kopf_settings
from va_operator.outcomes import job_outcome, job_waiting, pod_outcome
from va_operator.phases import Outcome, Phase
from videoanalysis.db import close_db, init_db
from videoanalysis.k8s import names
from videoanalysis.k8s.version import UnsupportedServer

SETTINGS = OperatorSettings()
VA = (names.GROUP, names.VERSION, names.PLURAL)
_BACKGROUND: list[asyncio.Task[None]] = []  # the retention sweep (not per resource: no finalizer)
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
log = logging.getLogger(__name__)
OURS: dict[str, Any] = {names.LABEL_MANAGED_BY: names.MANAGED_BY, names.LABEL_RESOURCE: kopf.PRESENT}


def _invalid_spec_warns(fn: F) -> F:
    """Under the Kopf decorators, over `metrics.counted` (which still counts it `permanent`): a
    spec that can never run ends the handler with a WARNING naming the resource and the reason,
    instead of Kopf's ERROR for a handler that failed. Either way it is not retried."""

    @functools.wraps(fn)
    async def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except reconcile.InvalidSpec as exc:
            meta = kwargs["body"]["metadata"]
            log.warning("%s/%s: invalid spec, not run: %s", meta["namespace"], meta["name"], exc)
            return None

    return run  # type: ignore[return-value]


def _not_ended(status: kopf.Status, **_: Any) -> bool:
    return status.get("phase") not in (Phase.SUCCEEDED.value, Phase.FAILED.value)


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, logger: kopf.Logger, **_: Any) -> None:
    """The API server is new enough (else the operator stops, saying why); Kopf's settings from
    ours; Tortoise connected for the task rows; /metrics served."""
    try:
        found = await kube_io.check_server_version()
    except UnsupportedServer as exc:
        logger.error("%s", exc)
        raise kopf.PermanentError(str(exc)) from exc
    logger.info("Kubernetes API server %s", found)
    apply_kopf_settings(settings, SETTINGS)
    await init_db(SETTINGS, generate_schemas=False, global_fallback=True)
    metrics.start_metrics_server(SETTINGS.metrics_port)  # last: a retried startup binds once
    if SETTINGS.retention_days and not _BACKGROUND:
        _BACKGROUND.append(asyncio.create_task(retention.retention_loop(SETTINGS)))


@kopf.on.cleanup()
async def cleanup(**_: Any) -> None:
    for task in _BACKGROUND:
        task.cancel()
    await asyncio.gather(*_BACKGROUND, return_exceptions=True)
    await close_db()


@kopf.on.create(*VA)
@kopf.on.resume(*VA, when=_not_ended)
@_invalid_spec_warns
@metrics.counted("ensure_job")
async def ensure_job(body: kopf.Body, **_: Any) -> None:
    """Find or create the task row (status.taskId), then create the Job if absent while the
    row is open (a restart or a retry finds both and moves on; an ended row makes no Job)."""
    await lifecycle.start(body, SETTINGS)


@kopf.on.event("batch", "v1", "jobs", labels=OURS)
@metrics.counted("job_changed")
async def job_changed(type: str, body: kopf.Body, **_: Any) -> None:
    """The job controller's verdict (Complete/Failed) becomes the resource's phase; a suspended
    Job (Kueue's, waiting for quota) shows Pending, Queued."""
    owner = await kube_io.owner_of(body)
    outcome = (job_outcome(body) or job_waiting(body)) if type != "DELETED" else None
    if owner is None or outcome is None:
        return
    if outcome.phase is Phase.FAILED and outcome.reason in ("BackoffLimitExceeded", "PermanentFailure"):
        detail = await kube_io.failure_details(body)
        if detail:
            outcome = Outcome(outcome.phase, outcome.reason, f"{outcome.message}; last: {detail}")
    await reconcile.advance(owner, outcome, SETTINGS)


@kopf.on.event("", "v1", "pods", labels=OURS)
@metrics.counted("pod_changed")
async def pod_changed(type: str, body: kopf.Body, **_: Any) -> None:
    """A running Pod makes the resource Running, one no node can take shows Pending,
    Unschedulable; an image that cannot be pulled fails it and deletes the Job (the job
    controller would keep it Pending until its deadline)."""
    outcome = pod_outcome(body) if type != "DELETED" else None
    owner = await kube_io.owner_of(body) if outcome is not None else None
    if owner is None or outcome is None:
        return
    await reconcile.advance(owner, outcome, SETTINGS)
    if outcome.phase is Phase.FAILED:  # also after a crash that moved it but left the Job
        await kube_io.stop_job(body["metadata"]["namespace"], names.job_name(owner["metadata"]["name"]))


def _running(status: kopf.Status, **_: Any) -> bool:
    return status.get("phase") == Phase.RUNNING.value


# `when=`, not `field=`: Kopf adds a handler's field to its diff-base, so each phase change
# would cost one more annotation patch and one more event per resource.
@kopf.timer(*VA, interval=SETTINGS.progress_interval_s, when=_running)
@metrics.counted("progress")
async def progress(body: kopf.Body, **_: Any) -> None:
    """Mirror the task row's counters into status.progress and status.summary (on change)."""
    await reconcile.mirror_progress(body, SETTINGS)


@kopf.timer(*VA, interval=SETTINGS.repair_interval_s, initial_delay=SETTINGS.repair_interval_s, when=_not_ended)
@_invalid_spec_warns
@metrics.counted("repair")
async def repair(body: kopf.Body, **_: Any) -> None:
    """Level-triggered: re-read the Job, its Pods and the task row, and repair row and status
    (a Job that disappeared is made again while retries are left)."""
    await lifecycle.repair(body, SETTINGS)


@kopf.on.update(*VA, field="spec")
@metrics.counted("spec_changed")
async def spec_changed(body: kopf.Body, status: kopf.Status, spec: kopf.Spec, **_: Any) -> None:
    """The API server keeps edits of the spec, but the run uses the task's snapshot: an edit
    is reported (condition SpecChanged and an Event), never run."""
    if status.get("taskId"):
        await reconcile.report_spec_change(body, SETTINGS)


# Only while the resource has not ended: Kopf keeps its finalizer on a resource exactly while
# a handler that needs one matches it (this one, and the Running-only progress timer), so a
# finished resource loses the finalizer and deleting its namespace never waits for us.
@kopf.on.delete(*VA, when=_not_ended)
@metrics.counted("deleted")
async def deleted(body: kopf.Body, **_: Any) -> None:
    """The resource is going away: its Job goes by owner reference, the task ends CANCELLED."""
    if await row_io.cancel_task(body):
        kopf.info(body, reason="Cancelled", message="the task was cancelled by deleting the resource")
    logging.getLogger(__name__).info("resource %s deleted", body["metadata"]["name"])
