"""`python -m videoanalysis.migrate`: apply the checked-in Aerich migrations to VA_DATABASE_URL.

Used by docker compose and the Helm hook before the API starts; PostgreSQL gets its schema
only from here (the API generates schemas for the embedded SQLite file alone).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import sys
from pathlib import Path
from typing import Any

from aerich import Command
from aerich.utils import compress_dict, decompress_dict, get_models_describe
from tortoise import Tortoise
from tortoise.context import TortoiseContext

from videoanalysis.db import tortoise_config
from videoanalysis.settings import CoreSettings

#: Shipped inside the package, so an installed (non-editable) distribution can migrate.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
APP = "models"

log = logging.getLogger(__name__)


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
    return max((location / APP).glob("[0-9]*_*.py"), key=lambda p: int(p.name.split("_")[0]))


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
    settings = CoreSettings()
    applied = asyncio.run(migrate(settings.resolved_database_url, args.location))
    log.info("applied %d migration(s)%s", len(applied), f": {', '.join(applied)}" if applied else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
