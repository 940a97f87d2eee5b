"""The server the docs' commands run against: `python -m api` started the way `make run` starts it
(the embedded default: SQLite and the generated secret in a fresh data folder, the local
dispatcher), on a free port. No PostgreSQL needed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.api_server import embedded_env, running_api
from tests.support.ports import free_port


@pytest.fixture(scope="session")
def docs_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("docs-api")
    with running_api(embedded_env(tmp / "data", free_port()), tmp / "api.log") as url:
        yield url
