"""The local dispatcher's bookkeeping is bounded by its runs, on PostgreSQL and SQLite.

Erasing (by an owner, or hourly by retention) asks the dispatcher to cancel ended tasks too;
if each id were kept and sent back to the database on every poll, a few tens of thousands of
them would exceed the driver's bind-parameter limit (32,767 for asyncpg, 32,766 for SQLite)
and no task would ever start again. Here 40,000 ended tasks are cancelled, then a new one
must still run; erasing an ended task of the local queue does not ask the dispatcher at all.
The SQLite run also fails a task past its deadline (`started_at` compared on SQLite's stored times).
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import uuid
from pathlib import Path

from api.dispatchers.local import LocalDispatcher
from api.erase import erase_task
from tests.support.paths import ROOT
from tests.support.waits import until
from videoanalysis.tables import Task, User
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition

ENDED = 40_000  # past both drivers' bind-parameter limits

# Cancels ENDED ended tasks (erased ones: no row left) on a dispatcher of the embedded SQLite
# database, then submits a new task whose child writes a file; prints whether it ran, and the
# status of a task started two hours before (past the deadline) and waiting for a retry. SQLite's
# own limit of bound parameters (32,766) is applied: some builds (Debian's) raise it to 250,000.
SQLITE_SCRIPT = """
import asyncio, json, sqlite3, sys, uuid
from datetime import timedelta
from pathlib import Path

_connect = sqlite3.connect
def connect(*args, **kwargs):
    conn = _connect(*args, **kwargs)
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32766)
    return conn
sqlite3.connect = connect

from api.config import ApiSettings
from api.dispatchers.local import LocalDispatcher
from videoanalysis.clock import local_now
from videoanalysis.db import close_db, init_db
from videoanalysis.tables import Task, User
from videoanalysis.task_status import TaskStatus

async def main():
    data, ended = Path(sys.argv[1]), int(sys.argv[2])
    settings = ApiSettings(environment="embedded", data_dir=data, local_poll_seconds=0.2)
    await init_db(settings)
    owner = await User.create(email="queue@example.com", password_hash="x")
    ran = data / "ran"
    dispatcher = LocalDispatcher(settings, command=[sys.executable, "-c", f"open({str(ran)!r}, 'w')"])
    overdue = await Task.create(owner=owner, model="m", video_uri="videos://x.mp4", queue=dispatcher.queue,
                                status=TaskStatus.RUNNING, started_at=local_now() - timedelta(hours=2),
                                retry_at=local_now() + timedelta(hours=1))
    await dispatcher.start()
    for _ in range(ended):
        await dispatcher.cancel(Task(id=uuid.uuid4(), owner=owner, model="m", video_uri="videos://x.mp4",
                                     status=TaskStatus.SUCCEEDED, queue=dispatcher.queue))
    task = await Task.create(owner=owner, model="opencv-face", video_uri="videos://x.mp4", queue=dispatcher.queue)
    await dispatcher.submit(task)
    for _ in range(100):
        if ran.exists():
            break
        await asyncio.sleep(0.1)
    await dispatcher.close()
    overdue = await Task.get(id=overdue.id)
    await close_db()
    print(json.dumps({"ran": ran.exists(), "tracked": len(dispatcher._cancelled),
                      "overdue": [overdue.status, overdue.error]}))

asyncio.run(main())
"""


async def test_cancelling_tens_of_thousands_of_ended_tasks_leaves_the_queue_working(
    api_settings, db: str, tmp_path: Path, caplog
) -> None:
    caplog.set_level(logging.ERROR, logger="api.dispatchers.local")
    ran = tmp_path / "ran"
    dispatcher = LocalDispatcher(api_settings(), command=[sys.executable, "-c", f"open({str(ran)!r}, 'w')"])
    owner = await User.create(email=f"bk-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    try:
        await dispatcher.start()
        for _ in range(ENDED):  # erased tasks: ended, their rows gone
            await dispatcher.cancel(ended_task(owner, dispatcher.queue))
        task = await Task.create(
            owner=owner, model="opencv-face", video_uri="videos://x.mp4", params={}, queue=dispatcher.queue
        )
        await dispatcher.submit(task)
        await until(lambda: _async(ran.exists()), timeout=15, what="the new task's run")
    finally:
        await dispatcher.close()
    assert not [r for r in caplog.records if "polling failed" in r.getMessage()]
    assert not dispatcher._cancelled  # only live runs are tracked


def test_cancelling_tens_of_thousands_of_ended_tasks_on_sqlite(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SQLITE_SCRIPT, str(tmp_path / "data"), str(ENDED)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "ran": True,
        "tracked": 0,
        "overdue": ["FAILED", "the analysis ran past its deadline of 3600 s"],
    }, done.stderr[-3000:]


async def test_erasing_an_ended_task_of_the_local_queue_does_not_cancel_it(api_settings, tmp_path: Path) -> None:
    """Only a run (or a resource the API made) is stopped: an ended task has neither."""
    owner = await User.create(email=f"bk-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    dispatcher = CancelRecorder()
    task = await Task.create(
        owner=owner, model="opencv-face", video_uri="videos://x.mp4", status=TaskStatus.SUCCEEDED, queue="local"
    )
    await erase_task(task, dispatcher, tmp_path)  # type: ignore[arg-type]
    assert not await Task.exists(id=task.id)
    assert dispatcher.cancelled == []


async def test_cancelled_tasks_are_not_started_until_their_rows_end_then_forgotten(
    api_settings, db: str, tmp_path: Path
) -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    dispatcher = LocalDispatcher(api_settings(local_concurrency=1), command=sleeper)
    owner = await User.create(email=f"bk-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    first, second, third = [
        await Task.create(owner=owner, model="opencv-face", video_uri="videos://x.mp4", queue=dispatcher.queue)
        for _ in range(3)
    ]
    try:
        await dispatcher.submit(first)
        await until(lambda: _async(dispatcher.running == {str(first.id)}))
        await dispatcher.cancel(second)  # queued; the API writes CANCELLED right after
        await dispatcher.cancel(first)  # running: its process group is stopped
        await until(lambda: _async(dispatcher.running == {str(third.id)}))
        for task in (first, second):
            await transition(task.id, TaskStatus.CANCELLED, error="cancelled by the owner")
        await asyncio.sleep(0.6)  # a few polls
        assert not dispatcher._cancelled  # forgotten once their rows ended
    finally:
        await dispatcher.close()


class CancelRecorder:
    """A dispatcher that records what it was asked to cancel."""

    name = "recorder"

    def __init__(self) -> None:
        self.cancelled: list[uuid.UUID] = []

    async def cancel(self, task: Task) -> None:
        self.cancelled.append(task.id)


def ended_task(owner: User, queue: str) -> Task:
    return Task(
        id=uuid.uuid4(), owner=owner, model="m", video_uri="videos://x.mp4", status=TaskStatus.SUCCEEDED, queue=queue
    )


async def _async(value: bool) -> bool:
    return value
