"""Task rows as the API makes them, and waiting for the status the operator gives them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.waits import wait_for
from videoanalysis.k8s import names
from videoanalysis.tables import Task, TaskOrigin, User
from videoanalysis.task_status import TaskStatus


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


async def task_status(task: Task) -> TaskStatus:
    await task.refresh_from_db()
    return TaskStatus(task.status)


async def status_is(status: Any, expected: TaskStatus) -> bool:
    """Whether the awaited `status` (of `task_status`) is `expected`."""
    return await status is expected


async def row_is(task: Task, expected: TaskStatus) -> None:
    """Wait for the task row's status (the operator writes it before the resource's status;
    waiting keeps the tests free of that order where they do not test it)."""
    await wait_for(lambda: status_is(task_status(task), expected), timeout=10, what=f"task row {expected.value}")
