"""COPY-based row writing on the real PostgreSQL: upsert, rollback with its transaction, refusals."""

from __future__ import annotations

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from inference_job.pg_copy import copy_frame_rows, supports_copy
from inference_job.runner import FrameResult
from tests.job.conftest import JobHarness, frames_of
from videoanalysis.models import Task


def results(frames: range, label: str = "face") -> list[FrameResult]:
    return [FrameResult(i, i / 25, [{"label": label, "score": 0.5, "box": [1.5, 2, 3, 4.25]}]) for i in frames]


async def test_rows_are_copied_then_upserted_on_task_and_frame(harness: JobHarness) -> None:
    task = await harness.task("none.mp4")
    other = await harness.task("none.mp4")
    async with in_transaction() as conn:
        assert supports_copy(conn)
        assert await copy_frame_rows(conn, task.id, results(range(5))) == 5
        # a second call in the same transaction (its stage table was dropped and is made anew)
        assert await copy_frame_rows(conn, other.id, results(range(2))) == 2
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


async def test_sqlite_is_refused(tmp_path) -> None:
    from tortoise.backends.sqlite.client import SqliteClient

    client = SqliteClient(file_path=str(tmp_path / "x.sqlite3"), connection_name="x")
    assert not supports_copy(client)
    with pytest.raises(ValueError, match="COPY needs PostgreSQL"):
        await copy_frame_rows(client, "00000000-0000-0000-0000-000000000000", results(range(1)))
