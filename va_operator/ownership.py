"""Which resource a Job or a Pod belongs to, by owner reference UID: Pod -> its Job -> the
VideoAnalysis. Labels only select what the operator watches; a label anyone can set on a Pod,
or one left on a Job of an earlier resource of the same name, never moves a resource. (Whoever
may create Pods in the Jobs' namespace can mount the database Secret too, so this guards
against stale objects and accidents, not as a security boundary.) Pure functions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from videoanalysis.k8s import names

#: The API group of each owner kind the operator follows.
_GROUP = {names.KIND: names.GROUP, "Job": "batch"}


def controller_ref(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    """The controller owner reference of `obj` of that kind (in its API group), if any."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        group = str(ref.get("apiVersion") or "").rpartition("/")[0]
        if ref.get("controller") and ref.get("kind") == kind and group == _GROUP[kind]:
            return ref
    return None


def controlled_by(obj: Mapping[str, Any], kind: str, uid: str | None) -> bool:
    """Whether the object of `kind` with that UID is the controller of `obj`."""
    ref = controller_ref(obj, kind)
    return ref is not None and bool(uid) and ref.get("uid") == uid


def resource_of_job(job: Mapping[str, Any]) -> dict[str, Any] | None:
    """The metadata stub (namespace, name, uid) of the VideoAnalysis that controls the Job."""
    ref = controller_ref(job, names.KIND)
    if ref is None:
        return None
    namespace = (job.get("metadata") or {}).get("namespace")
    return {"metadata": {"namespace": namespace, "name": ref["name"], "uid": ref["uid"]}}
