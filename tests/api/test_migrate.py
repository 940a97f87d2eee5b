"""The checked-in Aerich migrations build the schema the models expect on an empty PostgreSQL."""

from __future__ import annotations

import asyncpg
from tortoise import Tortoise
from tortoise.context import TortoiseContext

from videoanalysis.db import tortoise_config
from videoanalysis.migrate import MIGRATIONS_DIR, main, migrate
from videoanalysis.models import FrameDetections, Task, User

COLUMNS = "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'"


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
