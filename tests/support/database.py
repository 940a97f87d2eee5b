"""The session's PostgreSQL database, Tortoise connected to it, and empty databases to migrate.

PostgreSQL is the real one on 127.0.0.1:5432 (trust auth); `VA_TEST_PG` overrides the
server URL. The session database is created at session start and dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from tortoise import Tortoise

from videoanalysis.db import tortoise_config

PG_SERVER = os.environ.get("VA_TEST_PG", "postgres://postgres@127.0.0.1:5432")


@pytest.fixture(scope="session")
async def pg_url() -> AsyncIterator[str]:
    """URL of a brand-new, empty PostgreSQL database for this test session."""
    name = f"va_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(f"{PG_SERVER}/test")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield f"{PG_SERVER}/{name}"
    admin = await asyncpg.connect(f"{PG_SERVER}/test")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def db(pg_url: str) -> AsyncIterator[str]:
    """Tortoise connected to the session database, its schema made by the shipped migrations
    as in production (the API's /readyz wants them recorded)."""
    from videoanalysis.migrate import migrate

    await migrate(pg_url)
    await Tortoise.init(config=tortoise_config(pg_url))
    yield pg_url
    await Tortoise.close_connections()


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
