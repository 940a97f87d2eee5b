"""Rich output: progress bars on stderr, tables on stdout (so stdout stays pipe-friendly)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, Literal

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

out = Console()
err = Console(stderr=True)

STATUS_STYLE = {"PENDING": "yellow", "RUNNING": "cyan", "SUCCEEDED": "green", "FAILED": "red", "CANCELLED": "magenta"}


def upload_progress() -> Progress:
    """A bar by bytes for the upload (drawn only when stderr is a terminal, so pipes stay clean)."""
    return Progress(
        TextColumn("[bold]upload"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
    )


def frames_progress() -> Progress:
    """A bar by frames while the task runs; the total is set once the job knows it."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("frames"),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    )


def status_text(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, 'white')}]{status}[/]"


def frames_done_text(task: dict[str, Any]) -> str:
    """`12/40`: frames analysed of those to analyse (`12/?` while the total is unknown)."""
    total = task.get("frames_total")
    return f"{task.get('frames_done', 0)}/{total}" if total else f"{task.get('frames_done', 0)}/?"


class LabelCounts:
    """Detections and frames per label, counted while the frames stream past."""

    def __init__(self) -> None:
        self.detections: Counter[str] = Counter()
        self.frames: Counter[str] = Counter()
        self.best: dict[str, float] = {}
        self.frames_seen = 0

    def add(self, frames: Iterable[dict[str, Any]]) -> LabelCounts:
        for frame in frames:
            self.frames_seen += 1
            labels = set()
            for obj in frame.get("objects", []):
                label = obj["label"]
                labels.add(label)
                self.detections[label] += 1
                self.best[label] = max(self.best.get(label, 0.0), float(obj["score"]))
            self.frames.update(labels)
        return self

    def table(self, title: str) -> Table:
        table = Table(title=title)
        table.add_column("label")
        table.add_column("detections", justify="right")
        table.add_column("frames", justify="right")
        table.add_column("best score", justify="right")
        for label, count in self.detections.most_common():
            table.add_row(label, str(count), str(self.frames[label]), f"{self.best[label]:.2f}")
        return table


def task_table(task: dict[str, Any]) -> Table:
    """One task's fields, as a two-column table."""
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    params = task.get("params") or {}
    rows = [
        ("task", str(task["task_id"])),
        ("status", status_text(task["status"])),
        ("video", task.get("video_name") or ""),
        ("model", task.get("model") or ""),
        ("frames", frames_done_text(task)),
        ("params", ", ".join(f"{k}={v}" for k, v in params.items() if v is not None)),
        ("created", task.get("created_at") or ""),
        ("started", task.get("started_at") or ""),
        ("finished", task.get("finished_at") or ""),
    ]
    if task.get("error"):
        rows.append(("error", f"[red]{task['error']}[/]"))
    if task.get("waiting"):
        rows.append(("waiting", f"[yellow]{task['waiting']['reason']}[/]: {task['waiting']['message']}"))
    if task.get("shards"):
        rows.append(("shards", shards_text(task["shards"])))
    for key, value in rows:
        table.add_row(key, value)
    return table


def shards_text(shards: dict[str, Any]) -> str:
    """`2 asked, 2 planned: #0 SUCCEEDED 150/150, #1 RUNNING 40/150` and why fewer, if so."""
    planned = shards.get("planned")
    text = f"{shards['asked']} asked, " + (f"{planned} planned" if planned is not None else "not planned yet")
    parts = [f"#{p['index']} {p['status']} {p['frames_done']}/{p['frames_total']}" for p in shards.get("parts") or []]
    if parts:
        text += ": " + ", ".join(parts)
    if shards.get("reason"):
        text += f" ({shards['reason']})"
    return text


def tasks_table(tasks: Iterable[dict[str, Any]]) -> Table:
    """One row per task; only the video name may be shortened to fit the terminal."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    columns: tuple[tuple[str, Literal["left", "right"], int], ...] = (
        ("task", "left", 36),
        ("status", "left", 9),
        ("frames", "right", 7),
        ("model", "left", 6),
        ("created", "left", 10),
        ("video", "left", 5),
    )
    for name, justify, width in columns:
        table.add_column(name, justify=justify, no_wrap=True, overflow="ellipsis", min_width=width)
    for task in tasks:
        table.add_row(
            str(task["task_id"]),
            status_text(task["status"]),
            frames_done_text(task),
            task.get("model", ""),
            str(task.get("created_at", ""))[:16].replace("T", " "),
            task.get("video_name", ""),
        )
    return table


def tracks_table(tracks: Iterable[dict[str, Any]]) -> Table:
    """One row per track: when it was seen, for how long, how sure."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("track", "label", "first", "last", "seconds", "frames", "best score"):
        table.add_column(name, justify="left" if name == "label" else "right", no_wrap=True)
    for t in tracks:
        table.add_row(
            str(t["track_id"]),
            t["label"],
            f"{t['first_timestamp']:.2f}s (frame {t['first_frame']})",
            f"{t['last_timestamp']:.2f}s (frame {t['last_frame']})",
            f"{t['last_timestamp'] - t['first_timestamp']:.2f}",
            str(t["frames_seen"]),
            f"{t['best_score']:.2f}",
        )
    return table


def zone_tables(summary: dict[str, Any]) -> list[Table]:
    """The summary's zone and line totals, a table each (none for a task without them)."""
    tables = []
    if summary.get("zones"):
        table = Table(title="zones", box=box.SIMPLE_HEAD, pad_edge=False)
        for name in ("zone", "label", "entered", "left", "most inside", "mean dwell s"):
            table.add_column(name, justify="left" if name in ("zone", "label") else "right", no_wrap=True)
        for zone, labels in summary["zones"].items():
            for label, c in labels.items() or [("-", None)]:
                dwell = c and c["mean_dwell_seconds"]
                cells = [str(c[k]) for k in ("entered", "left", "max_inside")] if c else ["0", "0", "0"]
                table.add_row(zone, label, *cells, f"{dwell:.2f}" if dwell is not None else "-")
        tables.append(table)
    if summary.get("lines"):
        table = Table(title="lines", box=box.SIMPLE_HEAD, pad_edge=False)
        for name in ("line", "label", "in", "out"):
            table.add_column(name, justify="left" if name in ("line", "label") else "right", no_wrap=True)
        for line, labels in summary["lines"].items():
            for label, c in labels.items() or [("-", {"in": 0, "out": 0})]:
                table.add_row(line, label, str(c["in"]), str(c["out"]))
        tables.append(table)
    return tables


def events_table(events: Iterable[dict[str, Any]]) -> Table:
    """One row per zone or line event, in frame order."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("time", "frame", "zone/line", "event", "track", "label", "dwell s"):
        table.add_column(name, justify="left" if name in ("zone/line", "event", "label") else "right", no_wrap=True)
    for e in events:
        dwell = e.get("dwell_s")
        table.add_row(
            f"{e['timestamp']:.2f}s",
            str(e["frame_index"]),
            e["rule"],
            e["kind"],
            str(e["track_id"]),
            e["label"],
            f"{dwell:.2f}" if dwell is not None else "",
        )
    return table


def print_wide(renderable: Any) -> None:
    """Print on stdout; when it is not a terminal, wide enough that no row wraps."""
    console = out if out.is_terminal else Console(width=max(out.width, 200))
    console.print(renderable)
