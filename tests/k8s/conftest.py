"""Operator fixtures: the operator as a real `kopf run` process, a fresh namespace per test.
The control plane itself (`k8s_cluster`, `kube_api`: one per session, CRD installed) lives in
tests/conftest.py so tests/shipping shares the same one."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.k8s.cluster import OperatorProcess, create_namespace, running_operator
from tests.k8s.kubelet import SimulatedKubelet
from videoanalysis.models import Task, User

NAMESPACE_PREFIX = "va-t-"


@pytest.fixture(scope="session")
def operator(db: str, k8s_cluster: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OperatorProcess]:
    """The operator watching every test namespace, against the session database."""
    with running_operator(db, f"{NAMESPACE_PREFIX}*", tmp_path_factory.mktemp("operator") / "operator.log") as proc:
        yield proc


@pytest.fixture
def namespace(kube_api: client.ApiClient, db: str) -> Iterator[str]:
    """A fresh namespace with its default service account and the database Secret."""
    name = create_namespace(kube_api, NAMESPACE_PREFIX, db)
    yield name
    client.CoreV1Api(kube_api).delete_namespace(name)


@pytest.fixture
def kubelet(kube_api: client.ApiClient) -> SimulatedKubelet:
    return SimulatedKubelet(kube_api)


@pytest.fixture
async def make_task(db: str) -> Any:
    """`await make_task(**spec_fields)`: a PENDING task row of a fresh user."""

    async def make(model: str = "opencv-face", **params: Any) -> Task:
        user = await User.create(email=f"k8s-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
        return await Task.create(owner=user, model=model, params=params, video_uri="videos://v.mp4")

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
