"""Retention of resources applied by hand (`VA_RETENTION_DAYS`): their tasks' results (the task
row, its detections) are erased once they ended that long ago, and the resource is kept with an
`Expired` condition and an Event. Deleting it would only have GitOps re-create it and run it
again. The video the manifest names is its author's (on the volume or at a URL) and stays.
The API erases the tasks it made itself (api.retention). Oldest first, until none is due; a
resource that fails is logged by name and passed over, never the end of the sweep
(videoanalysis.retention)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import kopf
from kubernetes.client.exceptions import ApiException

from va_operator import kube_io, taskrow
from va_operator.config import OperatorSettings
from videoanalysis.clock import db_now, local_now
from videoanalysis.k8s import kube
from videoanalysis.periodic import every
from videoanalysis.retention import BATCH, SWEEP_BUDGET_S, Backoff, sweep
from videoanalysis.tables import Task, TaskOrigin

log = logging.getLogger(__name__)


def expired_message(days: int) -> str:
    return (
        f"the results were erased {days} day(s) after the analysis ended (VA_RETENTION_DAYS); "
        "the resource is kept so that it does not run again"
    )


async def post_event(body: Mapping[str, Any], reason: str, message: str) -> None:
    """An Event on the resource, posted directly: outside a handler (this sweep is not one)
    Kopf has no event queue. A failure only costs the Event (the condition is written)."""
    meta = body["metadata"]
    now = local_now().isoformat()
    event = {
        "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
        "involvedObject": {
            "apiVersion": body["apiVersion"],
            "kind": body["kind"],
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
        },
        "reason": reason,
        "message": message,
        "type": "Normal",
        "source": {"component": "videoanalysis-operator"},
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    try:
        await asyncio.to_thread(kube.core().create_namespaced_event, meta["namespace"], event, **kube.STRICT)  # type: ignore[arg-type]  # a plain manifest dict serialises too
    except ApiException as exc:
        log.warning("could not post the %s Event on %s: %s", reason, meta["name"], kube.server_message(exc))


async def expire_applied(
    settings: OperatorSettings, backoff: Backoff | None = None, *, budget_s: float = SWEEP_BUDGET_S, batch: int = BATCH
) -> int:
    """Erase the expired tasks of resources applied by hand, oldest first, until none is left or
    `budget_s` has passed (videoanalysis.retention); returns how many. One resource that fails
    (its API call, its status) is logged by name and retried after `backoff`; the others go on."""
    if settings.retention_days <= 0:
        return 0
    # finished_at is the database clock's stamp: compare it with that clock, not this machine's.
    cutoff = await db_now() - timedelta(days=settings.retention_days)
    due = Task.filter(finished_at__lt=cutoff, origin=TaskOrigin.MANIFEST)
    return await sweep(
        due,
        lambda task: expire(task, settings),
        lambda task: f"resource {task.resource_namespace}/{task.resource_name} (task {task.id})",
        backoff if backoff is not None else Backoff(),
        expected=(ApiException, kopf.TemporaryError),
        budget_s=budget_s,
        batch=batch,
    )


async def expire(task: Task, settings: OperatorSettings) -> None:
    """Mark the task's resource Expired (with an Event) and delete the row. Only the resource
    this row was made for: a re-created one of that name is another."""
    body = await kube_io.read_resource(str(task.resource_namespace), str(task.resource_name))
    if body is not None and taskrow.task_id_for(body["metadata"]["uid"]) == task.id:
        message = expired_message(settings.retention_days)
        if await kube_io.update_condition(body, "Expired", True, "RetentionExpired", message, settings):
            await post_event(body, "Expired", message)
    await Task.filter(id=task.id).delete()  # detections and deliveries go by cascade


async def retention_loop(settings: OperatorSettings) -> None:
    """Sweep at start-up and then every VA_RETENTION_INTERVAL_S; a failed round is logged and retried."""
    backoff = Backoff()  # the resources that failed, kept from one sweep to the next

    async def sweep_once() -> None:
        expired = await expire_applied(settings, backoff)
        if expired:
            log.info("retention: erased the results of %d resource(s) applied by hand", expired)

    await every(settings.retention_interval_s, sweep_once, name="retention sweep", logger=log)
