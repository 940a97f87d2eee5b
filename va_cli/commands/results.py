"""Reading one task: `view` (a viewer link), `status`, `results` (its detections exported),
`tracks` and `events`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from va_cli import task_endpoints
from va_cli.commands.shared import TaskArg, client
from va_cli.export import export, open_output, write_events_csv, write_tracks_csv
from va_cli.render import err, events_table, out, print_wide, task_table, tracks_table, zone_tables

commands = typer.Typer()


class Format(StrEnum):
    """The export formats of `results` (the same names as `export.FORMATS`)."""

    json = "json"
    csv = "csv"
    coco = "coco"
    mot = "mot"
    tracks_csv = "tracks-csv"
    events_csv = "events-csv"


@commands.command()
def view(ctx: typer.Context, task_id: TaskArg) -> None:
    """Print a link to the task's results viewer (its token opens this task only, for a while)."""
    with client(ctx) as api:
        link = api.send(
            "POST", f"/tasks/{task_endpoints.task_id_arg(task_id)}/viewer-link", not_found=f"task {task_id} not found"
        )
    out.print(link.json()["url"], highlight=False, soft_wrap=True)


@commands.command()
def status(ctx: typer.Context, task_id: TaskArg) -> None:
    """Show a task's status and progress."""
    with client(ctx) as api:
        task = task_endpoints.task_status(api, task_endpoints.task_id_arg(task_id))
    out.print(task_table(task))
    for table in zone_tables(task.get("summary") or {}):
        out.print(table)


@commands.command()
def results(
    ctx: typer.Context,
    task_id: TaskArg,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.json,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", dir_okay=False, help="Write here instead of stdout.")
    ] = None,
    page_size: Annotated[int, typer.Option(min=1, max=1000, help="Frames per request.")] = task_endpoints.PAGE_SIZE,
) -> None:
    """Write all detections of a task as JSON, CSV, a COCO dataset or MOTChallenge rows (mot),
    its tracks as CSV (tracks-csv), or its zone and line events as CSV (events-csv)."""
    task_id = task_endpoints.task_id_arg(task_id)
    with client(ctx) as api:
        first = task_endpoints.result_page(api, task_id, page_size)
        meta = {k: v for k, v in first.items() if k not in ("detections", "result", "next_cursor")}
        with open_output(output) as fh:
            if fmt is Format.tracks_csv:
                write_tracks_csv(fh, task_endpoints.iter_tracks(api, task_id))
            elif fmt is Format.events_csv:
                write_events_csv(fh, task_endpoints.iter_events(api, task_id))
            else:
                export(fmt.value, fh, meta, task_endpoints.iter_frames(api, task_id, first, page_size))
    if not meta.get("ready"):
        err.print(f"note: task {task_id} is {meta.get('status')}; these are the frames stored so far")
    if output:
        err.print(f"wrote {output}")


@commands.command()
def tracks(ctx: typer.Context, task_id: TaskArg) -> None:
    """List a task's tracks: each object followed across frames, when and how long it was seen."""
    task_id = task_endpoints.task_id_arg(task_id)
    with client(ctx) as api:
        found = list(task_endpoints.iter_tracks(api, task_id))
    print_wide(tracks_table(found) if found else f"no tracks in task {task_id} (yet, or tracker=none)")


class EventKind(StrEnum):
    entered = "entered"
    left = "left"
    in_ = "in"
    out = "out"


@commands.command()
def events(
    ctx: typer.Context,
    task_id: TaskArg,
    rule: Annotated[str | None, typer.Option("--zone", "--line", help="Only this zone or line.")] = None,
    kind: Annotated[EventKind | None, typer.Option(help="Only this kind of event.")] = None,
    label: Annotated[str | None, typer.Option(help="Only tracks of this label.")] = None,
) -> None:
    """List a task's zone and line events: who entered or left each zone (and how long they
    stayed), who crossed each line in or out."""
    task_id = task_endpoints.task_id_arg(task_id)
    filters = {"rule": rule, "kind": kind.value if kind else None, "label": label}
    with client(ctx) as api:
        found = list(task_endpoints.iter_events(api, task_id, filters))
    print_wide(events_table(found) if found else f"no events in task {task_id} (yet, or no zones or lines)")
