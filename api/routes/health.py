"""Probes: /healthz (the process answers) and /readyz (the database answers, and on PostgreSQL
its schema is at the newest migration this code ships)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient

from videoanalysis.schema_version import newest_applied_migration, schema_lag

router = APIRouter(tags=["health"])


class SchemaGate:
    """Whether the database's schema is at the migration `needed`. Once it is, it stays so for
    the life of the process (migrations only move forward), so later probes skip the query.
    SQLite is always current: the API brings the embedded file up to date as it starts."""

    def __init__(self, needed: str) -> None:
        self.needed = needed
        self.current = False

    async def lag(self, conn: BaseDBAsyncClient) -> str | None:
        if self.current or conn.capabilities.dialect == "sqlite":
            return None
        reason = schema_lag(await newest_applied_migration(conn), self.needed)
        self.current = reason is None
        return reason


def not_ready(reason: str) -> JSONResponse:
    # `detail` as on every other error of the API; `status` and `reason` for probes and people.
    body = {"status": "not ready", "reason": reason, "detail": reason}
    return JSONResponse(body, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)


NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"description": "not ready: `reason` says why (database unreachable, schema behind the code)"}
}


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=dict[str, str], responses=NOT_READY)
async def readyz(request: Request) -> Any:
    try:
        conn = Tortoise.get_connection("default")
        await conn.execute_query("SELECT 1")
    except Exception as exc:  # any failure means not ready; say why
        return not_ready(f"database unreachable: {exc}")
    try:
        lag = await request.app.state.schema_gate.lag(conn)
    except Exception as exc:
        return not_ready(f"schema version unknown: {exc}")
    return not_ready(lag) if lag else {"status": "ready"}
