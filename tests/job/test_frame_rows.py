"""Per-frame row writing: COPY on the real PostgreSQL (upsert, rollback with its transaction,
refusals) and the multi-row upsert on the embedded SQLite (in a process of its own)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from inference_job.frame_rows import copy_frame_rows, supports_copy, upsert_frame_rows
from inference_job.pipeline import FrameResult
from tests.support.job_harness import JobHarness, frames_of
from tests.support.paths import ROOT
from videoanalysis.tables import Task


def results(frames: range, label: str = "face") -> list[FrameResult]:
    return [FrameResult(i, i / 25, [{"label": label, "score": 0.5, "box": [1.5, 2, 3, 4.25]}]) for i in frames]


async def test_rows_are_copied_then_upserted_on_task_and_frame(harness: JobHarness) -> None:
    task = await harness.task("none.mp4")
    other = await harness.task("none.mp4")
    async with in_transaction() as conn:
        assert supports_copy(conn)
        assert await copy_frame_rows(conn, task.id, results(range(5))) == 5
        # a second call in the same transaction (the stage table is emptied first)
        assert await upsert_frame_rows(conn, other.id, results(range(2))) == 2
    async with in_transaction() as conn:  # a rerun overwrites frames 3..4 and adds 5..6
        assert await copy_frame_rows(conn, task.id, results(range(3, 7), label="cat")) == 4
    rows = await frames_of(task)
    assert [r.frame_index for r in rows] == list(range(7))
    assert [r.objects[0]["label"] for r in rows] == ["face"] * 3 + ["cat"] * 4
    assert rows[4].timestamp == pytest.approx(4 / 25)
    assert rows[0].objects == [{"label": "face", "score": 0.5, "box": [1.5, 2, 3, 4.25]}]
    assert len(await frames_of(other)) == 2


async def test_rows_roll_back_with_the_callers_transaction(harness: JobHarness) -> None:
    task = await harness.task("none.mp4")
    with pytest.raises(RuntimeError, match="lease lost"):
        async with in_transaction() as conn:
            await copy_frame_rows(conn, task.id, results(range(3)))
            raise RuntimeError("lease lost")
    assert await frames_of(task) == []


async def test_nothing_to_write_and_no_transaction(harness: JobHarness) -> None:
    task = await harness.task("none.mp4")
    async with in_transaction() as conn:
        assert await copy_frame_rows(conn, task.id, []) == 0
    with pytest.raises(ValueError, match="inside the caller's transaction"):
        await copy_frame_rows(connections.get("default"), task.id, results(range(1)))
    assert await Task.exists(id=task.id)


async def test_copy_refuses_sqlite(tmp_path) -> None:
    from tortoise.backends.sqlite.client import SqliteClient

    client = SqliteClient(file_path=str(tmp_path / "x.sqlite3"), connection_name="x")
    assert not supports_copy(client)
    with pytest.raises(ValueError, match="COPY needs PostgreSQL"):
        await copy_frame_rows(client, "00000000-0000-0000-0000-000000000000", results(range(1)))


# Tortoise binds the models' SQL dialect globally at init: SQLite runs in a process of its own.
SQLITE_UPSERT = """
import asyncio, json, sys
from tortoise.transactions import in_transaction
from inference_job.frame_rows import SQLITE_ROWS_PER_STATEMENT, upsert_frame_rows
from inference_job.pipeline import FrameResult
from videoanalysis.db import close_db, init_db
from videoanalysis.tables import FrameDetections, Task, User
from videoanalysis.settings import CoreSettings

def results(frames, label):
    return [FrameResult(i, i / 25, [{"label": label, "score": 0.5, "box": [1.5, 2, 3, 4.25]}]) for i in frames]

async def main():
    await init_db(CoreSettings(data_dir=sys.argv[1]))
    user = await User.create(email="rows@example.com", password_hash="-")
    task = await Task.create(owner=user, model="opencv-face", video_uri="file:///v.mp4")
    many = SQLITE_ROWS_PER_STATEMENT + 10  # more rows than one statement takes
    async with in_transaction() as conn:
        written = [await upsert_frame_rows(conn, task.id, results(range(many), "face"))]
    async with in_transaction() as conn:  # a rerun overwrites frames 3..4 and adds more
        written.append(await upsert_frame_rows(conn, task.id, results(range(3, many + 2), "cat")))
    try:
        async with in_transaction() as conn:
            await upsert_frame_rows(conn, task.id, results(range(many + 2, many + 5), "dog"))
            raise RuntimeError("lease lost")
    except RuntimeError:
        pass
    rows = await FrameDetections.filter(task_id=task.id).order_by("frame_index")
    print(json.dumps({"written": written, "frames": [r.frame_index for r in rows],
                      "labels": [r.objects[0]["label"] for r in rows], "first": rows[0].objects,
                      "timestamp": rows[4].timestamp, "many": many}))
    await close_db()

asyncio.run(main())
"""


def test_sqlite_rows_are_upserted_in_statements_of_bounded_size(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SQLITE_UPSERT, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    many = got["many"]
    assert got["written"] == [many, many - 1]
    assert got["frames"] == list(range(many + 2))  # the rolled-back rows are not there
    assert got["labels"] == ["face"] * 3 + ["cat"] * (many - 1)
    assert got["first"] == [{"label": "face", "score": 0.5, "box": [1.5, 2, 3, 4.25]}]
    assert got["timestamp"] == pytest.approx(4 / 25)
