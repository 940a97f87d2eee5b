"""The local queue's active deadline (`VA_LOCAL_ACTIVE_DEADLINE_SECONDS`) with real child
processes: past it the run's whole process group is gone and the task FAILED with the deadline
as its reason, never retried; a restart of the server does not reset it; an overdue task with
no run here is failed by the poll.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from api.config import SettingsError, load_settings
from api.dispatchers.local import LocalDispatcher
from tests.support.waits import until
from va_operator.builders import JOB_FALLBACKS
from videoanalysis.clock import local_now
from videoanalysis.tables import Task, User
from videoanalysis.task_status import TaskStatus


def group_runner(runs: Path) -> list[str]:
    """A job that starts a grandchild in its own process group, appends both pids to `runs`,
    then sleeps: only a kill of the whole group stops both."""
    code = (
        "import os, subprocess, sys, time;"
        " p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        f" open({str(runs)!r}, 'a').write(f'{{os.getpid()}} {{p.pid}}\\n'); time.sleep(60)"
    )
    return [sys.executable, "-c", code]


@pytest.fixture
async def owner(db: str) -> User:
    return await User.create(email=f"dl-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")


async def new_task(owner: User, queue: str) -> Task:
    return await Task.create(owner=owner, model="opencv-face", video_uri="videos://x.mp4", params={}, queue=queue)


async def test_past_its_deadline_the_run_group_is_killed_and_the_task_failed_once(api_settings, owner, tmp_path):
    runs = tmp_path / "runs"
    dispatcher = LocalDispatcher(
        api_settings(local_active_deadline_seconds=2, local_backoff_limit=3), command=group_runner(runs)
    )
    task = await new_task(owner, dispatcher.queue)
    try:
        await dispatcher.submit(task)
        await until(lambda: _final(task), timeout=10, what="the task's end")
        await asyncio.sleep(1.0)  # time for a retry, if there were one
        row = await Task.get(id=task.id)
        pids = [int(pid) for line in runs.read_text().splitlines() for pid in line.split()]
        assert row.status == TaskStatus.FAILED and row.error == "the analysis ran past its deadline of 2 s"
        assert row.retries == 0 and len(pids) == 2  # one run, never retried
        assert 2 <= (row.finished_at - row.started_at).total_seconds() < 8
        assert not [pid for pid in pids if alive(pid)]  # the job and its grandchild
        assert dispatcher.running == set()
    finally:
        await dispatcher.close()


async def test_a_restart_does_not_reset_the_deadline(api_settings, owner, tmp_path):
    runs = tmp_path / "runs"
    settings = api_settings(local_active_deadline_seconds=4)
    first = LocalDispatcher(settings, command=group_runner(runs))
    task = await new_task(owner, first.queue)
    await first.submit(task)
    await until(lambda: _async(runs.exists() and first.running == {str(task.id)}))
    await asyncio.sleep(2.5)
    await first.close()  # a graceful stop: the task stays open, its deadline kept in the row
    assert (await Task.get(id=task.id)).status == TaskStatus.PENDING
    second = LocalDispatcher(settings, command=group_runner(runs))
    try:
        await second.start()
        # About 1.5 s were left: a deadline counted again from this start would need 4 s.
        await until(lambda: _final(task), timeout=3, what="the end at the deadline of the first start")
        row = await Task.get(id=task.id)
        assert row.status == TaskStatus.FAILED and row.error == "the analysis ran past its deadline of 4 s"
        assert row.retries == 0
        pids = [int(pid) for line in runs.read_text().splitlines() for pid in line.split()]
        assert not [pid for pid in pids if alive(pid)]
    finally:
        await second.close()


async def test_an_overdue_task_with_no_run_here_is_failed_by_the_poll(api_settings, owner, tmp_path):
    """A task waiting for a retry past its deadline (or run by an orphan of an earlier server)."""
    ran = tmp_path / "ran"
    dispatcher = LocalDispatcher(api_settings(), command=[sys.executable, "-c", f"open({str(ran)!r}, 'w')"])
    task = await new_task(owner, dispatcher.queue)
    now = local_now()
    await Task.filter(id=task.id).update(
        status=TaskStatus.RUNNING, started_at=now - timedelta(hours=2), retry_at=now + timedelta(hours=1), retries=1
    )
    try:
        await dispatcher.start()
        await until(lambda: _final(task), timeout=5, what="the overdue task's end")
    finally:
        await dispatcher.close()
    row = await Task.get(id=task.id)
    assert row.status == TaskStatus.FAILED and row.error == "the analysis ran past its deadline of 3600 s"
    assert not ran.exists()


def test_the_deadline_setting_defaults_to_the_jobs_and_refuses_absurd_values(tmp_path: Path):
    settings = load_settings(environment="embedded", data_dir=tmp_path)
    assert settings.local_active_deadline_seconds == JOB_FALLBACKS["activeDeadlineSeconds"] == 3600
    for absurd in (0, -5, 10**9):
        with pytest.raises(SettingsError, match="VA_LOCAL_ACTIVE_DEADLINE_SECONDS"):
            load_settings(environment="embedded", data_dir=tmp_path, local_active_deadline_seconds=absurd)


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (an exited grandchild may wait for its reaper)."""
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (ProcessLookupError, FileNotFoundError):
        return False
    return state != "Z"


async def _final(task: Task) -> bool:
    return TaskStatus((await Task.get(id=task.id)).status).is_final


async def _async(value: bool) -> bool:
    return value
