"""`analyze`: upload a video for analysis; with `--wait`, follow the task and summarise it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from va_cli import task_endpoints
from va_cli.client import ApiClient
from va_cli.commands.shared import client
from va_cli.errors import CliError
from va_cli.render import LabelCounts, err, frames_progress, out, upload_progress, zone_tables
from va_cli.zones_file import zone_fields

commands = typer.Typer()

VideoArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Video file to upload.")]
ModelOpt = Annotated[str | None, typer.Option(help="Model name (server default if omitted).")]
ScoreOpt = Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Keep detections scoring at least this.")]
StrideOpt = Annotated[int | None, typer.Option(min=1, help="Analyse every Nth frame.")]
LabelsOpt = Annotated[str | None, typer.Option(help="Only these labels, comma-separated.")]
TrackerOpt = Annotated[
    str | None, typer.Option(help="Follow objects across frames: ocsort (default), bytetrack, sort or none.")
]
ShardsOpt = Annotated[
    str | None,
    typer.Option(help="Cut the video into this many ranges analysed side by side, or auto (the server decides)."),
]
ZonesOpt = Annotated[
    Path | None,
    typer.Option(
        "--zones",
        exists=True,
        dir_okay=False,
        readable=True,
        help="A YAML or JSON file of `zones:` and `lines:` to count tracks in (needs a tracker).",
    ),
]
WaitOpt = Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the task to its end.")]
PollOpt = Annotated[float, typer.Option(min=0.05, help="Seconds between progress checks.")]


@commands.command()
def analyze(
    ctx: typer.Context,
    video: VideoArg,
    model: ModelOpt = None,
    score_threshold: ScoreOpt = None,
    frame_stride: StrideOpt = None,
    labels: LabelsOpt = None,
    tracker: TrackerOpt = None,
    shards: ShardsOpt = None,
    zones: ZonesOpt = None,
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
            "shards": shards,
        }.items()
        if v is not None
    }
    if zones is not None:
        fields.update(zone_fields(zones))
    with client(ctx) as api:
        size = video.stat().st_size
        with upload_progress() as bar:
            job = bar.add_task("upload", total=size)
            task = task_endpoints.upload(api, video, fields, lambda n: bar.advance(job, n))
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
            task = task_endpoints.task_status(api, task_id)
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
    counts = LabelCounts().add(task_endpoints.iter_frames(api, task_id))
    out.print(counts.table(f"{task.get('video_name') or task_id}: {counts.frames_seen} frames analysed"))
    if not counts.detections:
        out.print("no objects detected")
    for table in zone_tables(task.get("summary") or {}):
        out.print(table)
