"""Account commands: `signup`, `login`, `logout` (tokens kept per server, see va_cli.credentials)."""

from __future__ import annotations

from typing import Annotated

import typer

from va_cli.commands.shared import client
from va_cli.render import err

commands = typer.Typer()


@commands.command()
def signup(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(prompt=True, help="Account e-mail.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, envvar="VA_PASSWORD", help="At least 8 characters."
        ),
    ],
    first_name: Annotated[str, typer.Option(help="First name.")] = "",
    last_name: Annotated[str, typer.Option(help="Last name.")] = "",
) -> None:
    """Create an account and log in (the token is kept in your config dir, mode 0600)."""
    with client(ctx) as api:
        data = api.authenticate(
            "/signup", {"email": email, "password": password, "first_name": first_name, "last_name": last_name}
        )
    err.print(f"signed up and logged in to {api.url} as {data['user']['email']}")


@commands.command()
def login(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(prompt=True, help="Account e-mail.")],
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, envvar="VA_PASSWORD", help="Password (prompted when not given)."),
    ],
) -> None:
    """Log in and keep the token in your config dir (mode 0600)."""
    with client(ctx) as api:
        data = api.authenticate("/signin", {"email": email, "password": password})
    err.print(f"logged in to {api.url} as {(data.get('user') or {}).get('email', email)}")


@commands.command()
def logout(ctx: typer.Context) -> None:
    """End the session on the server and forget the tokens kept for it."""
    with client(ctx) as api:
        forgotten = api.logout()
    err.print("logged out" if forgotten else "was not logged in")
