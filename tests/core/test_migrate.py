"""The checked-in Aerich migrations build the schema the models expect on an empty PostgreSQL."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from tortoise import Tortoise
from tortoise.context import TortoiseContext

from tests.support.schema_history import OLD_USER, at_schema_before, columns, insert_old_task
from videoanalysis.db import tortoise_config
from videoanalysis.migrate import MIGRATIONS_DIR, main, migrate, models_state, newest_migration, recorded_state
from videoanalysis.schema_version import migration_number
from videoanalysis.tables import AuthSession, FrameDetections, Task, Track, User


async def test_migrations_match_the_models(db, empty_databases):
    migrated, generated = empty_databases
    marker = await User.create(email=f"marker-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    files = sorted((p.name for p in (MIGRATIONS_DIR / "models").glob("[0-9]*_*.py")), key=migration_number)
    assert files[0] == "0_20261126004748_init.py"
    assert await migrate(migrated) == files  # every checked-in migration, in order
    assert await migrate(migrated) == []  # applied once only
    assert await User.filter(id=marker.id).exists()  # the session database is still the current one
    with TortoiseContext():
        await Tortoise.init(config=tortoise_config(generated, migrations=True))
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


async def test_sessions_migration_upgrades_a_database_at_the_previous_schema(db, empty_databases, tmp_path):
    """A database at the webhooks schema, with an account in it, gains the sessions table."""
    url = empty_databases[0]
    files = await at_schema_before(url, 3, tmp_path)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(OLD_USER)
    finally:
        await conn.close()
    assert [f for f in await migrate(url) if f.startswith("3_")] == [f for f in files if f.startswith("3_")]
    with TortoiseContext():
        await Tortoise.init(config=tortoise_config(url))
        user = await User.get(email="old@example.com")
        session = await AuthSession.create(id="f" * 32, user=user, current_jti="a" * 32)
        assert (await AuthSession.get(id=session.id).prefetch_related("user")).user.email == "old@example.com"
        await Tortoise.close_connections()


async def test_resources_migration_upgrades_a_database_with_tasks(db, empty_databases, tmp_path):
    """A database at the sessions schema, with a task in it, gains the label counts (empty for
    the old task) and the columns naming a resource applied by hand."""
    url = empty_databases[0]
    files = await at_schema_before(url, 5, tmp_path)
    conn = await asyncpg.connect(url)
    try:
        old_id = await insert_old_task(conn, await conn.fetchval(OLD_USER + " RETURNING id"))
    finally:
        await conn.close()
    assert [f for f in await migrate(url) if f.startswith("5_")] == [f for f in files if f.startswith("5_")]
    with TortoiseContext():
        await Tortoise.init(config=tortoise_config(url))
        old = await Task.get(id=old_id)
        assert old.detections == {} and old.resource_name is None
        user = await User.get(email="old@example.com")
        new = await Task.create(
            owner=user,
            model="opencv-face",
            video_uri="videos://b.mp4",
            resource_namespace="team-a",
            resource_name="by-hand",
            detections={"face": 2},
        )
        assert (await Task.get(id=new.id)).detections == {"face": 2}
        await Tortoise.close_connections()


INDEXES = "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'"


async def test_index_migration_upgrades_a_database_at_the_previous_schema(db, empty_databases, tmp_path):
    """A database at the schema before the read indexes, with tasks in it, gains them: a user's
    newest tasks come from one index in order (no sort), tasks by status and given-up webhooks
    have theirs."""
    url = empty_databases[0]
    files = await at_schema_before(url, 4, tmp_path)
    conn = await asyncpg.connect(url)
    try:
        owner = await conn.fetchval(OLD_USER + " RETURNING id")
        await insert_old_task(conn, owner, video_name="a.mp4")
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


async def test_newest_migration_records_the_models_as_they_are():
    """Aerich writes the next migration as the diff from the newest file's MODELS_STATE: a stale
    state (two migrations written side by side) would re-create what is already there.
    scripts/refresh-migration-state.py rewrites it."""
    assert recorded_state(newest_migration()) == await models_state()


async def test_dispatch_and_idempotency_migration_upgrades_a_database_with_tasks(db, empty_databases, tmp_path):
    """A database at the schema before it, with a task in it, gains the dispatch intent (none
    for the old task: it was dispatched the old way) and the idempotency keys, unique per owner."""
    url = empty_databases[0]
    files = await at_schema_before(url, 6, tmp_path)
    conn = await asyncpg.connect(url)
    try:
        owner = await conn.fetchval(OLD_USER + " RETURNING id")
        old_id = await insert_old_task(conn, owner, "PENDING", detections="{}")
        assert [f for f in await migrate(url) if f.startswith("6_")] == [f for f in files if f.startswith("6_")]
        assert await conn.fetchval("SELECT dispatch_due_at FROM tasks WHERE id = $1", old_id) is None
        insert = "INSERT INTO idempotency_keys (owner_id, key, claimed_at, created_at) VALUES ($1, 'k', now(), now())"
        await conn.execute(insert, owner)
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(insert, owner)
    finally:
        await conn.close()


async def test_tracks_migration_upgrades_a_database_with_tasks(db, empty_databases, tmp_path):
    """A database at the schema before tracks, with a finished task, gains the tracks table
    (cascading with its task) and `tasks.objects`, null for the old task (it had no tracker)."""
    url = empty_databases[0]
    files = await at_schema_before(url, 7, tmp_path)
    conn = await asyncpg.connect(url)
    try:
        old_id = await insert_old_task(conn, await conn.fetchval(OLD_USER + " RETURNING id"), detections="{}")
    finally:
        await conn.close()
    assert [f for f in await migrate(url) if f.startswith("7_")] == [f for f in files if f.startswith("7_")]
    with TortoiseContext():
        await Tortoise.init(config=tortoise_config(url))
        old = await Task.get(id=old_id)
        assert old.objects is None and await Track.filter(task_id=old_id).count() == 0
        track = {"label": "face", "labels": {"face": 3}, "first_frame": 0, "last_frame": 4}
        track |= {"first_timestamp": 0.0, "last_timestamp": 0.4, "frames_seen": 3, "best_score": 0.9}
        track |= {"best_frame": 2, "best_box": [1, 2, 3, 4], "mean_box_area": 4.0}
        await Track.create(task_id=old_id, track_id=1, thumbnail=b"\xff\xd8jpeg", **track)
        assert (await Track.get(task_id=old_id, track_id=1)).thumbnail == b"\xff\xd8jpeg"
        await old.delete()
        assert await Track.filter(task_id=old_id).count() == 0
        await Tortoise.close_connections()
