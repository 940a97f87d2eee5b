"""/readyz is 200 only when the database answers and its schema is at the newest migration the
code ships; otherwise 503 naming why. Real PostgreSQL databases, nothing mocked."""

from __future__ import annotations

import asyncpg
from tortoise import Tortoise
from tortoise.context import TortoiseContext

from tests.support.schema_history import at_schema_before
from videoanalysis.db import tortoise_config
from videoanalysis.migrate import migrate
from videoanalysis.schema_version import newest_shipped_migration, schema_lag

NEWEST = newest_shipped_migration().removesuffix(".py")


async def readyz_on(client, url: str):
    """The client's /readyz answered with `url` as the database (this block only)."""
    with TortoiseContext():
        await Tortoise.init(config=tortoise_config(url))
        try:
            return await client.get("/readyz")
        finally:
            await Tortoise.close_connections()


async def test_ready_on_the_migrated_session_database(api_client):
    resp = await api_client.get("/readyz")
    assert resp.status_code == 200 and resp.json() == {"status": "ready"}


async def test_unready_while_the_newest_migration_is_missing_then_ready_for_good(
    open_api_client, empty_databases, tmp_path
):
    url = empty_databases[0]
    files = await at_schema_before(url, int(NEWEST.split("_")[0]), tmp_path)
    previous = files[-2].removesuffix(".py")
    async with open_api_client() as client:
        resp = await readyz_on(client, url)
        assert resp.status_code == 503
        body = resp.json()
        assert body["status"] == "not ready"
        assert body["reason"].startswith(f"schema at {previous}, the code needs {NEWEST}")
        assert body["detail"] == body["reason"]

        assert await migrate(url) == [files[-1]]
        assert (await readyz_on(client, url)).json() == {"status": "ready"}
        # Once current, the verdict is kept: migrations never move a running schema backwards.
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("DELETE FROM aerich")
        finally:
            await conn.close()
        assert (await readyz_on(client, url)).status_code == 200
    async with open_api_client() as fresh:  # a new process reads the table again
        assert "no migration applied yet" in (await readyz_on(fresh, url)).json()["reason"]


async def test_unready_on_a_database_never_migrated(open_api_client, empty_databases):
    async with open_api_client() as client:
        resp = await readyz_on(client, empty_databases[0])
    assert resp.status_code == 503
    assert resp.json()["reason"].startswith(f"no migration applied yet, the code needs {NEWEST}")


def test_a_schema_newer_than_the_code_is_current() -> None:
    """An upgrade migrates before its pods replace the old ones, which stay ready meanwhile."""
    assert schema_lag("10_20300101000000_later.py", "9_20261204170000_task_waiting.py") is None
    assert schema_lag("9_20261204170000_task_waiting.py", "9_20261204170000_task_waiting.py") is None
    assert schema_lag("8_x.py", "9_y.py") == "schema at 8_x, the code needs 9_y (run python -m videoanalysis.migrate)"
