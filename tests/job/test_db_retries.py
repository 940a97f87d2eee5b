"""A database that is unreachable from the job's start: the job waits with capped exponential
back-off before exiting `INTERRUPTED` (which the Job's pod failure policy ignores, so the wait is
what keeps Pods from hot-looping), and a SIGTERM ends that wait at once."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from inference_job.config import JobSettings
from tests.support.job_harness import JobHarness
from tests.support.paths import ROOT
from videoanalysis.exitcodes import JobExit

RERUN = re.compile(r"rerun (\d+) in ([\d.]+) s")


def test_default_back_off_waits_a_minute_with_each_wait_capped() -> None:
    settings = JobSettings(db_retries=6, db_retry_delay_s=1.0, db_retry_max_delay_s=60.0)
    assert JobSettings.model_fields["db_retries"].default == 6
    assert JobSettings.model_fields["db_retry_delay_s"].default == 1.0
    assert JobSettings.model_fields["db_retry_max_delay_s"].default == 60.0
    delays = [settings.db_retry_delay(a) for a in range(settings.db_retries)]
    assert delays == [1, 2, 4, 8, 16, 32] and sum(delays) == 63
    assert [settings.db_retry_delay(a) for a in (6, 7, 2000)] == [60, 60, 60]


@pytest.fixture
def dead_db_url() -> Iterator[str]:
    """A PostgreSQL URL whose port is bound but never listened on: every connect is refused
    (and no other process can take the port while the test holds it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"postgres://va@127.0.0.1:{sock.getsockname()[1]}/va"


async def start_job(harness: JobHarness, **env: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "inference_job",
        "--task-id",
        str(uuid.uuid4()),
        cwd=ROOT,
        env=harness.env(**env),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_unreachable_database_at_start_backs_off_then_exits_interrupted(
    harness: JobHarness, dead_db_url: str
) -> None:
    started = time.monotonic()
    proc = await start_job(
        harness,
        VA_DATABASE_URL=dead_db_url,
        VA_DB_RETRIES="4",
        VA_DB_RETRY_DELAY_S="0.1",
        VA_DB_RETRY_MAX_DELAY_S="0.3",
    )
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    elapsed, stderr = time.monotonic() - started, err.decode(errors="replace")
    assert proc.returncode == JobExit.INTERRUPTED, stderr
    reruns = [(int(n), float(s)) for n, s in RERUN.findall(stderr)]
    assert reruns == [(1, 0.1), (2, 0.2), (3, 0.3), (4, 0.3)], stderr  # doubling, then the cap
    assert "Connect call failed" in stderr and "the next run resumes" in stderr
    assert "Traceback" not in stderr
    assert elapsed >= 0.9  # the waits were slept, not only logged


async def test_sigterm_during_the_back_off_exits_interrupted_at_once(harness: JobHarness, dead_db_url: str) -> None:
    proc = await start_job(harness, VA_DATABASE_URL=dead_db_url, VA_DB_RETRIES="3", VA_DB_RETRY_DELAY_S="30")
    assert proc.stderr is not None
    seen = ""
    while not RERUN.search(seen):  # then the job sleeps 30 s before its first rerun
        line = await asyncio.wait_for(proc.stderr.readline(), 30)
        assert line, seen
        seen += line.decode(errors="replace")
    stopped = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), 10)
    rest = err.decode(errors="replace")
    assert proc.returncode == JobExit.INTERRUPTED, seen + rest
    assert time.monotonic() - stopped < 5  # the 30 s wait was cut short
    assert "stopped by a signal" in rest and "Traceback" not in rest and "rerun 2" not in rest, seen + rest
