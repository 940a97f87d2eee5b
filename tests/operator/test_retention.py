"""The operator's retention sweep without a cluster (the resource reads are stubbed): the tasks
of resources applied by hand go oldest first, and one resource that fails, whatever the error,
is logged by name and passed over while the sweep goes on with the others."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from va_operator import kube_io, retention
from va_operator.config import OperatorSettings
from videoanalysis.clock import local_now
from videoanalysis.tables import Task, TaskOrigin, User
from videoanalysis.task_status import TaskStatus


async def applied_tasks(names: list[str]) -> list[Task]:
    """Expired tasks of resources applied by hand in `ns`, named `names` from the oldest on,
    created newest first (so the table's own order is the wrong one)."""
    owner = await User.create(email=f"ret-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    tasks = []
    for n, name in reversed(list(enumerate(names))):
        task = await Task.create(
            owner=owner,
            model="opencv-face",
            video_uri="videos://street.mp4",
            status=TaskStatus.SUCCEEDED,
            origin=TaskOrigin.MANIFEST,
            resource_namespace="ns",
            resource_name=name,
        )
        await Task.filter(id=task.id).update(finished_at=local_now() - timedelta(days=20 - n))
        tasks.append(task)
    return tasks[::-1]


async def test_one_failing_resource_is_logged_by_name_and_the_sweep_goes_on(
    db: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tasks = await applied_tasks(["first", "refused", "malformed", "last"])
    read: list[str] = []

    async def read_resource(namespace: str, name: str) -> dict[str, Any] | None:
        read.append(name)
        if name == "refused":
            raise ApiException(status=500, reason="Internal Server Error")
        if name == "malformed":
            return {"metadata": {}}  # no uid: a KeyError, a bug of ours or of the server's
        return None  # deleted meanwhile: the row goes all the same

    monkeypatch.setattr(kube_io, "read_resource", read_resource)
    with caplog.at_level(logging.WARNING):
        expired = await retention.expire_applied(OperatorSettings(retention_days=7), batch=2)
    assert expired >= 2
    assert [n for n in read if n in ("first", "refused", "malformed", "last")] == [
        "first",
        "refused",
        "malformed",
        "last",
    ]
    left = set(await Task.filter(id__in=[t.id for t in tasks]).values_list("resource_name", flat=True))
    assert left == {"refused", "malformed"}
    warning = next(r for r in caplog.records if "ns/refused" in r.getMessage())
    assert warning.levelno == logging.WARNING and "Internal Server Error" in warning.getMessage()
    error = next(r for r in caplog.records if "ns/malformed" in r.getMessage())
    assert error.exc_info is not None  # an unexpected error comes with its traceback
    await Task.filter(id__in=[t.id for t in tasks]).delete()  # the session database is shared
