"""`videoanalysis`: analyse videos from the terminal against a VideoAnalysis server.

Data (task ids, tables, results) goes to stdout; progress bars and errors go to stderr, an
error as one line with a non-zero exit code (see videoanalysis.cli.errors).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from videoanalysis.cli import remote
from videoanalysis.cli.client import ApiClient
from videoanalysis.cli.config import DEFAULT_URL, CredentialStore
from videoanalysis.cli.errors import EXIT_ERROR, CliError
from videoanalysis.cli.export import export, open_output, write_tracks_csv
from videoanalysis.cli.render import (
    LabelCounts,
    err,
    frames_progress,
    out,
    print_wide,
    task_table,
    tasks_table,
    tracks_table,
    upload_progress,
)

app = typer.Typer(
    help=__doc__.split("\n")[0],
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
F = TypeVar("F", bound=Callable[..., Any])


class Format(StrEnum):
    """The export formats of `results` (the same names as `export.FORMATS`)."""

    json = "json"
    csv = "csv"
    coco = "coco"
    mot = "mot"
    tracks_csv = "tracks-csv"


def one_line_errors(func: F) -> F:
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

    return wrapper  # type: ignore[return-value]


@app.callback()
def main(
    ctx: typer.Context,
    url: Annotated[str, typer.Option("--url", envvar="VA_URL", help="Server URL.", show_default=True)] = DEFAULT_URL,
) -> None:
    """Analyse videos from the terminal: upload, follow progress, read detections."""
    ctx.obj = url


def client(ctx: typer.Context) -> ApiClient:
    return ApiClient(ctx.obj, CredentialStore())


TaskArg = Annotated[str, typer.Argument(help="Task id (from `analyze` or `ls`).", show_default=False)]


@app.command()
@one_line_errors
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


@app.command()
@one_line_errors
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


@app.command()
@one_line_errors
def logout(ctx: typer.Context) -> None:
    """End the session on the server and forget the tokens kept for it."""
    with client(ctx) as api:
        forgotten = api.logout()
    err.print("logged out" if forgotten else "was not logged in")


VideoArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Video file to upload.")]
ModelOpt = Annotated[str | None, typer.Option(help="Model name (server default if omitted).")]
ScoreOpt = Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Keep detections scoring at least this.")]
StrideOpt = Annotated[int | None, typer.Option(min=1, help="Analyse every Nth frame.")]
LabelsOpt = Annotated[str | None, typer.Option(help="Only these labels, comma-separated.")]
TrackerOpt = Annotated[
    str | None, typer.Option(help="Follow objects across frames: ocsort (default), bytetrack, sort or none.")
]
WaitOpt = Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the task to its end.")]
PollOpt = Annotated[float, typer.Option(min=0.05, help="Seconds between progress checks.")]


@app.command()
@one_line_errors
def analyze(
    ctx: typer.Context,
    video: VideoArg,
    model: ModelOpt = None,
    score_threshold: ScoreOpt = None,
    frame_stride: StrideOpt = None,
    labels: LabelsOpt = None,
    tracker: TrackerOpt = None,
    wait: WaitOpt = False,
    poll: PollOpt = 1.0,
) -> None:
    """Upload VIDEO for analysis and print the task id; with --wait, follow it and summarise."""
    fields = {
        k: str(v)
        for k, v in {
            "model": model,
            "score_threshold": score_threshold,
            "frame_stride": frame_stride,
            "labels": labels,
            "tracker": tracker,
        }.items()
        if v is not None
    }
    with client(ctx) as api:
        size = video.stat().st_size
        with upload_progress() as bar:
            job = bar.add_task("upload", total=size)
            task = remote.upload(api, video, fields, lambda n: bar.advance(job, n))
        task_id = str(task["task_id"])
        out.print(task_id, highlight=False)
        if not wait:
            err.print(f"follow it with: videoanalysis status {task_id}")
            return
        try:
            final = follow(api, task_id, poll)
        except KeyboardInterrupt:
            err.print(f"stopped following; the task goes on: videoanalysis status {task_id}")
            raise typer.Exit(130) from None
        summarise(api, final)


def follow(api: ApiClient, task_id: str, poll: float) -> dict[str, Any]:
    """Poll the task, drawing a bar by frames, until it ends; return its last state."""
    with frames_progress() as bar:
        job = bar.add_task("PENDING", total=None)
        while True:
            task = remote.task_status(api, task_id)
            bar.update(
                job, description=task["status"], completed=task.get("frames_done") or 0, total=task.get("frames_total")
            )
            if task["ready"]:
                return task
            time.sleep(poll)


def summarise(api: ApiClient, task: dict[str, Any]) -> None:
    """Print the labels and counts of a finished task; fail with its reason otherwise."""
    task_id = str(task["task_id"])
    if not task["success"]:
        reason = f": {task['error']}" if task.get("error") else ""
        raise CliError(f"task {task_id} {task['status'].lower()}{reason}")
    counts = LabelCounts().add(remote.iter_frames(api, task_id))
    out.print(counts.table(f"{task.get('video_name') or task_id}: {counts.frames_seen} frames analysed"))
    if not counts.detections:
        out.print("no objects detected")


@app.command()
@one_line_errors
def view(ctx: typer.Context, task_id: TaskArg) -> None:
    """Print a link to the task's results viewer (its token opens this task only, for a while)."""
    with client(ctx) as api:
        link = api.send(
            "POST", f"/tasks/{remote.task_id_arg(task_id)}/viewer-link", not_found=f"task {task_id} not found"
        )
    out.print(link.json()["url"], highlight=False, soft_wrap=True)


@app.command()
@one_line_errors
def status(ctx: typer.Context, task_id: TaskArg) -> None:
    """Show a task's status and progress."""
    with client(ctx) as api:
        out.print(task_table(remote.task_status(api, remote.task_id_arg(task_id))))


@app.command()
@one_line_errors
def results(
    ctx: typer.Context,
    task_id: TaskArg,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.json,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", dir_okay=False, help="Write here instead of stdout.")
    ] = None,
    page_size: Annotated[int, typer.Option(min=1, max=1000, help="Frames per request.")] = remote.PAGE_SIZE,
) -> None:
    """Write all detections of a task as JSON, CSV, a COCO dataset or MOTChallenge rows (mot),
    or its tracks as CSV (tracks-csv)."""
    task_id = remote.task_id_arg(task_id)
    with client(ctx) as api:
        first = remote.result_page(api, task_id, page_size)
        meta = {k: v for k, v in first.items() if k not in ("detections", "result", "next_cursor")}
        with open_output(output) as fh:
            if fmt is Format.tracks_csv:
                write_tracks_csv(fh, remote.iter_tracks(api, task_id))
            else:
                export(fmt.value, fh, meta, remote.iter_frames(api, task_id, first, page_size))
    if not meta.get("ready"):
        err.print(f"note: task {task_id} is {meta.get('status')}; these are the frames stored so far")
    if output:
        err.print(f"wrote {output}")


@app.command()
@one_line_errors
def tracks(ctx: typer.Context, task_id: TaskArg) -> None:
    """List a task's tracks: each object followed across frames, when and how long it was seen."""
    task_id = remote.task_id_arg(task_id)
    with client(ctx) as api:
        found = list(remote.iter_tracks(api, task_id))
    print_wide(tracks_table(found) if found else f"no tracks in task {task_id} (yet, or tracker=none)")


@app.command()
@one_line_errors
def cancel(ctx: typer.Context, task_id: TaskArg) -> None:
    """Cancel a task: stop its run and mark it CANCELLED (frames stored so far are kept)."""
    task_id = remote.task_id_arg(task_id)
    with client(ctx) as api:
        task = remote.cancel(api, task_id)
    ended = (task or {}).get("status", "CANCELLED")
    if ended != "CANCELLED":  # the API answers an ended task as it is; nothing was cancelled
        raise CliError(f"task already ended: {ended}", EXIT_ERROR)
    err.print(f"task {task_id} cancelled")


@app.command()
@one_line_errors
def delete(ctx: typer.Context, task_id: TaskArg) -> None:
    """Erase a task: cancel it if it runs, then delete its video, its results and the task."""
    task_id = remote.task_id_arg(task_id)
    with client(ctx) as api:
        remote.erase(api, task_id)
    err.print(f"task {task_id} deleted")


@app.command("ls")
@one_line_errors
def list_tasks(
    ctx: typer.Context, limit: Annotated[int, typer.Option(min=1, help="Show at most this many tasks.")] = 50
) -> None:
    """List your tasks, newest first."""
    with client(ctx) as api:
        tasks = []
        for task in remote.iter_tasks(api, page_size=min(limit, 100)):
            tasks.append(task)
            if len(tasks) >= limit:
                break
    print_wide(tasks_table(tasks) if tasks else "no tasks yet")
