"""Crash injection: real job processes, a real server, real PostgreSQL and SQLite, real kills.

Each case runs an analysis, injects one crash once the committed position reaches a given
frame, lets the system recover the way it would in production (the dispatcher's retry, a
restarted server, a retried Pod) and reports what came of it: the final state, rows lost and
duplicated, whether the task was left open, where the next run resumed compared with the
position committed when the crash hit (a crash redoes only frames not yet committed), and
whether the task's whole aggregate (counters, tracks, frame rows: `aggregate.py`) equals that
of an uninterrupted run of the same video. An outcome never compared is not `ok`.
Used by tests/chaos (fixed cases) and `make chaos` (random frames, many crashes); the faults
that are not crashes (lost acknowledgements, skewed clocks, slow URLs, hung models) are in
`faults.py`.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sqlite3
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from inference_job.writer import BUFFERED_BATCHES
from tests.chaos.aggregate import Aggregate, differences, read_pg
from tests.support.paths import ROOT
from tests.support.videos import PanVideo
from videoanalysis.exitcodes import JobExit
from videoanalysis.storage import video_uri
from videoanalysis.tables import Task, User

BATCH = 8  # VA_WRITE_BATCH_FRAMES of every run here
#: Frames of the chaos video of the fixed cases (tests/chaos).
FRAMES = 96
# What a crash can cost: the write in flight and the batches buffered behind it (inference
# goes on during the write), never committed work. A bound, not a measure: the frames a
# killed run analysed past its last commit leave no trace.
REDO_BOUND = f"<= {1 + BUFFERED_BATCHES}×{BATCH}"


@dataclass
class Outcome:
    case: str
    status: str
    expected_rows: int
    rows: int
    distinct_rows: int
    crashed_at: int  # committed position (next frame) when the crash was injected
    aggregate: Aggregate | None = None  # what the task holds at the end
    resumed_at: list[int] = field(default_factory=list)  # where each later run started
    exits: list[int | None] = field(default_factory=list)
    expected_status: str = "SUCCEEDED"
    differences: list[str] | None = None  # from the expected aggregate; None: not compared
    problems: list[str] = field(default_factory=list)  # what a case checks besides (a reason, a lease)

    def compare(self, expected: Aggregate) -> Outcome:
        """Compare the task's aggregate with `expected` (an uninterrupted run's)."""
        if self.aggregate is None:
            raise ValueError(f"{self.case}: no aggregate was read")
        self.differences = differences(expected, self.aggregate)
        return self

    @property
    def lost(self) -> int:
        return max(0, self.expected_rows - self.distinct_rows)  # rows beyond: the aggregate's differences

    @property
    def duplicated(self) -> int:
        return self.rows - self.distinct_rows

    @property
    def stuck(self) -> bool:
        return self.status in ("PENDING", "RUNNING")

    @property
    def went_back(self) -> bool:
        """A later run started before the committed position: committed work redone."""
        return any(r < self.crashed_at for r in self.resumed_at)

    @property
    def equal(self) -> bool:
        """Compared, and the aggregate is the expected one field by field."""
        return self.differences == []

    @property
    def ok(self) -> bool:
        return (
            self.status == self.expected_status
            and not self.lost
            and not self.duplicated
            and not self.went_back
            and self.equal
            and not self.problems
        )

    def row(self) -> str:
        resumed = ",".join(map(str, self.resumed_at)) or "-"
        same = (
            "not compared"
            if self.differences is None
            else f"{len(self.differences)} differ"
            if self.differences
            else "yes"
        )
        return (
            f"| {self.case} | {self.status} | {self.lost} | {self.duplicated} | {int(self.stuck)} "
            f"| {self.crashed_at} | {resumed} | {REDO_BOUND} | {same} |"
        )

    def report(self) -> str:
        """Why the outcome is not `ok`, line by line."""
        lines = [f"{self.case}: {self.status} (expected {self.expected_status}), exits {self.exits}"]
        lines += [f"  {p}" for p in self.problems]
        if self.differences is None:
            lines.append("  the aggregate was not compared")
        lines += [f"  {d}" for d in self.differences or []]
        return "\n".join(lines)


TABLE_HEAD = (
    "| case | final state | rows lost | rows duplicated | tasks stuck | committed at crash | resumed at "
    "| frames redone (bound) | aggregate = clean run |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)
RESUMED = re.compile(r"resumes at frame (\d+)")


def job_env(database_url: str, videos_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VA_")}
    env.update(
        VA_DATABASE_URL=database_url,
        VA_VIDEOS_DIR=str(videos_dir),
        VA_DATA_DIR=str(videos_dir.parent / "data"),
        VA_DEVICE="cpu",
        VA_WRITE_BATCH_FRAMES=str(BATCH),
        VA_PROGRESS_INTERVAL_S="60",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


async def start_job(task_id: str, env: dict[str, str], module: str = "inference_job") -> asyncio.subprocess.Process:
    """`python -m inference_job` (or `module`: the job with a test's changes, `faults.py`)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        "--task-id",
        task_id,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(proc: asyncio.subprocess.Process, timeout: float = 120) -> tuple[int, list[int]]:
    """Exit code and the resume positions the run logged."""
    code, resumed, _ = await finish_logged(proc, timeout)
    return code, resumed


async def finish_logged(proc: asyncio.subprocess.Process, timeout: float = 120) -> tuple[int, list[int], str]:
    """Exit code, the resume positions the run logged, and its whole log (stderr)."""
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"the job did not exit within {timeout:g} s") from None
    assert proc.returncode is not None
    log = err.decode(errors="replace")
    return proc.returncode, [int(m) for m in RESUMED.findall(log)], log


class PgTasks:
    """The task rows of a PostgreSQL database, read and written with plain SQL."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def one(self, sql: str, *args: object) -> object:
        conn = await asyncpg.connect(self.url)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    async def row(self, sql: str, *args: object) -> tuple:
        conn = await asyncpg.connect(self.url)
        try:
            return tuple(await conn.fetchrow(sql, *args) or ())
        finally:
            await conn.close()

    async def position(self, task_id: str) -> int:
        return int(await self.one("SELECT next_frame FROM tasks WHERE id = $1", task_id))  # type: ignore[arg-type]

    async def wait_position(self, task_id: str, frame: int, proc: asyncio.subprocess.Process) -> int:
        while (pos := await self.position(task_id)) < frame:
            if proc.returncode is not None:
                raise AssertionError(f"the run ended before frame {frame} (at {pos})")
            await asyncio.sleep(0.02)
        return pos

    async def outcome(self, case: str, task_id: str, expected: int, crashed_at: int) -> Outcome:
        status = await self.one("SELECT status FROM tasks WHERE id = $1", task_id)
        rows = await self.one("SELECT count(*) FROM frame_detections WHERE task_id = $1", task_id)
        distinct = await self.one(
            "SELECT count(DISTINCT frame_index) FROM frame_detections WHERE task_id = $1", task_id
        )
        aggregate = await read_pg(self.url, task_id)
        return Outcome(case, str(status), expected, int(rows), int(distinct), crashed_at, aggregate)  # type: ignore[call-overload]

    async def allow_connections(self, allowed: bool) -> None:
        """ALLOW_CONNECTIONS of this database only (the server itself is shared)."""
        name = self.url.rsplit("/", 1)[1]
        conn = await asyncpg.connect(self.url.rsplit("/", 1)[0] + "/test")
        try:
            await conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        finally:
            await conn.close()

    async def terminate_backends(self) -> int:
        name = self.url.rsplit("/", 1)[1]
        conn = await asyncpg.connect(self.url.rsplit("/", 1)[0] + "/test")
        try:
            return int(
                await conn.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = $1 AND pid <> pg_backend_pid()",
                    name,
                )
            )
        finally:
            await conn.close()


async def rerun_until_final(db: PgTasks, task_id: str, env: dict[str, str], out: Outcome, tries: int = 4) -> None:
    """What a dispatcher or a Job does: run again until the task ends."""
    for _ in range(tries):
        if await db.one("SELECT status FROM tasks WHERE id = $1", task_id) not in ("PENDING", "RUNNING"):
            return
        code, resumed = await finish(await start_job(task_id, env))
        out.exits.append(code)
        out.resumed_at += resumed


async def kill_job(db: PgTasks, task_id: str, env: dict[str, str], frames: int, at: int) -> Outcome:
    """SIGKILL the analysis (the OOM killer) once `at` frames are committed; a retry resumes."""
    proc = await start_job(task_id, env)
    await db.wait_position(task_id, at, proc)
    proc.kill()
    await proc.wait()
    crashed = await db.position(task_id)
    await db.one("UPDATE tasks SET lease_expires_at = now() WHERE id = $1", task_id)  # its TTL passed
    out = await db.outcome("kill -9 the job", task_id, frames, crashed)
    await rerun_until_final(db, task_id, env, out)
    return _refresh(out, await db.outcome(out.case, task_id, frames, crashed))


async def two_at_once(db: PgTasks, task_id: str, env: dict[str, str], frames: int) -> Outcome:
    """Two analyses of one task started together: one writes, the other is superseded."""
    procs = [await start_job(task_id, env) for _ in range(2)]
    results = await asyncio.gather(*(finish(p) for p in procs))
    out = await db.outcome("two runs of one task at once", task_id, frames, 0)
    out.exits = sorted(code for code, _ in results)
    return out


async def takeover(db: PgTasks, task_id: str, env: dict[str, str], frames: int, at: int) -> Outcome:
    """A run frozen past its lease (a GC pause, a partitioned node) is taken over; when it wakes
    it cannot write and exits superseded."""
    short = {**env, "VA_LEASE_TTL_S": "1.5", "VA_LEASE_WAIT_S": "5"}
    first = await start_job(task_id, short)
    await db.wait_position(task_id, at, first)
    first.send_signal(signal.SIGSTOP)
    crashed = await db.position(task_id)
    second = await start_job(task_id, short)
    await db.wait_position(task_id, min(frames, crashed + 2 * BATCH), second)
    first.send_signal(signal.SIGCONT)
    (code1, _), (code2, resumed) = await asyncio.gather(finish(first), finish(second))
    out = await db.outcome("run frozen past its lease, taken over", task_id, frames, crashed)
    out.exits, out.resumed_at = [code1, code2], resumed
    return out


async def terminate_connections(db: PgTasks, task_id: str, env: dict[str, str], frames: int, at: int) -> Outcome:
    """pg_terminate_backend on every connection of the job mid-run, twice."""
    proc = await start_job(task_id, env)
    crashed = await db.wait_position(task_id, at, proc)
    for _ in range(2):
        await db.terminate_backends()
        await asyncio.sleep(0.3)
    code, _ = await finish(proc)  # the same run goes on: no resume
    out = await db.outcome("pg_terminate_backend mid-write", task_id, frames, crashed)
    out.exits = [code]
    await rerun_until_final(db, task_id, env, out)
    return _refresh(out, await db.outcome(out.case, task_id, frames, crashed))


async def database_outage(
    db: PgTasks, task_id: str, env: dict[str, str], frames: int, at: int, seconds: float = 7.0
) -> Outcome:
    """The database refuses every connection for a few seconds mid-run (its connections cut,
    new ones refused), longer than the writer's own retries of a batch: the same process
    reruns the task from its last commit (VA_DB_RETRIES) and finishes it."""
    proc = await start_job(task_id, {**env, "VA_DB_RETRY_DELAY_S": "0.5", "VA_DB_RETRIES": "6"})
    crashed = await db.wait_position(task_id, at, proc)
    await db.allow_connections(False)
    try:
        await db.terminate_backends()
        await asyncio.sleep(seconds)
    finally:
        await db.allow_connections(True)
    code, resumed = await finish(proc)
    out = await db.outcome(f"database down {seconds:.0f} s under a running job", task_id, frames, crashed)
    out.exits, out.resumed_at = [code], resumed[1:]  # the first line is the run starting at 0
    return out


def _refresh(out: Outcome, final: Outcome) -> Outcome:
    final.exits, final.resumed_at = out.exits, out.resumed_at
    return final


def sqlite_row(path: Path, sql: str, *args: object) -> tuple:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return db.execute(sql, args).fetchone()
    finally:
        db.close()


def job_pids(task_id: str) -> list[int]:
    """The analysis processes of a task (they run in sessions of their own)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"inference_job" in cmd and task_id.encode() in cmd:
                pids.append(int(entry.name))
    return pids


async def uninterrupted(db: str, video: PanVideo, folder, model: str, module: str, **params: object) -> Aggregate:
    """One run of `video` with nothing injected, to its end; its aggregate."""
    videos = folder / "videos"
    videos.mkdir()
    shutil.copy(video.path, videos / "chaos.mp4")
    owner = await User.create(email=f"clean-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    task = await Task.create(owner=owner, model=model, video_uri=video_uri("chaos.mp4"), params=params)
    code, _ = await finish(await start_job(str(task.id), job_env(db, videos), module))
    assert code == JobExit.OK
    return await read_pg(db, str(task.id))
