"""`python -m api`: serve the API with uvicorn on HOST:PORT (default 127.0.0.1:8000)."""

from __future__ import annotations

import logging
import os
import sys

import uvicorn
from starlette.types import ASGIApp

from api.config import SettingsError, load_settings
from api.main import create_app


def serve(app: ASGIApp, host: str, port: int) -> None:
    """The one uvicorn configuration (the API benchmark serves its bare app through it too)."""
    uvicorn.run(app, host=host, port=port, log_level="info")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    host = os.environ.get("HOST", "127.0.0.1")
    port_text = os.environ.get("PORT", "8000")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        print(f"error: PORT must be a TCP port number, got {port_text!r}", file=sys.stderr)
        return 2
    print(
        f"VideoAnalysis API ({settings.environment.value}, {settings.dispatcher.value} dispatcher, "
        f"database {'SQLite' if settings.is_sqlite else 'PostgreSQL'}) on http://{host}:{port_text}/docs",
        flush=True,
    )
    serve(create_app(settings), host, int(port_text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
