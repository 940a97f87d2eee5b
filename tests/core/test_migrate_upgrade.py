"""Upgrades from the previous schema: PostgreSQL through migrations 2, 8, 9 and 10, and the embedded
SQLite file of an earlier version at start-up."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.exceptions import IntegrityError

from api.schemas import TaskOut, TaskWaiting
from tests.support.paths import ROOT
from tests.support.schema_history import OLD_USER, at_schema_before, columns, insert_old_task
from videoanalysis.db import tortoise_config
from videoanalysis.migrate import MIGRATIONS_DIR, migrate
from videoanalysis.sqlite_upgrade import COLUMNS
from videoanalysis.tables import SeamFrame, Task, TaskOrigin, TaskShard, ZoneEvent

NEW_COLUMNS = [c for _, c, _ in COLUMNS[2:]]


async def test_migration_2_upgrades_a_database_with_open_tasks(empty_databases, tmp_path: Path):
    url, generated = empty_databases
    previous = tmp_path / "previous"
    (previous / "models").mkdir(parents=True)
    for f in sorted((MIGRATIONS_DIR / "models").glob("[01]_*.py")):
        shutil.copy(f, previous / "models")
    assert len(await migrate(url, previous)) == 2
    conn = await asyncpg.connect(url)
    try:
        user = await conn.fetchval(
            "INSERT INTO users (email, first_name, last_name, password_hash, token_version, created_at)"
            " VALUES ('u@example.com', '', '', 'x', 0, now()) RETURNING id"
        )
        ids = {s: uuid.uuid4() for s in ("PENDING", "RUNNING", "SUCCEEDED")}
        for status, task_id in ids.items():
            await conn.execute(
                "INSERT INTO tasks (id, owner_id, status, model, params, video_uri, video_name, frames_done, created_at)"
                " VALUES ($1, $2, $3, 'opencv-face', '{}', 'videos://a.mp4', 'a.mp4', 5, now())",
                task_id,
                user,
                status,
            )
    finally:
        await conn.close()
    applied = await migrate(url)
    assert applied[0].startswith("2_")  # then the later ones, up to the current schema
    with TortoiseContext():
        await Tortoise.init(config=tortoise_config(generated, migrations=True))
        await Tortoise.generate_schemas()
        await Tortoise.close_connections()
    assert await columns(url) == await columns(generated)
    with TortoiseContext():
        await Tortoise.init(config=tortoise_config(url))
        tasks = {t.status: t for t in await Task.all()}
        assert {s: t.queue for s, t in tasks.items()} == {"PENDING": "local", "RUNNING": "local", "SUCCEEDED": None}
        running = tasks["RUNNING"]
        assert (running.next_frame, running.lease_attempt, running.retries, running.frames_done) == (0, 0, 0, 5)
        await Tortoise.close_connections()


async def test_origin_migration_tells_manifest_tasks_from_api_tasks(db, empty_databases, tmp_path: Path):
    """A database at the schema before `origin`: the tasks naming a resource were made by the
    operator from a manifest (the API recorded none), the others by the API; new rows are the
    API's unless told otherwise."""
    url = empty_databases[0]
    files = await at_schema_before(url, 8, tmp_path)
    conn = await asyncpg.connect(url)
    try:
        owner = await conn.fetchval(OLD_USER + " RETURNING id")
        made = await insert_old_task(conn, owner, "PENDING", detections="{}")
        applied = await insert_old_task(
            conn, owner, "RUNNING", detections="{}", resource_namespace="team-a", resource_name="street"
        )
        assert [f for f in await migrate(url) if f.startswith("8_")] == [f for f in files if f.startswith("8_")]
        origins = dict(await conn.fetch("SELECT id, origin FROM tasks"))
        assert origins == {made: "api", applied: "manifest"}
        await insert_old_task(conn, owner, "PENDING", detections="{}")  # an API of the previous version
    finally:
        await conn.close()
    with TortoiseContext():
        await Tortoise.init(config=tortoise_config(url))
        assert (await Task.get(id=applied)).origin == TaskOrigin.MANIFEST
        assert await Task.filter(origin=TaskOrigin.API).count() == 2
        await Tortoise.close_connections()


async def test_waiting_migration_keeps_open_tasks_and_shows_no_wait(db, empty_databases, tmp_path: Path):
    """A database at the schema before the waiting columns: its open tasks stay as they were,
    wait nothing (the operator fills the columns when it reads the cluster), and the API
    answers them without a `waiting` part."""
    url = empty_databases[0]
    files = await at_schema_before(url, 9, tmp_path)
    conn = await asyncpg.connect(url)
    try:
        owner = await conn.fetchval(OLD_USER + " RETURNING id")
        pending = await insert_old_task(conn, owner, "PENDING", detections="{}", origin="api")
        assert [f for f in await migrate(url) if f.startswith("9_")] == [f for f in files if f.startswith("9_")]
        row = await conn.fetchrow("SELECT status, wait_reason, wait_message FROM tasks WHERE id = $1", pending)
        assert dict(row) == {"status": "PENDING", "wait_reason": None, "wait_message": None}
    finally:
        await conn.close()
    with TortoiseContext():
        await Tortoise.init(config=tortoise_config(url))
        task = await Task.get(id=pending)
        assert TaskOut.of(task).waiting is None
        await Task.filter(id=pending).update(wait_reason="Unschedulable", wait_message="0/3 nodes are available")
        assert TaskOut.of(await Task.get(id=pending)).waiting == TaskWaiting(
            reason="Unschedulable", message="0/3 nodes are available"
        )
        await Tortoise.close_connections()


async def test_shards_migration_keeps_tasks_whole_and_adds_the_shard_tables(db, empty_databases, tmp_path: Path):
    """A database at the schema before shards: its tasks read as one shard each with no plan,
    and a task's shard rows and seam frames go with it."""
    url = empty_databases[0]
    files = await at_schema_before(url, 10, tmp_path)
    conn = await asyncpg.connect(url)
    try:
        owner = await conn.fetchval(OLD_USER + " RETURNING id")
        running = await insert_old_task(conn, owner, "RUNNING", detections="{}", origin="api")
        assert [f for f in await migrate(url) if f.startswith("10_")] == [f for f in files if f.startswith("10_")]
        row = await conn.fetchrow("SELECT shards, shard_plan, merge_state FROM tasks WHERE id = $1", running)
        assert dict(row) == {"shards": 1, "shard_plan": None, "merge_state": None}
    finally:
        await conn.close()
    with TortoiseContext():
        await Tortoise.init(config=tortoise_config(url))
        await TaskShard.create(
            task_id=running, index=0, start_frame=0, end_frame=10, preroll_start=0, start_seconds=0.0
        )
        await SeamFrame.create(task_id=running, shard=1, frame_index=3, objects=[])
        await Task.filter(id=running).delete()
        assert not await TaskShard.exists() and not await SeamFrame.exists()
        await Tortoise.close_connections()


async def test_zone_events_migration_adds_the_table_and_its_rows_go_with_their_task(
    db, empty_databases, tmp_path: Path
):
    url = empty_databases[0]
    files = await at_schema_before(url, 11, tmp_path)
    conn = await asyncpg.connect(url)
    try:
        owner = await conn.fetchval(OLD_USER + " RETURNING id")
        task = await insert_old_task(conn, owner, "RUNNING", detections="{}", origin="api")
        assert [f for f in await migrate(url) if f.startswith("11_")] == [f for f in files if f.startswith("11_")]
    finally:
        await conn.close()
    with TortoiseContext():
        await Tortoise.init(config=tortoise_config(url))
        event = {"rule": "door", "kind": "entered", "track_id": 1, "label": "person", "frame_index": 4}
        await ZoneEvent.create(task_id=task, timestamp=0.4, **event)
        with pytest.raises(IntegrityError):  # the same event twice is refused
            await ZoneEvent.create(task_id=task, timestamp=0.4, **event)
        await Task.filter(id=task).delete()
        assert not await ZoneEvent.exists()
        await Tortoise.close_connections()


def _previous_sqlite_file(fresh: Path, path: Path) -> None:
    """An earlier embedded file: the current schema without this version's columns and index,
    with a task left RUNNING by that version."""
    src = sqlite3.connect(fresh)
    statements = [
        sql
        for (sql,) in src.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'")
    ]
    src.close()
    db = sqlite3.connect(path)
    try:
        for sql in statements:
            if "idx_tasks_queue" in sql:
                continue
            lines = [line for line in sql.splitlines() if not any(f'"{c}"' in line for c in NEW_COLUMNS)]
            db.execute("\n".join(lines))
        db.execute(
            "INSERT INTO users (email, first_name, last_name, password_hash, token_version, created_at)"
            " VALUES ('u@example.com', '', '', 'x', 0, '2026-01-01 00:00:00+00:00')"
        )
        db.execute(
            "INSERT INTO tasks (id, owner_id, status, model, params, video_uri, video_name, frames_done,"
            " created_at) VALUES (?, 1, 'RUNNING', 'opencv-face', '{}', 'videos://a.mp4', 'a.mp4', 3,"
            " '2026-01-01 00:00:00+00:00')",
            (str(uuid.uuid4()),),
        )
        db.commit()
    finally:
        db.close()


def _sqlite_columns(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {r[1] for r in db.execute('PRAGMA table_info("tasks")')}
    finally:
        db.close()


# Run in a process of its own: Tortoise binds the models' SQL dialect globally at init, and
# the session's models must keep PostgreSQL's.
START_UP = """
import asyncio, json, sys
from tortoise import Tortoise
from videoanalysis.db import close_db, init_db
from videoanalysis.tables import SeamFrame, Task, TaskOrigin, TaskShard
from videoanalysis.settings import CoreSettings

async def main():
    await init_db(CoreSettings(data_dir=sys.argv[1]))
    task = await Task.get(status="RUNNING")
    mode = await Tortoise.get_connection("default").execute_query_dict("PRAGMA journal_mode")
    print(json.dumps([task.queue, task.next_frame, task.frames_done, task.lease_holder, mode[0]["journal_mode"]]))
    await close_db()

asyncio.run(main())
"""


def start_up(data_dir: Path) -> list:
    done = subprocess.run(
        [sys.executable, "-c", START_UP, str(data_dir)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_an_earlier_embedded_sqlite_file_is_upgraded_at_start_up(tmp_path: Path):
    fresh_file = tmp_path / "fresh" / "videoanalysis.sqlite3"
    _previous_sqlite_file_from_models(tmp_path / "fresh")
    fresh = _sqlite_columns(fresh_file)
    path = tmp_path / "old" / "videoanalysis.sqlite3"
    path.parent.mkdir()
    _previous_sqlite_file(fresh_file, path)
    assert set(NEW_COLUMNS) <= fresh and not set(NEW_COLUMNS) & _sqlite_columns(path)
    assert start_up(path.parent) == ["local", 0, 3, None, "wal"]
    assert _sqlite_columns(path) == fresh


ORIGINS = """
import asyncio, json, sys
from videoanalysis.db import close_db, init_db
from videoanalysis.tables import Task
from videoanalysis.settings import CoreSettings

async def main():
    await init_db(CoreSettings(data_dir=sys.argv[1]))
    print(json.dumps(sorted([t.video_name, t.origin] for t in await Task.all())))
    await close_db()

asyncio.run(main())
"""


def test_an_embedded_file_before_origins_tells_manifest_tasks_from_api_tasks(tmp_path: Path):
    """A file of the version before `origin` (the tasks naming a resource were the operator's)."""
    fresh_file = tmp_path / "fresh" / "videoanalysis.sqlite3"
    _previous_sqlite_file_from_models(tmp_path / "fresh")
    path = tmp_path / "old" / "videoanalysis.sqlite3"
    path.parent.mkdir()
    shutil.copy(fresh_file, path)
    db = sqlite3.connect(path)
    try:
        db.execute('ALTER TABLE "tasks" DROP COLUMN "origin"')
        db.execute(
            "INSERT INTO users (email, first_name, last_name, password_hash, token_version, created_at)"
            " VALUES ('u@example.com', '', '', 'x', 0, '2026-01-01 00:00:00+00:00')"
        )
        for name, resource in (("a.mp4", None), ("b.mp4", "street")):
            db.execute(
                "INSERT INTO tasks (id, owner_id, status, model, params, video_uri, video_name, frames_done,"
                " detections, lease_attempt, next_frame, retries, shards, resource_namespace, resource_name,"
                " created_at) VALUES (?, 1, 'SUCCEEDED', 'opencv-face', '{}', ?, ?, 0, '{}', 0, 0, 0, 1, ?, ?,"
                " '2026-01-01 00:00:00+00:00')",
                (str(uuid.uuid4()), f"videos://{name}", name, resource and "team-a", resource),
            )
        db.commit()
    finally:
        db.close()
    assert "origin" not in _sqlite_columns(path)
    done = subprocess.run(
        [sys.executable, "-c", ORIGINS, str(path.parent)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [["a.mp4", "api"], ["b.mp4", "manifest"]]
    assert _sqlite_columns(path) == _sqlite_columns(fresh_file)


def _previous_sqlite_file_from_models(data_dir: Path) -> None:
    """A fresh embedded file of this version (its schema is the reference)."""
    code = "import asyncio, sys; from videoanalysis.db import init_db, close_db; from videoanalysis.settings import CoreSettings\n"
    code += "async def m():\n    await init_db(CoreSettings(data_dir=sys.argv[1])); await close_db()\nasyncio.run(m())"
    subprocess.run([sys.executable, "-c", code, str(data_dir)], cwd=ROOT, check=True)
