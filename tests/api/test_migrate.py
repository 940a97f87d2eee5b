"""The checked-in Aerich migrations build the schema the models expect on an empty PostgreSQL."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from tortoise import Tortoise
from tortoise.context import TortoiseContext

from tests.conftest import PG_SERVER
from videoanalysis.db import tortoise_config
from videoanalysis.migrate import MIGRATIONS_DIR, main, migrate
from videoanalysis.models import FrameDetections, Task, User

COLUMNS = "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'"


@pytest.fixture
async def empty_databases():
    """Two empty databases: one to migrate, one to get Tortoise's own schema for comparison."""
    names = [f"va_mig_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    admin = await asyncpg.connect(f"{PG_SERVER}/test")
    for name in names:
        await admin.execute(f'CREATE DATABASE "{name}"')
    yield [f"{PG_SERVER}/{n}" for n in names]
    for name in names:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def columns(url: str) -> set[tuple[str, str, str]]:
    conn = await asyncpg.connect(url)
    try:
        return {tuple(r) for r in await conn.fetch(COLUMNS)}
    finally:
        await conn.close()


async def test_migrations_match_the_models(db, empty_databases):
    migrated, generated = empty_databases
    files = sorted(p.name for p in (MIGRATIONS_DIR / "models").glob("[0-9]*_*.py"))
    assert files[0] == "0_20261126004748_init.py"
    assert await migrate(migrated) == files  # every checked-in migration, in order
    assert await migrate(migrated) == []  # applied once only
    assert await User.all().count() >= 0  # the session database is still the current one
    with TortoiseContext():
        await Tortoise.init(config=tortoise_config(generated))
        await Tortoise.generate_schemas()
        await Tortoise.close_connections()
    assert await columns(migrated) == await columns(generated)
    with TortoiseContext():  # the models work on the migrated schema
        await Tortoise.init(config=tortoise_config(migrated))
        user = await User.create(email="m@example.com", password_hash="x")
        task = await Task.create(
            owner=user, model="opencv-face", video_uri="videos://a.mp4", params={"frame_stride": 2}
        )
        await FrameDetections.create(task=task, frame_index=0, timestamp=0.0, objects=[{"label": "face"}])
        again = await Task.get(id=task.id).prefetch_related("frames")
        assert again.params == {"frame_stride": 2} and again.frames[0].objects == [{"label": "face"}]
        await Tortoise.close_connections()


def test_cli_applies_migrations(empty_databases, monkeypatch):
    monkeypatch.setenv("VA_DATABASE_URL", empty_databases[0])
    assert main([]) == 0


INDEXES = "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'"


async def test_index_migration_upgrades_a_database_at_the_previous_schema(db, empty_databases, tmp_path):
    """A database at the schema before the read indexes, with tasks in it, gains them: a user's
    newest tasks come from one index in order (no sort), tasks by status and given-up webhooks
    have theirs."""
    url = empty_databases[0]
    previous = tmp_path / "previous"
    (previous / "models").mkdir(parents=True)
    files = sorted(p.name for p in (MIGRATIONS_DIR / "models").glob("[0-9]*_*.py"))
    older = [f for f in files if int(f.split("_")[0]) < 4]
    for name in older:
        (previous / "models" / name).write_text((MIGRATIONS_DIR / "models" / name).read_text())
    assert await migrate(url, previous) == older
    conn = await asyncpg.connect(url)
    try:
        owner = await conn.fetchval(
            "INSERT INTO users (email, first_name, last_name, password_hash, token_version, created_at) "
            "VALUES ('old@example.com', '', '', 'x', 0, now()) RETURNING id"
        )
        await conn.execute(
            "INSERT INTO tasks (id, owner_id, status, model, params, video_uri, video_name, frames_done, created_at) "
            "VALUES ($1, $2, 'SUCCEEDED', 'opencv-face', '{}', 'videos://a.mp4', 'a.mp4', 0, now())",
            uuid.uuid4(),
            owner,
        )
        before = {tuple(r) for r in await conn.fetch(INDEXES)}
        assert not any("(status)" in d for _, d in before)
        assert [f for f in await migrate(url) if f.startswith("4_")] == [f for f in files if f.startswith("4_")]
        after = {tuple(r) for r in await conn.fetch(INDEXES)}
        defs = {d.split(" USING btree ")[1] for t, d in after if t in ("tasks", "webhook_deliveries")}
        assert {"(owner_id, created_at, id)", "(status)", "(gave_up)"} <= defs
        assert "(owner_id, created_at)" not in defs  # replaced by the longer one
        await conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in await conn.fetch(
                "EXPLAIN SELECT * FROM tasks WHERE owner_id = $1 ORDER BY created_at DESC, id DESC LIMIT 21", owner
            )
        )
        assert "Index Scan Backward" in plan and "Sort" not in plan, plan
        assert await conn.fetchval("SELECT count(*) FROM tasks WHERE owner_id = $1", owner) == 1
    finally:
        await conn.close()
