"""The API app in this process, reached over ASGI: settings on the session database and a
client that runs the app's lifespan around it (no server process; see api_server.py for one)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

#: The secret key of every API the tests run (long enough for the production check).
TEST_SECRET = "test-secret-key-for-the-session-0123456789abcdef"


class ApiClient(httpx.AsyncClient):
    """An AsyncClient bound to an app over ASGI; `app` and `settings` are the server's."""

    app: Any
    settings: Any


@pytest.fixture
def api_settings(db: str, tmp_path: Path) -> Callable[..., Any]:
    """Factory of `ApiSettings` on the session PostgreSQL database and a tmp videos folder;
    keyword arguments override any field (e.g. dispatcher="kubernetes", max_upload_bytes=...).
    Each test gets a local queue of its own: the session database holds other tests' tasks."""
    from api.config import ApiSettings

    queue = f"test-{uuid.uuid4().hex[:12]}"

    def make(**overrides: Any) -> ApiSettings:
        values: dict[str, Any] = {
            "environment": "development",
            "secret_key": TEST_SECRET,
            "database_url": db,
            "data_dir": tmp_path / "data",
            "videos_dir": tmp_path / "videos",
            "dispatcher": "local",
            "local_queue": queue,
            "local_backoff_seconds": 0.2,
            "local_poll_seconds": 0.2,
        }
        values.update(overrides)
        return ApiSettings(**values)

    return make


@pytest.fixture
def open_api_client(api_settings: Callable[..., Any]) -> Callable[..., Any]:
    """`async with open_api_client(dispatcher_instance=None, **settings) as client:` runs the
    app's lifespan around a client. The dispatcher is the one the settings name (e.g.
    `dispatcher="kubernetes"`, a settings override like any other) unless an instance is given."""
    from api.main import create_app

    @asynccontextmanager
    async def open_client(dispatcher_instance: Any = None, **overrides: Any) -> AsyncIterator[ApiClient]:
        settings = api_settings(**overrides)
        app = create_app(settings, dispatcher=dispatcher_instance)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with ApiClient(transport=transport, base_url="http://api.test", timeout=60) as client:
                client.app, client.settings = app, settings
                yield client

    return open_client


@pytest.fixture
async def api_client(request: pytest.FixtureRequest, open_api_client: Callable[..., Any]) -> AsyncIterator[ApiClient]:
    """A client of the app with the local dispatcher; parametrize indirectly with a dict of
    settings overrides to change it, e.g. `{"dispatcher": "kubernetes", "kube_namespace": ns}`."""
    overrides = getattr(request, "param", None) or {}
    async with open_api_client(**overrides) as client:
        yield client
