"""`python -m api`: serve the API with uvicorn on HOST:PORT (default 127.0.0.1:8000), and
/metrics on HOST:VA_METRICS_PORT when that is set (one server, two listening sockets)."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys

import uvicorn
from starlette.types import ASGIApp

from api.config import SettingsError, load_settings
from api.main import create_app


def serve(app: ASGIApp, host: str, port: int, *, metrics_port: int = 0, forwarded_allow_ips: str = "127.0.0.1") -> None:
    """The one uvicorn configuration (the API benchmark serves its bare app through it too): the
    API's port, and /metrics' own port when one is set (one server, two listening sockets)."""
    ports = [port] + ([metrics_port] if metrics_port else [])
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets = [socket.create_server((host, p), family=family) for p in ports]
    config = uvicorn.Config(app, log_level="info", proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips)
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the SIGINT it handled, as uvicorn.run() does
        server.run(sockets=sockets)


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
    if settings.metrics_port == int(port_text):
        print(f"error: VA_METRICS_PORT must differ from PORT ({port_text})", file=sys.stderr)
        return 2
    print(
        f"VideoAnalysis API ({settings.environment.value}, {settings.dispatcher.value} dispatcher, "
        f"database {'SQLite' if settings.is_sqlite else 'PostgreSQL'}) on http://{host}:{port_text}/docs",
        flush=True,
    )
    serve(
        create_app(settings),
        host,
        int(port_text),
        metrics_port=settings.metrics_port,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
