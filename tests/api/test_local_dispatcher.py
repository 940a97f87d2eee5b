"""The local dispatcher's mechanics with real child processes.

The job's own behaviour is tested in tests/job/; here small Python programs stand in for
`python -m inference_job` where the thing under test is how the dispatcher treats a process
(queueing, killing its process group, a crash, a missing executable). The real job runs in
tests/api/test_upload.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from pathlib import Path

import pytest

from api.dispatchers import create_dispatcher
from api.dispatchers.local import LocalDispatcher, exit_reason
from tests.support.waits import until
from videoanalysis.exitcodes import JobExit
from videoanalysis.lease import acquire
from videoanalysis.tables import Task, User
from videoanalysis.task_status import TaskStatus

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
SECRET = "postgres://va:hunter2@db.internal:5432/videos"  # what a driver error may print


@pytest.fixture
async def owner(db: str) -> User:
    import uuid

    return await User.create(email=f"disp-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")


async def new_task(owner: User, queue: str) -> Task:
    return await Task.create(owner=owner, model="opencv-face", video_uri="videos://x.mp4", params={}, queue=queue)


async def status_of(task: Task) -> Task:
    return await Task.get(id=task.id)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_create_dispatcher_follows_the_setting(api_settings):
    dispatcher = create_dispatcher(api_settings(dispatcher="local"))
    assert isinstance(dispatcher, LocalDispatcher) and dispatcher.name == "local"
    kube = create_dispatcher(api_settings(dispatcher="kubernetes", kube_namespace="videos"))
    assert kube.name == "kubernetes" and kube.namespace == "videos"  # no cluster contacted yet
    await kube.close()


async def test_queue_respects_concurrency_and_cancel_kills_the_group(api_settings, owner):
    dispatcher = LocalDispatcher(api_settings(local_concurrency=1), command=SLEEPER)
    first, second = await new_task(owner, dispatcher.queue), await new_task(owner, dispatcher.queue)
    try:
        await dispatcher.submit(first)
        await dispatcher.submit(second)
        await until(lambda: _async(dispatcher.running == {str(first.id)}))
        await asyncio.sleep(0.3)
        assert dispatcher.running == {str(first.id)}  # the second waits for a slot
        proc = dispatcher._procs[str(first.id)]
        await dispatcher.cancel(first)
        assert proc.returncode is not None and not alive(proc.pid)
        await until(lambda: _async(dispatcher.running == {str(second.id)}))
        # A cancelled run is not reported as a failure (the API marks it CANCELLED).
        assert (await status_of(first)).status == TaskStatus.PENDING
    finally:
        await dispatcher.close()
    assert dispatcher.running == set()
    # A graceful stop leaves the task open, with no error: the next start runs it.
    closed = await status_of(second)
    assert closed.status == TaskStatus.PENDING and closed.error is None and closed.retries == 0


async def test_crash_is_retried_then_fails_with_a_reason_for_the_user_and_the_tail_in_the_log(
    api_settings, owner, tmp_path: Path, caplog
):
    # The job's stderr holds tracebacks, paths and driver messages naming the database: the
    # server log gets them, the task's error (read by its user through the API) never does.
    runs = tmp_path / "runs"
    code = (
        f"import sys; open({str(runs)!r}, 'a').write('x'); print('Traceback (most recent call last):', file=sys.stderr);"
        " print('  File \"/srv/app/inference_job/run.py\", line 42, in main', file=sys.stderr);"
        f" print('OperationalError: could not connect to {SECRET}', file=sys.stderr); sys.exit(1)"
    )
    caplog.set_level(logging.WARNING, logger="api.dispatchers.local")
    dispatcher = LocalDispatcher(
        api_settings(local_backoff_limit=2, local_backoff_seconds=0.5), command=[sys.executable, "-c", code]
    )
    task = await new_task(owner, dispatcher.queue)
    await dispatcher.submit(task)
    errors: list[str] = []

    async def retrying() -> bool:
        errors.extend(filter(None, [(await status_of(task)).error]))
        return bool(errors)

    await until(retrying)
    await until(lambda: _final(task))
    failed = await status_of(task)
    assert failed.status == TaskStatus.FAILED and failed.retries == 2 and runs.read_text() == "xxx"
    assert failed.error == "the analysis stopped unexpectedly (exit code 1); the server log has the details"
    assert errors[0] == f"retrying: {failed.error}"
    for error in (failed.error, errors[0]):
        assert "hunter2" not in error and "db.internal" not in error and "/srv/app" not in error
    logged = [r for r in caplog.records if str(task.id) in r.getMessage()]
    assert [r.levelno for r in logged] == [logging.WARNING, logging.WARNING, logging.ERROR]
    assert all(SECRET in r.getMessage() and "/srv/app/inference_job/run.py" in r.getMessage() for r in logged)
    await dispatcher.close()


async def test_a_superseded_run_is_neither_retried_nor_failed(api_settings, owner, tmp_path: Path):
    runs = tmp_path / "runs"
    code = f"import sys; open({str(runs)!r}, 'a').write('x'); sys.exit({JobExit.SUPERSEDED})"
    dispatcher = LocalDispatcher(api_settings(), command=[sys.executable, "-c", code])
    task = await new_task(owner, dispatcher.queue)
    await dispatcher.submit(task)
    await until(lambda: _async(runs.exists()))
    await asyncio.sleep(0.5)
    await dispatcher.close()
    row = await status_of(task)
    assert row.status == TaskStatus.PENDING and row.retries == 0 and row.error is None


async def test_a_live_lease_of_another_process_is_waited_out(api_settings, owner, tmp_path: Path):
    out = tmp_path / "ran"
    dispatcher = LocalDispatcher(api_settings(), command=[sys.executable, "-c", f"open({str(out)!r}, 'w')"])
    task = await new_task(owner, dispatcher.queue)
    await acquire(task.id, "orphan-of-an-earlier-server", ttl_s=1.5)
    await dispatcher.start()
    await asyncio.sleep(0.8)
    assert not out.exists()  # never doubled while the lease lives
    await until(lambda: _async(out.exists()))  # taken once it expired
    await dispatcher.close()


async def test_missing_executable_and_silent_exit(api_settings, owner, caplog):
    caplog.set_level(logging.WARNING, logger="api.dispatchers.local")
    missing = LocalDispatcher(api_settings(), command=["/nonexistent/python"])
    task = await new_task(owner, missing.queue)
    await missing.submit(task)
    await until(lambda: _final(task))
    error = (await status_of(task)).error
    assert error.startswith("could not start the analysis process") and "/nonexistent" not in error
    assert "/nonexistent/python" in caplog.text  # the cause, for the operator
    await missing.close()
    silent = LocalDispatcher(api_settings(), command=[sys.executable, "-c", "pass"])
    task2 = await new_task(owner, silent.queue)
    await silent.submit(task2)
    await until(lambda: _final(task2))
    assert "ended without recording a result" in (await status_of(task2)).error
    await silent.close()


def test_exit_reasons_are_sentences_for_the_user():
    assert exit_reason(-9) == "the analysis was stopped by a signal (SIGKILL, 9); the server log has the details"
    assert "interrupted" in exit_reason(JobExit.INTERRUPTED) and "(exit code 75)" in exit_reason(75)
    assert "could not find its task" in exit_reason(JobExit.NO_TASK)
    assert "stopped unexpectedly (exit code 137)" in exit_reason(137)


async def test_job_gets_database_and_storage_environment(api_settings, owner, tmp_path: Path):
    out = tmp_path / "env.json"
    code = (
        f"import json, os, sys; json.dump({{k: os.environ.get(k) for k in "
        f"('VA_DATABASE_URL', 'VA_VIDEOS_DIR', 'VA_DATA_DIR', 'VA_LEASE_HOLDER')}} | {{'argv': sys.argv[1:], "
        f"'pgid': os.getpgid(0) == os.getpid()}}, open({str(out)!r}, 'w'))"
    )
    settings = api_settings()
    dispatcher = LocalDispatcher(settings, command=[sys.executable, "-c", code])
    task = await new_task(owner, dispatcher.queue)
    await dispatcher.submit(task)
    await until(lambda: _async(out.exists() and out.stat().st_size > 0))
    await dispatcher.close()
    seen = json.loads(out.read_text())
    assert seen["VA_DATABASE_URL"] == settings.resolved_database_url
    assert seen["VA_VIDEOS_DIR"] == str(settings.resolved_videos_dir)
    assert seen["VA_DATA_DIR"] == str(settings.data_dir.resolve())
    assert seen["argv"] == ["--task-id", str(task.id)] and seen["pgid"] is True
    assert seen["VA_LEASE_HOLDER"].startswith("local:")  # a name per run, released when it ends


async def _async(value: bool) -> bool:
    return value


async def _final(task: Task) -> bool:
    return TaskStatus((await status_of(task)).status).is_final


async def test_a_crashed_run_that_advanced_the_position_is_not_counted(api_settings, owner, db):
    # Stands in for a job killed after committing a batch, three times, then one that ends it.
    code = f"""
import asyncio, asyncpg, sys
async def main():
    conn = await asyncpg.connect({db!r})
    pos = await conn.fetchval("UPDATE tasks SET next_frame = next_frame + 8 WHERE id = $1 RETURNING next_frame", sys.argv[-1])
    if pos >= 32:
        await conn.execute("UPDATE tasks SET status = 'SUCCEEDED' WHERE id = $1", sys.argv[-1])
    await conn.close()
    sys.exit(0 if pos >= 32 else -9 % 256)
asyncio.run(main())
"""
    dispatcher = LocalDispatcher(api_settings(local_backoff_limit=1), command=[sys.executable, "-c", code])
    task = await new_task(owner, dispatcher.queue)
    await dispatcher.submit(task)
    await until(lambda: _final(task))
    await dispatcher.close()
    row = await status_of(task)
    assert (row.status, row.next_frame, row.retries) == (TaskStatus.SUCCEEDED, 32, 0)
