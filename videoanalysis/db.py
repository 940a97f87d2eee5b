"""Tortoise set-up shared by every component."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url

from videoanalysis.pg_backend import bounded_credentials
from videoanalysis.settings import DEFAULT_DB_TIMEOUT_S, CoreSettings
from videoanalysis.sqlite_backend import PRAGMAS
from videoanalysis.sqlite_upgrade import upgrade_sqlite

MODELS_MODULE = "videoanalysis.tables"


def tortoise_config(
    database_url: str, *, migrations: bool = False, timeout_s: float | None = DEFAULT_DB_TIMEOUT_S
) -> dict[str, Any]:
    """The Tortoise config dict. `migrations=True` adds Aerich's own table (only
    `videoanalysis.migrate` needs it: the job and the operator install no Aerich). SQLite gets the
    client of `videoanalysis.sqlite_backend` (immediate transactions, busy timeout, WAL);
    PostgreSQL the client of `videoanalysis.pg_backend`, every wait bounded by `timeout_s`
    (None: unbounded, for migrations, whose statements may rightly run long)."""
    models = [MODELS_MODULE, "aerich.models"] if migrations else [MODELS_MODULE]
    # PostgreSQL keeps asyncpg's own reset on release: it costs a round trip per query, but it is
    # what finds a connection the server dropped (a failover, pg_terminate_backend) and takes it
    # out of the pool; a no-op reset was measured to hand such connections out again.
    connection: str | dict[str, Any] = database_url
    if database_url.startswith("sqlite") and ":memory:" not in database_url:
        connection = expand_db_url(database_url)
        connection["engine"] = "videoanalysis.sqlite_backend"
        connection["credentials"] = {**PRAGMAS, **connection["credentials"]}
    elif timeout_s and database_url.startswith(("postgres://", "asyncpg://")):
        connection = expand_db_url(database_url)
        connection["engine"] = "videoanalysis.pg_backend"
        bounded = bounded_credentials(timeout_s)
        given = connection["credentials"]
        server = {**bounded["server_settings"], **(given.get("server_settings") or {})}
        connection["credentials"] = {**bounded, **given, "server_settings": server}
    return {
        "connections": {"default": connection},
        "apps": {"models": {"models": models, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def init_db(
    settings: CoreSettings, *, generate_schemas: bool | None = None, global_fallback: bool = False
) -> None:
    """Connect Tortoise. Schemas are generated only for SQLite (embedded) unless asked:
    PostgreSQL gets its schema from the Aerich migrations.

    Tortoise 1.x keeps its connections in a context variable; `global_fallback` also makes them
    visible to tasks started outside this context (a server's lifespan vs. its requests)."""
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    config = tortoise_config(settings.resolved_database_url, timeout_s=settings.db_timeout_s)
    await Tortoise.init(config=config, _enable_global_fallback=global_fallback)
    if generate_schemas if generate_schemas is not None else settings.is_sqlite:
        if settings.is_sqlite:  # first: SQLite would index a missing column as a string literal
            await upgrade_sqlite()
        await Tortoise.generate_schemas(safe=True)


async def close_db() -> None:
    await Tortoise.close_connections()


async def expire_pooled_connections() -> None:
    """After a transient error: have the PostgreSQL pool replace every connection it holds (a
    failover or a terminated backend leaves connections that only fail on their next use), so a
    retry does not draw another dead one. SQLite has no pool: nothing to do."""
    pool = getattr(Tortoise.get_connection("default"), "_pool", None)
    if pool is not None and hasattr(pool, "expire_connections"):
        await pool.expire_connections()


# Errors of a database that went away or was busy for a moment, by class name along the cause
# chain (drivers differ: asyncpg, sqlite3; Tortoise wraps some of them).
#: Messages of errors whose class is too broad to name (a database closed to new connections).
_TRANSIENT_TEXT = ("database is locked", "connection is closed", "is not currently accepting connections")
_TRANSIENT = {
    "ConnectionDoesNotExistError",
    "InterfaceError",
    "InternalClientError",  # asyncpg, on a connection whose backend was terminated mid-use
    "AdminShutdownError",
    "ConnectionFailureError",
    "CannotConnectNowError",
    "TooManyConnectionsError",
    "ConnectionResetError",
    "ConnectionRefusedError",
    "BrokenPipeError",
    "gaierror",  # the database's host name did not resolve (DNS restarting)
    # a bounded wait ended (videoanalysis.pg_backend): no connection free, a lock, no answer
    "TimeoutError",
    "LockNotAvailableError",
    "QueryCanceledError",
    "IdleInTransactionSessionTimeoutError",
}


def is_transient_db_error(exc: BaseException | None) -> bool:
    """Whether retrying the same transaction later may succeed (connection lost, database
    restarting, SQLite busy); a constraint or syntax error is not."""
    seen = 0
    while exc is not None and seen < 8:
        name = type(exc).__name__
        if name in _TRANSIENT or any(text in str(exc) for text in _TRANSIENT_TEXT):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False
