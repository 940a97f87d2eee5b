"""Per-frame rows written to PostgreSQL with `COPY`, then upserted in one statement.

`COPY` streams the rows in asyncpg's binary format (no per-row statement, no parameter limit)
into a temporary table; one `INSERT ... ON CONFLICT` moves them into `frame_detections`, so a
rerun still overwrites its own rows. It runs on the connection of the caller's transaction:
the rows commit (or vanish) with whatever else that transaction fences, such as the lease
check and the progress update. SQLite has no `COPY`: `supports_copy` says when to use it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient

from inference_job.runner import FrameResult
from videoanalysis.models import FrameDetections

_STAGE = "va_frame_rows_stage"


def supports_copy(conn: BaseDBAsyncClient) -> bool:
    """True for a Tortoise client backed by asyncpg (PostgreSQL)."""
    return conn.capabilities.dialect == "postgres" and type(conn).__module__.startswith("tortoise.backends.asyncpg")


def _records(rows: Sequence[FrameResult]) -> list[tuple[int, float, str]]:
    # asyncpg's jsonb codec takes text; compact separators keep the stream small
    return [(r.frame_index, r.timestamp_s, json.dumps(r.objects, separators=(",", ":"))) for r in rows]


async def copy_frame_rows(conn: BaseDBAsyncClient, task_id: uuid.UUID | str, rows: Sequence[FrameResult]) -> int:
    """Upsert `rows` of task `task_id` on (task, frame_index) through `conn`, which must be
    inside a transaction (the stage table is dropped at commit). Frame indexes must be unique
    within one call. Returns the rows written."""
    if not rows:
        return 0
    if not supports_copy(conn):
        raise ValueError(
            f"COPY needs PostgreSQL through asyncpg, not {conn.capabilities.dialect or type(conn).__name__}"
        )
    if not isinstance(conn, TransactionalDBClient):
        raise ValueError("copy_frame_rows runs inside the caller's transaction (in_transaction())")
    table = FrameDetections._meta.db_table
    async with conn.acquire_connection() as pg:
        await pg.execute(
            f'CREATE TEMPORARY TABLE {_STAGE} (frame_index INT NOT NULL, "timestamp" DOUBLE PRECISION NOT NULL, '
            "objects JSONB NOT NULL) ON COMMIT DROP"
        )
        await pg.copy_records_to_table(_STAGE, records=_records(rows), columns=["frame_index", "timestamp", "objects"])
        status = await pg.execute(
            f'INSERT INTO "{table}" (task_id, frame_index, "timestamp", objects) '
            f'SELECT $1::uuid, frame_index, "timestamp", objects FROM {_STAGE} '
            'ON CONFLICT (task_id, frame_index) DO UPDATE SET "timestamp" = EXCLUDED."timestamp", '
            "objects = EXCLUDED.objects",
            str(task_id),
        )
        await pg.execute(f"DROP TABLE {_STAGE}")  # a second call in the same transaction starts clean
    return int(status.rsplit(" ", 1)[-1])
