"""Tortoise set-up shared by every component."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise

from videoanalysis.settings import CoreSettings

MODELS_MODULE = "videoanalysis.models"


def tortoise_config(database_url: str, *, migrations: bool = False) -> dict[str, Any]:
    """The Tortoise config dict. `migrations=True` adds Aerich's own table (only
    `videoanalysis.migrate` needs it: the job and the operator install no Aerich)."""
    models = [MODELS_MODULE, "aerich.models"] if migrations else [MODELS_MODULE]
    return {
        "connections": {"default": database_url},
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
