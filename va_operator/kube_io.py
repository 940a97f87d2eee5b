"""The operator's requests to the API server: the VideoAnalysis resource (read, status patches,
one condition), its Job (create-if-absent, read, stop) and the Job's Pods.

The client is synchronous, so each call runs in a thread. Where a caller needs Kopf's verdict,
an API refusal becomes a `kopf.TemporaryError` (retried: the API or RBAC may recover) or a
`kopf.PermanentError` (only a new spec helps); the other calls leave `ApiException` to the caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, cast

import kopf
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from va_operator import metrics, ownership
from va_operator.builders import build_job
from va_operator.config import OperatorSettings
from va_operator.outcomes import pod_failure_detail
from va_operator.phases import set_condition
from videoanalysis.k8s import kube, names, version


def _as_kopf_error(
    exc: ApiException, what: str, settings: OperatorSettings
) -> kopf.TemporaryError | kopf.PermanentError:
    """Kopf's verdict on an API refusal of `what`: retried, or given up until the spec changes."""
    message = f"{what}: {kube.server_message(exc)}"
    if kube.is_transient(exc) or exc.status in (401, 403):  # RBAC can be fixed without a new spec
        return kopf.TemporaryError(message, delay=settings.retry_delay_s)
    return kopf.PermanentError(message)


async def check_server_version() -> str:
    """The API server's version, if supported (`videoanalysis.k8s.version`); raises otherwise."""
    info = await asyncio.to_thread(client.VersionApi(kube.api_client()).get_code)
    return version.check(kube.api_client().sanitize_for_serialization(info))


def owned_job(body: Mapping[str, Any], settings: OperatorSettings) -> dict[str, Any]:
    """The resource's Job with its owner reference: the GC deletes it with the resource."""
    job = build_job(body, settings)
    kopf.adopt(job, owner=body)  # type: ignore[arg-type]  # a resource body is a kopf.Body
    return job


async def create_job(job: dict[str, Any], owner: Mapping[str, Any], settings: OperatorSettings) -> dict[str, Any]:
    """Create `job` unless it exists (409 is success when `owner` owns the Job found); returns
    the Job. A refusal raises `kopf.PermanentError`, for the caller to show on the resource."""
    namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
    try:
        # The client serialises a plain manifest dict as well as its V1Job model.
        created = (await asyncio.to_thread(kube.batch().create_namespaced_job, namespace, job, **kube.STRICT)).to_dict()  # type: ignore[arg-type]
        metrics.JOBS_CREATED.inc()
        return created
    except ApiException as exc:
        if exc.status != 409:
            raise _as_kopf_error(exc, f"creating Job {name}", settings) from exc
    except Exception as exc:  # no connection, timeouts
        if kube.is_transient(exc):
            raise kopf.TemporaryError(f"creating Job {name}: {exc}", delay=settings.retry_delay_s) from exc
        raise
    existing = await asyncio.to_thread(kube.batch().read_namespaced_job, name, namespace)
    owners = [ref.uid for ref in (existing.metadata and existing.metadata.owner_references) or []]
    if owner["metadata"]["uid"] not in owners:
        # A Job left by an earlier resource of the same name: the GC removes it shortly.
        raise kopf.TemporaryError(f"Job {name} belongs to another owner; waiting", delay=settings.retry_delay_s)
    return existing.to_dict()


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
        raise _as_kopf_error(exc, f"updating {meta['name']} status", settings) from exc
    return True


async def patch_status(body: Mapping[str, Any], fields: Mapping[str, Any], settings: OperatorSettings) -> None:
    """Merge `fields` into the status (fields only the operator writes, no read needed)."""
    meta = body["metadata"]
    try:
        await _send_status(meta, {"status": dict(fields)})
    except ApiException as exc:
        raise _as_kopf_error(exc, f"updating {meta['name']} status", settings) from exc


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
        raise _as_kopf_error(exc, f"reading Job {name}", settings) from exc
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
