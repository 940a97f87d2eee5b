"""Your tasks: `cancel` and `delete` one, `ls` them all."""

from __future__ import annotations

from typing import Annotated

import typer

from va_cli import task_endpoints
from va_cli.commands.shared import TaskArg, client
from va_cli.errors import EXIT_ERROR, CliError
from va_cli.render import err, print_wide, tasks_table

commands = typer.Typer()


@commands.command()
def cancel(ctx: typer.Context, task_id: TaskArg) -> None:
    """Cancel a task: stop its run and mark it CANCELLED (frames stored so far are kept)."""
    task_id = task_endpoints.task_id_arg(task_id)
    with client(ctx) as api:
        task = task_endpoints.cancel(api, task_id)
    ended = (task or {}).get("status", "CANCELLED")
    if ended != "CANCELLED":  # the API answers an ended task as it is; nothing was cancelled
        raise CliError(f"task already ended: {ended}", EXIT_ERROR)
    err.print(f"task {task_id} cancelled")


@commands.command()
def delete(ctx: typer.Context, task_id: TaskArg) -> None:
    """Erase a task: cancel it if it runs, then delete its video, its results and the task."""
    task_id = task_endpoints.task_id_arg(task_id)
    with client(ctx) as api:
        task_endpoints.erase(api, task_id)
    err.print(f"task {task_id} deleted")


@commands.command("ls")
def list_tasks(
    ctx: typer.Context, limit: Annotated[int, typer.Option(min=1, help="Show at most this many tasks.")] = 50
) -> None:
    """List your tasks, newest first."""
    with client(ctx) as api:
        tasks = []
        for task in task_endpoints.iter_tasks(api, page_size=min(limit, 100)):
            tasks.append(task)
            if len(tasks) >= limit:
                break
    print_wide(tasks_table(tasks) if tasks else "no tasks yet")
