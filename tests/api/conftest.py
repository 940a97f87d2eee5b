"""Fixtures of the migration tests."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from tests.conftest import PG_SERVER


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
