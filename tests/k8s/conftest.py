"""Operator test fixtures: a fresh namespace per test, the simulated kubelet, task rows. The
control plane (`k8s_cluster`, `kube_api`) and the session's operator (`operator`, a real `kopf
run` process) live in tests/conftest.py: one each per session, shared by tests/k8s, tests/chaos
and tests/shipping (a second operator on the same namespaces would race the first)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from tests.k8s.cluster import NAMESPACE_PREFIX, create_namespace
from tests.k8s.kubelet import SimulatedKubelet
from videoanalysis.k8s import names
from videoanalysis.models import Task, TaskOrigin, User


@pytest.fixture
def namespace(kube_api: client.ApiClient, db: str) -> Iterator[str]:
    """A fresh namespace with its default service account and the database Secret."""
    name = create_namespace(kube_api, NAMESPACE_PREFIX, db)
    yield name
    client.CoreV1Api(kube_api).delete_namespace(name)


@pytest.fixture
def unwatched_namespace(kube_api: client.ApiClient) -> Iterator[str]:
    """A fresh namespace the session's operator does not watch (not `va-t-*`), for resources
    meant for the API server alone: in a watched one, the operator would still find them while
    the namespace terminates and fail them, which other tests' counts would then include."""
    core = client.CoreV1Api(kube_api)
    name = f"va-api-{uuid.uuid4().hex[:8]}"
    assert not name.startswith(NAMESPACE_PREFIX)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


@pytest.fixture
def kubelet(kube_api: client.ApiClient) -> SimulatedKubelet:
    return SimulatedKubelet(kube_api)


async def api_task(namespace: str | None, **fields: Any) -> Task:
    """A PENDING task row of a fresh user as the API makes it: its row names the resource the
    kubernetes dispatcher creates for it (`va-<id>` in `namespace`; none without a namespace)."""
    user = await User.create(email=f"k8s-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    task_id = uuid.uuid4()
    return await Task.create(
        **{"video_uri": "videos://v.mp4", "model": "opencv-face", **fields},
        id=task_id,
        owner=user,
        origin=TaskOrigin.API,
        resource_namespace=namespace,
        resource_name=names.resource_name(str(task_id)) if namespace else None,
    )


@pytest.fixture
async def make_task(db: str, request: pytest.FixtureRequest) -> Any:
    """`await make_task(**spec_fields)`: a PENDING task row of a fresh user, made as the API
    makes it for its resource `va-<id>` in `namespace=` (default: the test's `namespace`
    fixture, when it uses one), so the operator binds that resource to it."""

    async def make(model: str = "opencv-face", namespace: str | None = None, **params: Any) -> Task:
        if namespace is None and "namespace" in request.fixturenames:
            namespace = request.getfixturevalue("namespace")
        return await api_task(namespace, model=model, params=params)

    return make


async def wait_for(predicate: Any, timeout: float = 30, what: str = "condition", interval: float = 0.2) -> Any:
    """Poll `predicate` (sync or async) until it returns something truthy."""
    import asyncio
    import inspect

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)
