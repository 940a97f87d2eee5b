"""Tortoise set-up shared by every component."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url

from videoanalysis.settings import CoreSettings

MODELS_MODULE = "videoanalysis.models"


async def keep_session(connection: Any) -> None:
    """asyncpg's pool hook on release, after its own rollback of an open transaction. Its default
    (`SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`) is a second round trip
    after every query; this code never sets session state (no SET, LISTEN, advisory lock or
    cursor), so there is nothing to undo."""


def tortoise_config(database_url: str, *, migrations: bool = False) -> dict[str, Any]:
    """The Tortoise config dict. `migrations=True` adds Aerich's own table (only
    `videoanalysis.migrate` needs it: the job and the operator install no Aerich)."""
    models = [MODELS_MODULE, "aerich.models"] if migrations else [MODELS_MODULE]
    connection: str | dict[str, Any] = database_url
    if database_url.startswith(("postgres://", "asyncpg://")):
        connection = expand_db_url(database_url)
        connection["credentials"]["reset"] = keep_session
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
    await Tortoise.init(config=tortoise_config(settings.resolved_database_url), _enable_global_fallback=global_fallback)
    if generate_schemas if generate_schemas is not None else settings.is_sqlite:
        await Tortoise.generate_schemas(safe=True)


async def close_db() -> None:
    await Tortoise.close_connections()
