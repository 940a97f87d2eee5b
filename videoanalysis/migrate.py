"""`python -m videoanalysis.migrate`: apply the checked-in Aerich migrations to VA_DATABASE_URL.

Used by docker compose and the Helm hook Job; PostgreSQL gets its schema only from here (the
API brings the embedded SQLite file up to date itself), and the API is unready until it is
done. A PostgreSQL that is still starting (a cold cluster, a fresh compose stack) is waited for
up to VA_MIGRATE_DB_WAIT_S; after that the command exits 75 naming the host and the wait.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
from aerich import Command
from aerich.utils import compress_dict, decompress_dict, get_models_describe
from pydantic import Field
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext

from videoanalysis.db import tortoise_config
from videoanalysis.schema_version import APP, MIGRATIONS_DIR, migration_number
from videoanalysis.settings import CoreSettings

log = logging.getLogger(__name__)

#: Pauses between two connection attempts while the database starts: doubling up to the longest.
INITIAL_BACKOFF_S = 0.25
MAX_BACKOFF_S = 2.0
#: Longest single connection attempt (a host that drops packets answers nothing at all).
MAX_ATTEMPT_S = 5.0


class MigrateSettings(CoreSettings):
    """What `python -m videoanalysis.migrate` reads: the core settings and its own wait."""

    migrate_db_wait_s: float = Field(
        120.0,
        ge=0,
        le=3600,
        description="How long the migrations wait for PostgreSQL to accept connections (refused, "
        "unresolvable or still starting) before exiting non-zero; 0: one attempt.",
    )


class DatabaseNotReachable(Exception):
    """PostgreSQL did not accept a connection within the wait; the message names host and wait."""


def connect_arguments(database_url: str) -> dict[str, Any]:
    """asyncpg's arguments for the URL the migrations use (Tortoise's pool options left out)."""
    credentials = expand_db_url(database_url)["credentials"]
    keys = ("host", "port", "user", "password", "database", "ssl")
    return {k: credentials[k] for k in keys if credentials.get(k) is not None}


def worth_waiting(exc: BaseException) -> bool:
    """A database not (yet) there: refused, a name that does not resolve yet, no answer, or a
    server still starting. Anything else (a wrong password, a missing database) fails at once."""
    return isinstance(exc, OSError | asyncpg.CannotConnectNowError | asyncpg.TooManyConnectionsError)


async def wait_for_database(database_url: str, wait_s: float) -> float:
    """Until PostgreSQL at `database_url` accepts a connection, for `wait_s` seconds at most,
    retrying with a short back-off; returns the seconds waited. SQLite is a file: no wait."""
    if not database_url.startswith(("postgres://", "asyncpg://")):
        return 0.0
    arguments = connect_arguments(database_url)
    where = f"{arguments.get('host')}:{arguments.get('port')}"
    started = time.monotonic()
    deadline = started + wait_s
    attempt = 0
    while True:
        attempt_s = max(0.5, min(MAX_ATTEMPT_S, deadline - time.monotonic()))
        failure = await connection_failure(arguments, attempt_s)
        if failure is None:
            return time.monotonic() - started
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DatabaseNotReachable(
                f"the database at {where} did not accept a connection within {wait_s:g} s "
                f"(VA_MIGRATE_DB_WAIT_S), last: {type(failure).__name__}: {failure}"
            ) from failure
        if attempt == 0:  # one line in the Job's log, not one per attempt
            log.info(
                "waiting up to %g s for the database at %s (%s: %s)", wait_s, where, type(failure).__name__, failure
            )
        await asyncio.sleep(min(backoff_s(attempt), remaining))
        attempt += 1


def backoff_s(attempt: int) -> float:
    return min(INITIAL_BACKOFF_S * 2**attempt, MAX_BACKOFF_S)


async def connection_failure(arguments: dict[str, Any], timeout_s: float) -> Exception | None:
    """None when a connection opens (it is closed at once), else the error worth waiting out;
    any other error is raised."""
    try:
        conn = await asyncpg.connect(**arguments, timeout=timeout_s)
    except Exception as exc:
        if not worth_waiting(exc):
            raise
        return exc
    await conn.close()
    return None


async def migrate(database_url: str, location: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply every migration not yet recorded in the database; returns the files applied.

    Runs in a Tortoise context of its own, so a caller's connections are left alone."""
    if not (location / APP).is_dir():
        raise FileNotFoundError(f"no migrations at {location / APP}")
    command = Command(tortoise_config=tortoise_config(database_url, migrations=True), app=APP, location=str(location))
    with TortoiseContext():
        try:
            await command.init()
            return await command.upgrade(run_in_transaction=True)
        finally:
            await command.aclose()


def newest_migration(location: Path = MIGRATIONS_DIR) -> Path:
    return max((location / APP).glob("[0-9]*_*.py"), key=lambda p: migration_number(p.name))


async def models_state() -> dict[str, Any]:
    """What Aerich records as MODELS_STATE for the models as they are now. The URL is never
    connected to (describing needs no connection); it is PostgreSQL's so the models' query
    builders stay on the production dialect after this context ends."""
    with TortoiseContext():
        await Tortoise.init(config=tortoise_config("postgres://describe@127.0.0.1:1/never-connected", migrations=True))
        try:
            # Through Aerich's own encoding, as a migration file stores it (tuples become lists).
            return decompress_dict(compress_dict(get_models_describe(APP)))
        finally:
            await Tortoise.close_connections()


def recorded_state(path: Path) -> dict[str, Any]:
    """The MODELS_STATE a migration file records (Aerich diffs the next migration against it)."""
    spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return decompress_dict(module.MODELS_STATE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Apply the Aerich migrations to VA_DATABASE_URL.")
    parser.add_argument(
        "--location",
        type=Path,
        default=MIGRATIONS_DIR,
        help=f"folder holding models/<n>_*.py (default {MIGRATIONS_DIR})",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = MigrateSettings()
    url = settings.resolved_database_url
    try:
        waited = asyncio.run(wait_for_database(url, settings.migrate_db_wait_s))
    except DatabaseNotReachable as exc:
        log.error("%s", exc)
        return os.EX_TEMPFAIL  # a later run (the Job's next Pod) may find the database up
    if waited >= 1:
        log.info("the database accepted a connection after %.0f s", waited)
    applied = asyncio.run(migrate(url, args.location))
    log.info("applied %d migration(s)%s", len(applied), f": {', '.join(applied)}" if applied else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
