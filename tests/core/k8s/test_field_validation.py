"""Each write path of the project sends strict field validation: the API server refuses a body
with a misspelt field instead of dropping the field (which it does, with only a warning, when a
client does not ask). Every test sends one misspelt field through the project's own function and
expects the server's refusal naming it; without `field_validation="Strict"` the write succeeds.

The client's own models (Job, Secret, Event) already refuse an unknown field before any request,
so for those paths `unchecked` skips the client's check: the project's arguments, its
`field_validation` among them, then reach the server as given. Custom objects and patches are
plain dicts the client never checks.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import kopf
import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from api.dispatchers.base import DispatchError
from api.dispatchers.kubernetes import KubernetesDispatcher
from va_operator import kube_io, reconcile, retention
from va_operator.builders import build_job
from va_operator.config import OperatorSettings
from va_operator.secret_bootstrap import ensure_secret
from videoanalysis.k8s import kube, names
from videoanalysis.k8s.resource import build_videoanalysis

pytestmark = pytest.mark.kubernetes


@pytest.fixture
def namespace(unwatched_namespace: str) -> str:
    """These resources are for the API server alone (see `unwatched_namespace`)."""
    return unwatched_namespace


Api = TypeVar("Api")


def unchecked(api: type[Api], method: str, edit: Callable[[dict[str, Any]], None] = lambda body: None) -> type[Api]:
    """`api` whose `method` skips the client's model check of its body (a plain dict goes out
    as given), after `edit` changed that body; every other argument is the caller's own."""
    generated = getattr(api, method)
    send = getattr(generated, "raw_function", generated)  # the request code under pydantic's check

    def method_(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = inspect.signature(send).bind(self, *args, **kwargs)
        body = self.api_client.sanitize_for_serialization(call.arguments["body"])
        edit(body)
        call.arguments["body"] = body
        return send(*call.args, **call.kwargs)

    return type(f"Unchecked{api.__name__}", (api,), {method: method_})


def resource(namespace: str) -> dict[str, Any]:
    """A VideoAnalysis manifest (not created) of a resource whose task row exists."""
    name = f"va-{uuid.uuid4().hex[:8]}"
    return {
        "apiVersion": names.API_VERSION,
        "kind": names.KIND,
        "metadata": {"name": name, "namespace": namespace, "uid": str(uuid.uuid4())},
        "spec": {"videoUri": "videos://a.mp4"},
        "status": {"taskId": str(uuid.uuid4())},
    }


def refused(exc: ApiException, field: str) -> bool:
    return exc.status in (400, 422) and f'unknown field "{field}"' in kube.server_message(exc)


async def test_job_creation_refuses_a_misspelt_field(
    namespace: str, kube_api: client.ApiClient, monkeypatch: pytest.MonkeyPatch, db: str
) -> None:
    """(`db`: the Job takes its shard count from the task's row, absent here.)"""

    def misspelt_job(body: Any, settings: OperatorSettings) -> dict[str, Any]:
        job = build_job(body, settings)
        job["spec"]["backofLimit"] = job["spec"].pop("backoffLimit")
        return job

    monkeypatch.setattr(kube_io, "build_job", misspelt_job)
    monkeypatch.setattr(kube, "batch", lambda: unchecked(client.BatchV1Api, "create_namespaced_job")(kube_api))
    # The resource is not in the cluster: the refusal's move to Failed finds nothing to move
    # (that move's Event needs a running operator).
    with pytest.raises(kopf.PermanentError, match=r'unknown field "spec\.backofLimit"'):
        await reconcile.ensure_job(resource(namespace), OperatorSettings())
    assert not client.BatchV1Api(kube_api).list_namespaced_job(namespace).items


async def test_status_patch_refuses_a_misspelt_field(namespace: str, kube_api: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(kube_api)
    manifest = resource(namespace)
    del manifest["metadata"]["uid"], manifest["status"]
    created: Any = custom.create_namespaced_custom_object(names.GROUP, names.VERSION, namespace, names.PLURAL, manifest)
    with pytest.raises(kopf.PermanentError, match=r'unknown field "status\.framesDon"'):
        await kube_io.patch_status(created, {"framesDon": 3}, OperatorSettings())
    current: Any = custom.get_namespaced_custom_object(
        names.GROUP, names.VERSION, namespace, names.PLURAL, created["metadata"]["name"]
    )
    assert "status" not in current


async def test_dispatcher_refuses_a_misspelt_spec_field(
    namespace: str, make_task: Any, kube_api: client.ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def misspelt_resource(task: Any, ns: str) -> dict[str, Any]:
        body = build_videoanalysis(task, ns)
        body["spec"]["frameStrid"] = 2
        return body

    monkeypatch.setattr("api.dispatchers.kubernetes.build_videoanalysis", misspelt_resource)
    dispatcher = KubernetesDispatcher(OperatorSettings(kube_namespace=namespace))
    try:
        with pytest.raises(DispatchError, match=r'unknown field "spec\.frameStrid"'):
            await dispatcher.submit(await make_task())
    finally:
        await dispatcher.close()
    listed: Any = client.CustomObjectsApi(kube_api).list_namespaced_custom_object(
        names.GROUP, names.VERSION, namespace, names.PLURAL
    )
    assert not listed["items"]


def misspell_type(body: dict[str, Any]) -> None:
    body["tpye"] = body.pop("type", "Opaque")


SEEDS = {"database-url": "postgres://u:p@db:5432/va"}


def test_secret_creation_refuses_a_misspelt_field(namespace: str, kube_api: client.ApiClient) -> None:
    core = unchecked(client.CoreV1Api, "create_namespaced_secret", misspell_type)(kube_api)
    with pytest.raises(ApiException) as refusal:
        ensure_secret(core, namespace, "va-strict", SEEDS, None)
    assert refused(refusal.value, "tpye"), kube.server_message(refusal.value)
    with pytest.raises(ApiException, match="Not Found"):
        client.CoreV1Api(kube_api).read_namespaced_secret("va-strict", namespace)


def test_secret_update_refuses_a_misspelt_field(namespace: str, kube_api: client.ApiClient) -> None:
    client.CoreV1Api(kube_api).create_namespaced_secret(
        namespace, client.V1Secret(metadata=client.V1ObjectMeta(name="va-strict"), string_data=SEEDS)
    )
    core = unchecked(client.CoreV1Api, "patch_namespaced_secret", misspell_type)(kube_api)
    with pytest.raises(ApiException) as refusal:
        ensure_secret(core, namespace, "va-strict", SEEDS, None)  # adds the missing secret-key
    assert refused(refusal.value, "tpye"), kube.server_message(refusal.value)
    kept = client.CoreV1Api(kube_api).read_namespaced_secret("va-strict", namespace)
    assert set(kept.data or {}) == set(SEEDS)


async def test_retention_event_refuses_a_misspelt_field(
    namespace: str, kube_api: client.ApiClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def misspell_count(body: dict[str, Any]) -> None:
        body["cout"] = body.pop("count")

    monkeypatch.setattr(
        kube, "core", lambda: unchecked(client.CoreV1Api, "create_namespaced_event", misspell_count)(kube_api)
    )
    with caplog.at_level(logging.WARNING, logger=retention.log.name):
        await retention.post_event(resource(namespace), "Expired", "results erased")  # a failure only logs
    assert 'unknown field "cout"' in caplog.text
    assert not client.CoreV1Api(kube_api).list_namespaced_event(namespace, field_selector="reason=Expired").items
