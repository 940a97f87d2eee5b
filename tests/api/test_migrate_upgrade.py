"""Upgrades from the previous schema: PostgreSQL through migration 2, and the embedded SQLite
file of an earlier version at start-up."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from pathlib import Path

import asyncpg
from tortoise import Tortoise
from tortoise.context import TortoiseContext

from tests.api.test_migrate import columns
from videoanalysis.db import close_db, init_db, tortoise_config
from videoanalysis.migrate import MIGRATIONS_DIR, migrate
from videoanalysis.models import Task
from videoanalysis.settings import CoreSettings
from videoanalysis.sqlite_upgrade import COLUMNS

NEW_COLUMNS = [c for _, c, _ in COLUMNS[2:]]


from tests.api.test_migrate import empty_databases  # noqa: E402,F401  (fixture)


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
    assert len(applied) == 1 and applied[0].startswith("2_")
    with TortoiseContext():
        await Tortoise.init(config=tortoise_config(generated))
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


async def test_an_earlier_embedded_sqlite_file_is_upgraded_at_start_up(tmp_path: Path):
    with TortoiseContext():
        await init_db(CoreSettings(data_dir=tmp_path / "fresh"))
        await close_db()
    fresh_file = tmp_path / "fresh" / "videoanalysis.sqlite3"
    fresh = _sqlite_columns(fresh_file)
    settings = CoreSettings(data_dir=tmp_path)
    path = tmp_path / "videoanalysis.sqlite3"
    _previous_sqlite_file(fresh_file, path)
    assert set(NEW_COLUMNS) <= fresh and not set(NEW_COLUMNS) & _sqlite_columns(path)
    with TortoiseContext():
        await init_db(settings)
        try:
            assert _sqlite_columns(path) == fresh
            task = await Task.get(status="RUNNING")
            assert (task.queue, task.next_frame, task.frames_done, task.lease_holder) == ("local", 0, 3, None)
            mode = await Tortoise.get_connection("default").execute_query_dict("PRAGMA journal_mode")
            assert mode[0]["journal_mode"] == "wal"
        finally:
            await close_db()
