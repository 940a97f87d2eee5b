"""The CRD's CEL rules (`videoanalysis.k8s.crd`) through the real API server: a resource's
identity (spec.taskId, spec.owner, spec.videoUri) is fixed at creation, a resource with a
spec.taskId has the name the API gives it, and the analysis parameters stay editable (an edit
after the start is the operator's to report, not the API server's to refuse)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.support.cluster import kubectl
from videoanalysis.k8s import names

pytestmark = pytest.mark.kubernetes


@pytest.fixture
def namespace(unwatched_namespace: str) -> str:
    """These resources are for the API server alone (see `unwatched_namespace`)."""
    return unwatched_namespace


#: The stand-in of an absent field, in the cases below.
ABSENT = None
TASK = "123e4567-e89b-12d3-a456-426614174000"


def objects(api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api)


def manifest(ns: str, name: str, **spec: Any) -> dict[str, Any]:
    """A VideoAnalysis with the given spec fields; those set to ABSENT are left out."""
    return {
        "apiVersion": names.API_VERSION,
        "kind": names.KIND,
        "metadata": {"name": name, "namespace": ns},
        "spec": {k: v for k, v in spec.items() if v is not ABSENT},
    }


def create(api: client.ApiClient, body: dict[str, Any]) -> Any:
    ns = body["metadata"]["namespace"]
    return objects(api).create_namespaced_custom_object(names.GROUP, names.VERSION, ns, names.PLURAL, body)


def get(api: client.ApiClient, ns: str, name: str) -> Any:
    return objects(api).get_namespaced_custom_object(names.GROUP, names.VERSION, ns, names.PLURAL, name)


def refusal(exc: pytest.ExceptionInfo[ApiException]) -> str:
    """The API server's message of a refused request, which must be a 422 (Invalid)."""
    assert exc.value.status == 422, exc.value.body
    return str(json.loads(str(exc.value.body))["message"])


def identity_message(field: str) -> str:
    return f"spec.{field} cannot be added, changed or removed after creation"


@pytest.mark.parametrize(
    ("field", "before", "after", "message"),
    [
        # Added with the value that names the resource: only the identity rule can refuse it.
        pytest.param("taskId", ABSENT, TASK, identity_message("taskId"), id="taskId-add"),
        # Changed only in case: the name still matches, so again only the identity rule.
        pytest.param("taskId", TASK, TASK.upper(), identity_message("taskId"), id="taskId-change"),
        pytest.param("taskId", TASK, ABSENT, identity_message("taskId"), id="taskId-remove"),
        pytest.param("owner", ABSENT, "someone@example.com", identity_message("owner"), id="owner-add"),
        pytest.param("owner", "someone@example.com", "other@example.com", identity_message("owner"), id="owner-change"),
        pytest.param("owner", "someone@example.com", ABSENT, identity_message("owner"), id="owner-remove"),
        pytest.param(
            "videoUri", "videos://a.mp4", "videos://b.mp4", identity_message("videoUri"), id="videoUri-change"
        ),
        # videoUri is required: the schema refuses its removal before any rule runs (and a
        # resource without one cannot be created, so it can never be added either).
        pytest.param("videoUri", "videos://a.mp4", ABSENT, "spec.videoUri: Required value", id="videoUri-remove"),
    ],
)
def test_identity_cannot_be_edited(
    kube_api: client.ApiClient, namespace: str, field: str, before: str | None, after: str | None, message: str
) -> None:
    name = names.resource_name(TASK)
    spec = {"videoUri": "videos://a.mp4", "frameStride": 2, field: before}
    stored = create(kube_api, manifest(namespace, name, **spec))
    edited = manifest(namespace, name, **{**spec, field: after})
    edited["metadata"]["resourceVersion"] = stored["metadata"]["resourceVersion"]
    with pytest.raises(ApiException) as exc:
        objects(kube_api).replace_namespaced_custom_object(
            names.GROUP, names.VERSION, namespace, names.PLURAL, name, edited
        )
    assert message in refusal(exc)
    assert get(kube_api, namespace, name)["spec"] == stored["spec"]  # nothing of the edit was stored


@pytest.mark.parametrize("name", ["sample", names.resource_name(str(uuid.uuid4()))])
def test_task_id_must_name_the_resource(kube_api: client.ApiClient, namespace: str, name: str) -> None:
    with pytest.raises(ApiException) as exc:
        create(kube_api, manifest(namespace, name, taskId=TASK, videoUri="videos://a.mp4"))
    message = refusal(exc)
    assert f"metadata.name must be {names.resource_name(TASK)}, the name the API gives the resource of task" in message
    assert kubectl("get", "va", "-n", namespace, "--ignore-not-found", "-o", "name").stdout == ""


def test_resources_named_as_the_api_names_them_are_accepted(kube_api: client.ApiClient, namespace: str) -> None:
    """The rule reads the id as the API does (in lower case), and a resource applied by hand
    without a taskId may have any name."""
    create(kube_api, manifest(namespace, names.resource_name(TASK), taskId=TASK.upper(), videoUri="videos://a.mp4"))
    create(kube_api, manifest(namespace, "by-hand", owner="someone@example.com", videoUri="videos://a.mp4"))
    assert get(kube_api, namespace, "by-hand")["spec"]["owner"] == "someone@example.com"


def test_parameters_and_status_stay_editable(kube_api: client.ApiClient, namespace: str) -> None:
    name = names.resource_name(TASK)
    body = manifest(namespace, name, taskId=TASK, owner="someone@example.com", videoUri="videos://a.mp4")
    created = create(kube_api, body)
    edit = {"spec": {"frameStride": 3, "labels": ["face"], "gpus": 0}}
    kubectl("patch", "va", name, "-n", namespace, "--type", "merge", "-p", json.dumps(edit))
    objects(kube_api).patch_namespaced_custom_object_status(
        names.GROUP, names.VERSION, namespace, names.PLURAL, name, {"status": {"phase": "Pending", "taskId": TASK}}
    )
    stored = get(kube_api, namespace, name)
    assert stored["spec"] == {**created["spec"], **edit["spec"]}
    assert stored["metadata"]["generation"] == created["metadata"]["generation"] + 1
    assert stored["status"] == {"phase": "Pending", "taskId": TASK}


@pytest.mark.parametrize(("value", "kept"), [(3, 3), ("auto", "auto"), (ABSENT, 1)])
def test_shards_take_a_count_or_auto(kube_api: client.ApiClient, namespace: str, value: Any, kept: Any) -> None:
    """`spec.shards` is int-or-string under a CEL rule: a count, the word auto, or the default 1."""
    name = f"shards-{str(value).lower()}"
    stored = create(kube_api, manifest(namespace, name, videoUri="videos://a.mp4", shards=value))
    assert stored["spec"]["shards"] == kept


@pytest.mark.parametrize("value", [0, 65, "many", "3"])
def test_shards_refuse_anything_else(kube_api: client.ApiClient, namespace: str, value: Any) -> None:
    with pytest.raises(ApiException) as exc:
        create(kube_api, manifest(namespace, "shards-bad", videoUri="videos://a.mp4", shards=value))
    assert "spec.shards: Invalid value" in refusal(exc) and "must be an integer from 1 to 64, or auto" in refusal(exc)
