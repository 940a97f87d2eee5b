"""The task row behind a resource: found for a resource the API made, created from the spec
for one applied by hand (`kubectl apply`), and compared with later edits of the spec.

`spec.taskId` is only a claim (anyone who may create a resource can write any id, and task
ids are public): it binds only to a task the API made whose row names this very resource
(namespace and name, recorded by the API's dispatcher before it created the resource).
Anything else fails the resource as an invalid spec and leaves the named task alone. Once
bound, `status.taskId` (written by the operator only) is the one id every later step uses.

A resource applied by hand gets the task id uuid5(TASK_ID_NAMESPACE, metadata.uid): an
operator that crashed after creating the row and before writing `status.taskId` finds the
same row again instead of making a second task (and a second Job). The row is the snapshot the
run uses; edits of the spec after that are reported (`spec_changes`), never run.
"""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from tortoise.exceptions import IntegrityError

from va_operator.builders import SpecError
from videoanalysis.catalogue import UnknownModelError
from videoanalysis.k8s.resource import shown_video_uri
from videoanalysis.newtask import create_task
from videoanalysis.params import AUTO_SHARDS, AnalysisParams, ParamsError, parse_params, task_params
from videoanalysis.tables import Task, TaskOrigin, User
from videoanalysis.uploadkeys import is_upload_key
from videoanalysis.video_fetch import UnsafeURL, VideoUrlPolicy, check_video_url, is_url
from videoanalysis.zones import ZoneLimits

#: videoanalysis.storage.SCHEME (that module needs OpenCV, which the operator does not install).
SCHEME = "videos://"
#: Fixed namespace of the uuid5 task ids of resources applied by hand.
TASK_ID_NAMESPACE = uuid.UUID("5a4d2c1e-7b0f-4f57-9d35-3c2f0e6a9b11")
#: The spec's fields that belong to the parameter contract (camelCase aliases).
PARAM_FIELDS = tuple(field.alias or name for name, field in AnalysisParams.model_fields.items())


def task_id_for(uid: str) -> uuid.UUID:
    """The task id of a resource applied by hand (stable across operator restarts)."""
    return uuid.uuid5(TASK_ID_NAMESPACE, uid)


def spec_params(spec: Mapping[str, Any], default_model: str) -> AnalysisParams:
    """The spec's analysis parameters under the one contract, model defaulted to
    VA_DEFAULT_MODEL; SpecError names what the CRD schema could not check (unknown model)."""
    try:
        values = {k: spec[k] for k in PARAM_FIELDS if spec.get(k) is not None}
        return parse_params(values, by_alias=True).with_model(default_model)
    except (ParamsError, UnknownModelError) as exc:
        raise SpecError(str(exc)) from None


def check_video_uri(uri: str, mount_path: str, policy: VideoUrlPolicy | None = None) -> str:
    """`videos://<key>` inside the volume, `file://` of a path inside it as the Job mounts it
    (`mount_path`), or an https:// URL (http:// when the policy allows); anything else is a
    SpecError: a resource must not make the Job read files outside the videos volume, nor a
    video the API stored for an upload (`videoanalysis.uploadkeys`: another user's). Pure
    path arithmetic and the URL's shape: where a URL's host resolves is the job's check, made
    from the Job's network when it fetches."""
    root = posixpath.normpath(mount_path)
    if is_url(uri):
        try:
            check_video_url(uri, policy or VideoUrlPolicy(), resolve=False)
        except UnsafeURL as exc:
            raise SpecError(f"spec.videoUri: {exc}") from None
        return uri
    if uri.startswith(SCHEME):
        path = posixpath.normpath(posixpath.join(root, uri[len(SCHEME) :]))
    elif uri.startswith("file://"):
        path = posixpath.normpath(uri[len("file://") :])
    else:
        raise SpecError(f"spec.videoUri must be {SCHEME}<key>, file:// inside the videos volume, or https://")
    prefix = root.rstrip("/") + "/"
    if not path.startswith(prefix):
        raise SpecError(f"spec.videoUri {uri!r} is outside the videos volume ({root})")
    if is_upload_key(path[len(prefix) :]):
        raise SpecError(
            f"spec.videoUri {uri!r} names a video the API stored for an upload; "
            "copy your video to another name on the volume (or upload it through the API)"
        )
    return uri


async def _owner(spec: Mapping[str, Any]) -> User:
    email = str(spec.get("owner") or "").strip().lower()
    if not email:
        raise SpecError("spec.owner is missing: name the email of the account that owns the analysis")
    user = await User.get_or_none(email=email)
    if user is None:
        raise SpecError(f"spec.owner {email!r} is not an account of the API (sign up first)")
    return user


async def find_or_create(
    body: Mapping[str, Any], default_model: str, mount_path: str, policy: VideoUrlPolicy | None = None
) -> Task:
    """The task this resource runs: `status.taskId` (the operator's own record), else the API's
    task named by `spec.taskId` when its row names this resource (`api_task`), else the row
    made from the spec under the uid-derived id (created if absent)."""
    meta, spec = body["metadata"], body.get("spec") or {}
    known = (body.get("status") or {}).get("taskId")
    if known:
        task = await Task.get_or_none(id=known)
        if task is None:
            raise SpecError(f"task {known} does not exist (erased, or another database)")
        return task
    if spec.get("taskId"):
        return await api_task(str(spec["taskId"]), meta["namespace"], meta["name"])
    task_id = task_id_for(meta["uid"])
    task = await Task.get_or_none(id=task_id)
    if task is not None:
        return task
    params = spec_params(spec, default_model)
    if params.shards == AUTO_SHARDS:  # the Job's completions must be known before the video is read
        raise SpecError(
            "spec.shards: auto is resolved by the API for an uploaded video; a resource gives a number of shards"
        )
    uri = check_video_uri(str(spec.get("videoUri", "")), mount_path, policy)
    owner = await _owner(spec)
    try:
        return await create_task(
            owner,
            params,
            origin=TaskOrigin.MANIFEST,
            task_id=task_id,
            video_uri=uri,
            video_name=PurePosixPath(urlsplit(uri).path if is_url(uri) else uri.split("://", 1)[-1]).name[:255],
            resource_namespace=meta["namespace"],
            resource_name=meta["name"],
        )
    except IntegrityError:  # made meanwhile by a retry of this handler
        return await Task.get(id=task_id)


async def api_task(task_id: str, namespace: str, name: str) -> Task:
    """The task the API made for the resource `namespace`/`name`; SpecError, the same for an
    unknown id, a task of a manifest and an API task of another resource (no oracle), when
    `task_id` is not that. Its video URI was checked by the API: no `check_video_uri` here."""
    try:
        task = await Task.get_or_none(id=uuid.UUID(task_id), origin=TaskOrigin.API)
    except ValueError:
        task = None
    if task is None or (task.resource_namespace, task.resource_name) != (namespace, name):
        raise SpecError(
            f"spec.taskId is set by the API only: task {task_id} is not one the API made for {namespace}/{name}"
        )
    return task


def checked_params(task: Task, limits: ZoneLimits | None = None) -> AnalysisParams:
    """The row's snapshot under the contract, its zones and lines within the deployment's
    `limits`; SpecError when it can never run."""
    try:
        params = task_params(task.model, task.params)
        if limits is not None:
            params.rules.check_limits(limits)
        return params
    except (ParamsError, UnknownModelError) as exc:
        raise SpecError(str(exc)) from None
    except ValueError as exc:  # over the zone limits
        raise SpecError(f"spec: {exc}") from None


def spec_changes(spec: Mapping[str, Any], task: Task, default_model: str) -> list[str]:
    """The spec fields that now differ from the task's snapshot (camelCase, sorted). An API
    task's resource shows its video URI without the secret parts (`shown_video_uri`)."""
    shown = shown_video_uri(task.video_uri) if task.origin == TaskOrigin.API else task.video_uri
    changed = [] if spec.get("videoUri") == shown else ["videoUri"]
    try:
        now = spec_params(spec, default_model).spec()
    except SpecError:
        now = {}
    try:
        then = checked_params(task).spec()
    except SpecError:
        then = {}
    changed += [k for k in PARAM_FIELDS if now.get(k) != then.get(k)]
    return sorted(changed)
