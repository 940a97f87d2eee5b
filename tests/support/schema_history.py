"""Databases at an earlier schema: migrated with only the older checked-in migrations, and
rows written with the columns those schemas had, for the upgrade and readiness tests."""

from __future__ import annotations

import uuid

import asyncpg

from videoanalysis.migrate import MIGRATIONS_DIR, migrate
from videoanalysis.schema_version import migration_number

COLUMNS = "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'"


async def columns(url: str) -> set[tuple[str, str, str]]:
    """Every (table, column, type) of the database at `url`."""
    conn = await asyncpg.connect(url)
    try:
        return {tuple(r) for r in await conn.fetch(COLUMNS)}
    finally:
        await conn.close()


async def at_schema_before(url: str, number: int, tmp_path) -> list[str]:
    """Migrate `url` with the checked-in migrations numbered below `number` only (the schema an
    earlier version left); returns every checked-in migration file, in order."""
    previous = tmp_path / "previous"
    (previous / "models").mkdir(parents=True)
    files = sorted((p.name for p in (MIGRATIONS_DIR / "models").glob("[0-9]*_*.py")), key=migration_number)
    older = [f for f in files if int(f.split("_")[0]) < number]
    for name in older:
        (previous / "models" / name).write_text((MIGRATIONS_DIR / "models" / name).read_text())
    assert await migrate(url, previous) == older
    return files


OLD_USER = (
    "INSERT INTO users (email, first_name, last_name, password_hash, token_version, created_at) "
    "VALUES ('old@example.com', '', '', 'x', 0, now())"
)


async def insert_old_task(conn: asyncpg.Connection, owner: int, status: str = "SUCCEEDED", **more: str) -> uuid.UUID:
    """A task row with the columns every earlier schema had, plus `more` (those of later ones)."""
    columns = {"id": uuid.uuid4(), "owner_id": owner, "status": status, "model": "opencv-face", "params": "{}"}
    columns |= {"video_uri": "videos://a.mp4", "video_name": "", "frames_done": 0, **more}
    marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    await conn.execute(
        f"INSERT INTO tasks ({', '.join(columns)}, created_at) VALUES ({marks}, now())", *columns.values()
    )
    return columns["id"]
