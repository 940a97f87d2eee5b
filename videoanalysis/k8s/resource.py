"""The VideoAnalysis resource of a stored task (pure): what the API's kubernetes dispatcher
creates and the operator turns into a Job.

A resource is no place for a secret (it lands in etcd and in every `kubectl get -o yaml`):
a video URL is shown without its query, fragment and credentials (a presigned URL's
signature). The job reads the whole URL from the task row, never from the resource."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from videoanalysis.k8s import names
from videoanalysis.params import AnalysisParams
from videoanalysis.tables import Task


def build_videoanalysis(task: Task, namespace: str) -> dict[str, Any]:
    """The VideoAnalysis resource for a stored task, in `namespace`."""
    # The row's parameters as stored (unchecked here: the operator checks them and fails the
    # resource with the reason), spelt as the contract's camelCase spec fields.
    params = AnalysisParams.model_construct(**{**(task.params or {}), "model": task.model})
    spec: dict[str, Any] = {"taskId": str(task.id), "videoUri": shown_video_uri(task.video_uri), **params.spec()}
    return {
        "apiVersion": names.API_VERSION,
        "kind": names.KIND,
        "metadata": {
            "name": names.resource_name(str(task.id)),
            "namespace": namespace,
            "labels": {
                names.LABEL_TASK: str(task.id),
                names.LABEL_NAME: "videoanalysis",
            },
        },
        "spec": spec,
    }


def shown_video_uri(uri: str) -> str:
    """What an API-made resource shows of its task's video: an http(s) URL without its query,
    fragment and user info; any other URI (`videos://<key>`) as it is."""
    parts = urlsplit(uri)
    if parts.scheme.lower() not in ("http", "https"):
        return uri
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def task_id_of(body: Mapping[str, Any]) -> str | None:
    """The task a resource runs: `status.taskId`, written by the operator once the row exists
    (`spec.taskId` for the resource the API made for that task, derived from the uid otherwise)."""
    value = (body.get("status") or {}).get("taskId")
    return str(value) if value else None
