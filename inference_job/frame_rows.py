"""Per-frame rows upserted inside the writer's transaction, without building ORM objects.

A batch is a few dozen to a few hundred rows written many times a second by a fast model;
building a Tortoise model per row and a query per batch cost most of the write (about 6 ms a
64-row batch on SQLite). So the rows go as plain tuples:

- PostgreSQL (asyncpg): `COPY` streams them in asyncpg's binary format (no per-row statement,
  no parameter limit) into a temporary stage table; one `INSERT ... ON CONFLICT` moves them
  into `frame_detections`. The stage table is made once per connection and emptied at each
  commit (`ON COMMIT DELETE ROWS`), so a batch adds no catalog writes.
- SQLite: multi-row `INSERT ... ON CONFLICT DO UPDATE`, a bounded number of rows a statement.

Either way the rows commit (or vanish) with whatever else the caller's transaction fences, such
as the lease check and the progress update, and a rerun overwrites its own rows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient

from inference_job.pipeline import FrameResult
from videoanalysis.tables import FrameDetections

_STAGE = "va_frame_rows_stage"
_TABLE = FrameDetections._meta.db_table
_COLUMNS = '(task_id, frame_index, "timestamp", objects)'
_ON_CONFLICT = (
    'ON CONFLICT (task_id, frame_index) DO UPDATE SET "timestamp" = excluded."timestamp", objects = excluded.objects'
)
SQLITE_ROWS_PER_STATEMENT = 250  # 4 parameters a row: far below SQLite's limit on bound parameters


def _objects_json(objects: list[dict]) -> str:
    return json.dumps(objects, separators=(",", ":")) if objects else "[]"  # most frames: nothing found


def supports_copy(conn: BaseDBAsyncClient) -> bool:
    """True for a Tortoise client backed by asyncpg (PostgreSQL)."""
    return conn.capabilities.dialect == "postgres" and isinstance(conn, AsyncpgDBClient)


def _in_transaction(conn: BaseDBAsyncClient) -> None:
    if not isinstance(conn, TransactionalDBClient):
        raise ValueError("frame rows are written inside the caller's transaction (in_transaction())")


async def upsert_frame_rows(conn: BaseDBAsyncClient, task_id: uuid.UUID | str, rows: Sequence[FrameResult]) -> int:
    """Upsert `rows` of task `task_id` on (task, frame_index) through `conn`, a transaction.
    Frame indexes must be unique within one call. Returns the rows written."""
    if supports_copy(conn):
        return await copy_frame_rows(conn, task_id, rows)
    if conn.capabilities.dialect == "sqlite":
        return await insert_frame_rows(conn, task_id, rows)
    raise ValueError(f"no row writer for the {conn.capabilities.dialect!r} dialect (PostgreSQL or SQLite)")


async def insert_frame_rows(conn: BaseDBAsyncClient, task_id: uuid.UUID | str, rows: Sequence[FrameResult]) -> int:
    """SQLite: multi-row `INSERT ... ON CONFLICT DO UPDATE`."""
    _in_transaction(conn)
    task = str(task_id)
    for start in range(0, len(rows), SQLITE_ROWS_PER_STATEMENT):
        chunk = rows[start : start + SQLITE_ROWS_PER_STATEMENT]
        values: list[object] = []
        for r in chunk:
            values += (task, r.frame_index, r.timestamp_s, _objects_json(r.objects))
        placeholders = ",".join(["(?,?,?,?)"] * len(chunk))
        await conn.execute_query(f'INSERT INTO "{_TABLE}" {_COLUMNS} VALUES {placeholders} {_ON_CONFLICT}', values)
    return len(rows)


async def copy_frame_rows(conn: BaseDBAsyncClient, task_id: uuid.UUID | str, rows: Sequence[FrameResult]) -> int:
    """PostgreSQL: `COPY` into the stage table, then one `INSERT ... SELECT ... ON CONFLICT`."""
    if not rows:
        return 0
    if not supports_copy(conn):
        raise ValueError(
            f"COPY needs PostgreSQL through asyncpg, not {conn.capabilities.dialect or type(conn).__name__}"
        )
    _in_transaction(conn)
    records = [(r.frame_index, r.timestamp_s, _objects_json(r.objects)) for r in rows]
    async with conn.acquire_connection() as pg:
        # one round trip; the DELETE empties it for a second call in the same transaction
        await pg.execute(
            f'CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} (frame_index INT NOT NULL, "timestamp" DOUBLE PRECISION '
            f"NOT NULL, objects JSONB NOT NULL) ON COMMIT DELETE ROWS; DELETE FROM {_STAGE}"
        )
        await pg.copy_records_to_table(_STAGE, records=records, columns=["frame_index", "timestamp", "objects"])
        status = await pg.execute(
            f'INSERT INTO "{_TABLE}" {_COLUMNS} SELECT $1::uuid, frame_index, "timestamp", objects FROM {_STAGE} '
            + _ON_CONFLICT,
            str(task_id),
        )
    return int(status.rsplit(" ", 1)[-1])
