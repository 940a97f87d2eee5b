"""The real Typer app against the session's API server (`api_server`: `python -m api` under
uvicorn, local dispatcher, on the session's PostgreSQL database), each user with its own config
dir (so each test user has its own token file)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from tests.support.accounts import PASSWORD
from va_cli.main import app

CliRun = Callable[..., Result]


@pytest.fixture
def cli_as(api_server: str, tmp_path: Path) -> Callable[[str], CliRun]:
    """`run = cli_as("alice")` gives `run(*args)`: the CLI with alice's own config dir."""

    def user(name: str) -> CliRun:
        config = tmp_path / f"config-{name}"

        def run(*args: str, url: str | None = None, env: dict[str, str] | None = None) -> Result:
            env = {"VA_CONFIG_DIR": str(config), "VA_URL": url or api_server, **(env or {})}
            return CliRunner().invoke(app, list(args), env=env)

        run.config_dir = config  # type: ignore[attr-defined]
        return run

    return user


@pytest.fixture
def cli_user(cli_as: Callable[[str], CliRun]) -> CliRun:
    """The CLI of a freshly signed-up user."""
    run = cli_as("owner")
    email = f"cli-{uuid.uuid4().hex[:8]}@example.com"
    result = run("signup", "--email", email, "--password", PASSWORD)
    if result.exit_code != 0:
        raise RuntimeError(f"signup failed: {result.output}")
    run.email = email  # type: ignore[attr-defined]
    return run
