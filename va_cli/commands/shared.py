"""What the command groups share: the task id argument and the client of the server `--url` names."""

from __future__ import annotations

from typing import Annotated

import typer

from va_cli.client import ApiClient
from va_cli.credentials import CredentialStore

TaskArg = Annotated[str, typer.Argument(help="Task id (from `analyze` or `ls`).", show_default=False)]


def client(ctx: typer.Context) -> ApiClient:
    """The API client of the server chosen by `--url` (kept in the context by `va_cli.main`)."""
    return ApiClient(ctx.obj, CredentialStore())
