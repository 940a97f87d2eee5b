"""The VideoAnalysis resource of a stored task (pure): what the API's kubernetes dispatcher
creates and the operator turns into a Job."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from videoanalysis.k8s import names
from videoanalysis.models import Task
from videoanalysis.params import AnalysisParams


def build_videoanalysis(task: Task, namespace: str) -> dict[str, Any]:
    """The VideoAnalysis resource for a stored task, in `namespace`."""
    # The row's parameters as stored (unchecked here: the operator checks them and fails the
    # resource with the reason), spelt as the contract's camelCase spec fields.
    params = AnalysisParams.model_construct(**{**(task.params or {}), "model": task.model})
    spec: dict[str, Any] = {"taskId": str(task.id), "videoUri": task.video_uri, **params.spec()}
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


def task_id_of(body: Mapping[str, Any]) -> str | None:
    """The task a resource runs: `status.taskId`, written by the operator once the row exists
    (copied from `spec.taskId` for a resource the API made, derived from the uid otherwise)."""
    value = (body.get("status") or {}).get("taskId")
    return str(value) if value else None
