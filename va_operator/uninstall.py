"""`python -m va_operator.uninstall`: end a namespace's unfinished analyses before the operator goes.

The chart runs this as a `pre-delete` hook Job, while the operator still runs. The operator
keeps its finalizer on a resource that has not ended; once the operator is uninstalled nobody
removes it, and the resource, then the namespace deleted after it, would hang. So this deletes
every unfinished VideoAnalysis (the operator cancels its task, its Job goes by owner reference
and the finalizer is removed) and waits until none is left. Finished resources carry no
finalizer and stay. Past the timeout (an operator that does not answer) it removes the
operator's finalizer itself, naming those resources: their tasks stay open in the database,
but the uninstall does not hang.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from va_operator.phases import Phase
from videoanalysis.k8s import kube, names

ENDED = (Phase.SUCCEEDED.value, Phase.FAILED.value)


@dataclass
class Outcome:
    """What was deleted (and cancelled by the operator), and whose finalizer was forced off."""

    deleted: set[str] = field(default_factory=set)
    forced: list[str] = field(default_factory=list)


def ended(resource: Mapping[str, Any]) -> bool:
    return (resource.get("status") or {}).get("phase") in ENDED


def has_finalizer(resource: Mapping[str, Any]) -> bool:
    return names.FINALIZER in ((resource.get("metadata") or {}).get("finalizers") or [])


def being_deleted(resource: Mapping[str, Any]) -> bool:
    return bool((resource.get("metadata") or {}).get("deletionTimestamp"))


def holds_up_deletion(resource: Mapping[str, Any]) -> bool:
    """A resource the operator still answers for: not ended, or still carrying its finalizer
    (an ended one loses it at the operator's next look)."""
    return not ended(resource) or has_finalizer(resource)


def _resources(api: client.CustomObjectsApi, namespace: str) -> list[dict[str, Any]]:
    try:
        listed: Any = api.list_namespaced_custom_object(names.GROUP, names.VERSION, namespace, names.PLURAL)
    except ApiException as exc:
        if exc.status == 404:  # no CRD: nothing of ours can be left
            return []
        raise
    return list(listed.get("items") or [])


def _delete(api: client.CustomObjectsApi, namespace: str, name: str) -> None:
    try:
        api.delete_namespaced_custom_object(
            names.GROUP, names.VERSION, namespace, names.PLURAL, name, propagation_policy="Background"
        )
    except ApiException as exc:
        if exc.status != 404:
            raise


def _remove_finalizer(api: client.CustomObjectsApi, resource: Mapping[str, Any]) -> bool:
    """Drop the operator's finalizer (others' stay); the resourceVersion makes a concurrent
    change a conflict rather than a lost update. False when it changed or went meanwhile."""
    meta = resource["metadata"]
    kept = [f for f in meta.get("finalizers") or [] if f != names.FINALIZER]
    patch = {"metadata": {"finalizers": kept, "resourceVersion": meta["resourceVersion"]}}
    try:
        api.patch_namespaced_custom_object(
            names.GROUP, names.VERSION, meta["namespace"], names.PLURAL, meta["name"], patch, **kube.STRICT
        )
    except ApiException as exc:
        if exc.status in (404, 409):
            return False
        raise
    return True


def cancel_analyses(
    api_client: client.ApiClient,
    namespace: str,
    timeout_s: float,
    poll_s: float = 1.0,
) -> Outcome:
    """Delete the namespace's unfinished resources and wait up to `timeout_s` for the operator
    to let them go; then remove its finalizer from those still there. Deleting again on every
    pass also catches a resource made meanwhile (the API still takes uploads)."""
    api = client.CustomObjectsApi(api_client)
    outcome = Outcome()
    deadline = time.monotonic() + timeout_s
    while True:
        left = [r for r in _resources(api, namespace) if holds_up_deletion(r)]
        if not left:
            return outcome
        for resource in left:
            if not ended(resource) and not being_deleted(resource):
                _delete(api, namespace, resource["metadata"]["name"])
                outcome.deleted.add(resource["metadata"]["name"])
        if time.monotonic() >= deadline:
            break
        time.sleep(poll_s)
    for resource in _resources(api, namespace):
        # Not one made after the last pass, which nobody deleted: the operator would put it back.
        forcible = has_finalizer(resource) and (ended(resource) or being_deleted(resource))
        if forcible and _remove_finalizer(api, resource):
            outcome.forced.append(resource["metadata"]["name"])
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--timeout-seconds", type=float, default=120.0, help="how long to wait for the operator")
    args = parser.parse_args(argv)
    with kube.new_api_client() as api_client:
        outcome = cancel_analyses(api_client, args.namespace, args.timeout_seconds)
    for name in sorted(outcome.deleted):
        print(f"deleted {args.namespace}/{name}")
    for name in outcome.forced:
        print(
            f"warning: {args.namespace}/{name}: the operator did not let it go within {args.timeout_seconds:g} s; "
            "its finalizer was removed, its task stays open in the database",
            file=sys.stderr,
        )
    print(
        f"{args.namespace}: unfinished analyses deleted: {len(outcome.deleted)}, finalizers forced: {len(outcome.forced)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
