"""Pinned names of the VideoAnalysis resource, its labels and its Job."""

from __future__ import annotations

import hashlib

GROUP = "videoanalysis.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "VideoAnalysis"
PLURAL = "videoanalyses"
SHORT_NAME = "va"
CATEGORY = "videoanalysis"
CRD_NAME = f"{PLURAL}.{GROUP}"

#: Labels on the Job and its Pods; the operator follows Jobs and Pods by LABEL_RESOURCE.
LABEL_TASK = f"{GROUP}/task-id"
LABEL_RESOURCE = f"{GROUP}/resource"
LABEL_NAME = "app.kubernetes.io/name"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY = "videoanalysis-operator"
LABEL_KUEUE_QUEUE = "kueue.x-k8s.io/queue-name"
#: Kopf's finalizer (the operator's setting): on a resource exactly while it has not ended.
FINALIZER = f"{GROUP}/operator"
CONTAINER = "inference"

# Pod names add "-xxxxx" to the Job's name and label values stop at 63 characters.
_MAX_JOB_NAME = 52


def resource_name(task_id: str) -> str:
    """One resource per task, named after it."""
    return f"va-{str(task_id).lower()}"


def job_name(resource: str) -> str:
    """Deterministic Job name of a resource (shortened with a hash when too long)."""
    if len(resource) <= _MAX_JOB_NAME:
        return resource
    digest = hashlib.sha256(resource.encode()).hexdigest()[:8]
    return f"{resource[: _MAX_JOB_NAME - 9].rstrip('-.')}-{digest}"
