"""Which migration the code ships, and which one a PostgreSQL database has had applied.

Aerich records every migration it applies as a row of its `aerich` table (`version` is the
file's name); the package ships the files in `migrations/models/`. Both are read here without
Aerich, so the API can tell whether its schema is current without loading the migration tool.
"""

from __future__ import annotations

from pathlib import Path

from tortoise.backends.base.client import BaseDBAsyncClient

#: Shipped inside the package, so an installed (non-editable) distribution can migrate.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Aerich's name for the models' app: its rows in the `aerich` table carry it.
APP = "models"

# Bounded: Aerich's table has a row per applied migration and its primary key orders them.
_AERICH_PRESENT = "SELECT to_regclass('aerich') IS NOT NULL AS present"
_NEWEST_APPLIED = 'SELECT "version" FROM "aerich" WHERE "app" = $1 ORDER BY "id" DESC LIMIT 1'


def migration_number(name: str) -> int:
    """The order of a migration file: `9_20261204170000_task_waiting.py` -> 9."""
    return int(name.split("_", 1)[0])


def newest_shipped_migration(location: Path = MIGRATIONS_DIR) -> str:
    """The file name of the newest migration in `location` (the package's by default)."""
    names = [p.name for p in (location / APP).glob("[0-9]*_*.py")]
    if not names:
        raise FileNotFoundError(f"no migrations at {location / APP}")
    return max(names, key=migration_number)


def schema_lag(applied: str | None, needed: str) -> str | None:
    """Why a schema whose newest migration is `applied` is behind the code needing `needed`, or
    None when it is not. A newer schema counts as current: an upgrade migrates before the new
    version's pods replace the old ones, which keep serving meanwhile."""
    if applied is None:
        return f"no migration applied yet, the code needs {display(needed)} (run python -m videoanalysis.migrate)"
    if migration_number(applied) < migration_number(needed):
        return f"schema at {display(applied)}, the code needs {display(needed)} (run python -m videoanalysis.migrate)"
    return None


def display(name: str) -> str:
    return name.removesuffix(".py")


async def newest_applied_migration(conn: BaseDBAsyncClient) -> str | None:
    """The newest migration Aerich recorded on this PostgreSQL connection (None: none, or no
    Aerich table yet)."""
    if not (await conn.execute_query_dict(_AERICH_PRESENT))[0]["present"]:
        return None
    rows = await conn.execute_query_dict(_NEWEST_APPLIED, [APP])
    return rows[0]["version"] if rows else None
