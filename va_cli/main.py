"""`videoanalysis`: analyse videos from the terminal against a VideoAnalysis server.

Data (task ids, tables, results) goes to stdout; progress bars and errors go to stderr, an
error as one line with a non-zero exit code (see va_cli.errors). The commands live in
va_cli.commands, one module per group; this module assembles them into the one app.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any

import typer

from va_cli.commands import account, analyze, results, tasks
from va_cli.credentials import DEFAULT_URL
from va_cli.errors import EXIT_ERROR, CliError
from va_cli.render import err

app = typer.Typer(
    help=__doc__.split("\n")[0],
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def main(
    ctx: typer.Context,
    url: Annotated[str, typer.Option("--url", envvar="VA_URL", help="Server URL.", show_default=True)] = DEFAULT_URL,
) -> None:
    """Analyse videos from the terminal: upload, follow progress, read detections."""
    ctx.obj = url


def one_line_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a CliError into `error: <message>` on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CliError as exc:
            err.print(f"error: {exc.message}", style="red", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            err.print(
                f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
                style="red",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(EXIT_ERROR) from None

    return wrapper


# The groups in the order `--help` lists their commands. Every command gets the one error
# handling here, around its body only: a usage error or `--help` stays Click's.
for group in (account.commands, analyze.commands, results.commands, tasks.commands):
    for command in group.registered_commands:
        assert command.callback is not None  # each was registered by a @commands.command() decorator
        command.callback = one_line_errors(command.callback)
    app.add_typer(group)
