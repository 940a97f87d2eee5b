"""Probes: /healthz (the process answers) and /readyz (the database answers too)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from tortoise import Tortoise

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz() -> dict[str, str]:
    try:
        await Tortoise.get_connection("default").execute_query("SELECT 1")
    except Exception as exc:  # any failure means not ready; say why
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"database unreachable: {exc}") from None
    return {"status": "ready"}
