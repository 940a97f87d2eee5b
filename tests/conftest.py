"""Shared fixtures: a fresh PostgreSQL database per test session, Tortoise connected to it.

PostgreSQL is the real one on 127.0.0.1:5432 (trust auth); `VA_TEST_PG` overrides the
server URL. The database is created at session start and dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from tortoise import Tortoise

from videoanalysis.db import tortoise_config

PG_SERVER = os.environ.get("VA_TEST_PG", "postgres://postgres@127.0.0.1:5432")


@pytest.fixture(scope="session")
async def pg_url() -> AsyncIterator[str]:
    """URL of a brand-new, empty PostgreSQL database for this test session."""
    name = f"va_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(f"{PG_SERVER}/test")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield f"{PG_SERVER}/{name}"
    admin = await asyncpg.connect(f"{PG_SERVER}/test")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def db(pg_url: str) -> AsyncIterator[str]:
    """Tortoise connected to the session database with the schema generated."""
    await Tortoise.init(config=tortoise_config(pg_url))
    await Tortoise.generate_schemas(safe=True)
    yield pg_url
    await Tortoise.close_connections()


# --- The test Kubernetes cluster: ONE per session, shared by tests/k8s and tests/shipping -----

from tests.k8s.cluster import ROOT as _ROOT
from tests.k8s.cluster import kubectl as _kubectl
from tests.k8s.cluster import start_cluster, stop_cluster


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test on the control plane is `kubernetes`-marked (the release matrix selects them)."""
    for item in items:
        if "k8s_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kubernetes)


@pytest.fixture(scope="session")
def k8s_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The kubeconfig of a fresh control plane (started only if a test needs it) with the CRD
    installed; KUBECONFIG points at it for the session (scripts/k8s-test-cluster.sh)."""
    from videoanalysis.k8s import kube, names

    state = tmp_path_factory.mktemp("k8s")
    old = os.environ.get("KUBECONFIG")
    try:
        kubeconfig = start_cluster(state)
        os.environ["KUBECONFIG"] = str(kubeconfig)
        kube.reset_client()
        _kubectl("apply", "-f", str(_ROOT / "crds" / "videoanalysis.yaml"))
        _kubectl("wait", "--for=condition=Established", "--timeout=30s", f"crd/{names.CRD_NAME}")
        yield kubeconfig
    finally:
        stop_cluster(state)
        kube.reset_client()
        if old is None:
            os.environ.pop("KUBECONFIG", None)
        else:
            os.environ["KUBECONFIG"] = old


@pytest.fixture(scope="session")
def operator(db: str, k8s_cluster: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The operator (a real `kopf run` process) watching every `va-t-` test namespace against the
    session database: one per session, defined here so no test folder starts a second one."""
    from tests.k8s.cluster import NAMESPACE_PREFIX, running_operator

    with running_operator(db, f"{NAMESPACE_PREFIX}*", tmp_path_factory.mktemp("operator") / "operator.log") as proc:
        yield proc


@pytest.fixture(scope="session")
def kube_api(k8s_cluster: Path) -> Any:
    """A `kubernetes.client.ApiClient` of the test cluster."""
    from videoanalysis.k8s import kube

    return kube.api_client()


# --- API fixtures (reusable by any test that talks to the REST API) -------------------------

import itertools
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager

import httpx

TEST_SECRET = "test-secret-key-for-the-session-0123456789abcdef"
_emails = itertools.count()


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


@pytest.fixture
def signup_user() -> Callable[..., Awaitable[tuple[dict, dict[str, str]]]]:
    """`data, headers = await signup_user(client)` signs up a fresh user: `data` is the sign-up
    response ({user, access_token, refresh_token, token_type}), `headers` carry its access token."""

    async def signup(
        client: httpx.AsyncClient, password: str = "correct horse battery", **fields: str
    ) -> tuple[dict, dict[str, str]]:
        body = {
            "email": f"user{next(_emails)}-{uuid.uuid4().hex[:6]}@example.com",
            "password": password,
            "first_name": "Ada",
            "last_name": "Lovelace",
            **fields,
        }
        resp = await client.post("/signup", json=body)
        if resp.status_code != 201:
            raise RuntimeError(f"signup failed: {resp.status_code} {resp.text}")
        data = resp.json()
        return data, {"Authorization": f"Bearer {data['access_token']}"}

    return signup
