"""`python -m videoanalysis.migrate` waits for a PostgreSQL that is not up yet, for
VA_MIGRATE_DB_WAIT_S at most, then exits non-zero naming the host and the wait."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.support.database import PG_SERVER
from tests.support.ports import free_port
from videoanalysis.migrate import DatabaseNotReachable, MigrateSettings, main, wait_for_database

PG_HOST, PG_PORT = "127.0.0.1", 5432


def test_the_wait_defaults_to_two_minutes() -> None:
    assert MigrateSettings.model_fields["migrate_db_wait_s"].default == 120.0


def test_nothing_listening_gives_up_after_the_wait_naming_host_and_wait(monkeypatch, caplog) -> None:
    port = free_port()  # closed again: nothing listens there
    monkeypatch.setenv("VA_DATABASE_URL", f"postgres://postgres@127.0.0.1:{port}/none")
    monkeypatch.setenv("VA_MIGRATE_DB_WAIT_S", "1.5")
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="videoanalysis.migrate"):
        code = main([])
    elapsed = time.monotonic() - started
    assert code == os.EX_TEMPFAIL
    assert 1.5 <= elapsed < 5, elapsed
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert f"the database at 127.0.0.1:{port} did not accept a connection within 1.5 s" in errors[0]
    assert "ConnectionRefusedError" in errors[0]


async def test_a_name_that_does_not_resolve_is_waited_for_too() -> None:
    with pytest.raises(
        DatabaseNotReachable, match=r"nosuch\.invalid:5432 did not accept a connection within 1 s .*gaierror"
    ):
        await wait_for_database("postgres://postgres@nosuch.invalid:5432/none", 1)


async def test_a_wrong_database_name_fails_at_once() -> None:
    """Only a database not (yet) there is waited for; waiting would not make this one appear."""
    started = time.monotonic()
    with pytest.raises(asyncpg.InvalidCatalogNameError):
        await wait_for_database(f"{PG_SERVER}/no_such_database_here", 30)
    assert time.monotonic() - started < 5


@contextlib.asynccontextmanager
async def forwarder_opening_after(delay_s: float) -> AsyncIterator[int]:
    """A port that refuses connections for `delay_s`, then forwards them to the real PostgreSQL
    (a database that is still starting)."""
    port = free_port()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def forward(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(PG_HOST, PG_PORT)
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    async def open_later() -> asyncio.Server:
        await asyncio.sleep(delay_s)
        return await asyncio.start_server(forward, "127.0.0.1", port)

    opening = asyncio.create_task(open_later())
    try:
        yield port
    finally:
        server = await asyncio.wait_for(opening, delay_s + 5)
        server.close()
        await asyncio.wait_for(server.wait_closed(), 5)


async def test_a_database_that_comes_up_within_the_wait_is_used(empty_databases) -> None:
    name = empty_databases[0].rsplit("/", 1)[1]
    async with forwarder_opening_after(1.0) as port:
        waited = await wait_for_database(f"postgres://postgres@127.0.0.1:{port}/{name}", 30)
    assert 1.0 <= waited < 10, waited


def test_the_command_proceeds_on_a_database_that_answers(empty_databases, monkeypatch, caplog) -> None:
    monkeypatch.setenv("VA_DATABASE_URL", empty_databases[0])
    monkeypatch.setenv("VA_MIGRATE_DB_WAIT_S", "5")
    with caplog.at_level(logging.INFO, logger="videoanalysis.migrate"):
        assert main([]) == 0
    assert any(r.getMessage().startswith("applied ") for r in caplog.records)
    assert not any("waiting up to" in r.getMessage() for r in caplog.records)
