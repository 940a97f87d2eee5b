"""Everything an analysis leaves of a task, read back whole, and compared with an uninterrupted run.

Row counts cannot show a doubled batch (the frame rows are upserted on (task, frame)); the
task's per-label counters, the tracks' statistics (frames seen, label votes, best detection,
mean area) and the position can. So each crash case reads the task's whole aggregate (plain
SQL, PostgreSQL or the embedded server's SQLite file) and compares it field by field with the
aggregate of one uninterrupted run of the same video with the same parameters; a mismatch is
listed as lines a person can read (`differences`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import asyncpg

TASK_FIELDS = ("detections", "objects", "frames_total", "frames_done", "next_frame", "stage_state")
TRACK_FIELDS = (
    "label",
    "labels",
    "first_frame",
    "last_frame",
    "first_timestamp",
    "last_timestamp",
    "frames_seen",
    "best_score",
    "best_frame",
    "best_box",
    "mean_box_area",
    "thumbnail",
)
JSON_FIELDS = {"detections", "objects", "stage_state", "labels", "best_box"}  # "objects": the frame rows' too
#: Differences listed before the rest are only counted.
SHOWN = 12

TASK_SQL = f"SELECT {', '.join(TASK_FIELDS)} FROM tasks WHERE id = {{p}}"
TRACKS_SQL = f"SELECT track_id, {', '.join(TRACK_FIELDS)} FROM tracks WHERE task_id = {{p}} ORDER BY track_id"
FRAMES_SQL = "SELECT frame_index, timestamp, objects FROM frame_detections WHERE task_id = {p} ORDER BY frame_index"


def _value(name: str, raw: Any) -> Any:
    if raw is None:
        return None
    if name in JSON_FIELDS:
        return json.loads(raw) if isinstance(raw, str | bytes) else raw
    if name == "thumbnail":  # a JPEG: its digest is what a diff can show
        return hashlib.sha256(bytes(raw)).hexdigest()[:16]
    return raw


@dataclass(frozen=True)
class Aggregate:
    """The task row's counters and position, every track by id, every frame row by index."""

    task: dict[str, Any]
    tracks: dict[int, dict[str, Any]] = field(default_factory=dict)
    frames: dict[int, tuple[float, list]] = field(default_factory=dict)

    @classmethod
    def untouched(cls) -> Aggregate:
        """What a task row holds before any analysis wrote to it."""
        task = dict.fromkeys(TASK_FIELDS) | {"detections": {}, "frames_done": 0, "next_frame": 0}
        return cls(task)

    @classmethod
    def of(cls, task: Any, tracks: list[Any], frames: list[Any]) -> Aggregate:
        """From rows as either driver returns them (asyncpg records, sqlite3 tuples)."""
        return cls(
            {name: _value(name, task[i]) for i, name in enumerate(TASK_FIELDS)},
            {t[0]: {name: _value(name, t[i + 1]) for i, name in enumerate(TRACK_FIELDS)} for t in tracks},
            {f[0]: (f[1], _value("objects", f[2])) for f in frames},
        )

    def prefix(self, next_frame: int, stride: int = 1) -> Aggregate:
        """This (uninterrupted, untracked) run's aggregate as committed up to `next_frame`."""
        if self.tracks:
            raise ValueError("a tracked run's prefix has other track statistics: run it to that frame instead")
        task = self.task | {"next_frame": next_frame, "frames_done": -(-next_frame // stride)}
        return replace(self, task=task, frames={i: f for i, f in self.frames.items() if i < next_frame})

    def summary(self) -> str:
        return (
            f"{self.task['frames_done']} frames, {len(self.frames)} frame rows, detections {self.task['detections']},"
            f" {len(self.tracks)} tracks"
        )


async def read_pg(url: str, task_id: str) -> Aggregate:
    conn = await asyncpg.connect(url)
    try:
        task = await conn.fetchrow(TASK_SQL.format(p="$1"), task_id)
        if task is None:
            raise LookupError(f"no task {task_id}")
        tracks = await conn.fetch(TRACKS_SQL.format(p="$1"), task_id)
        frames = await conn.fetch(FRAMES_SQL.format(p="$1"), task_id)
    finally:
        await conn.close()
    return Aggregate.of(task, tracks, frames)


def read_sqlite(path: Path, task_id: str) -> Aggregate:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        task = db.execute(TASK_SQL.format(p="?"), (task_id,)).fetchone()
        if task is None:
            raise LookupError(f"no task {task_id}")
        tracks = db.execute(TRACKS_SQL.format(p="?"), (task_id,)).fetchall()
        frames = db.execute(FRAMES_SQL.format(p="?"), (task_id,)).fetchall()
    finally:
        db.close()
    return Aggregate.of(task, tracks, frames)


def differences(expected: Aggregate, got: Aggregate) -> list[str]:
    """Every field that differs, as `where: got (expected ...)` lines: the first `SHOWN`, then a count."""
    out = [f"task.{k}: {got.task.get(k)!r} (expected {v!r})" for k, v in expected.task.items() if got.task.get(k) != v]
    for tid in sorted(expected.tracks.keys() | got.tracks.keys()):
        want, have = expected.tracks.get(tid), got.tracks.get(tid)
        if want is None or have is None:
            out.append(f"track {tid}: {'extra' if want is None else 'missing'}")
            continue
        out += [f"track {tid}.{k}: {have[k]!r} (expected {v!r})" for k, v in want.items() if have[k] != v]
    for index in sorted(expected.frames.keys() | got.frames.keys()):
        want_row, have_row = expected.frames.get(index), got.frames.get(index)
        if want_row != have_row:
            what = (
                "extra" if want_row is None else "missing" if have_row is None else f"{have_row} (expected {want_row})"
            )
            out.append(f"frame {index}: {what}")
    if len(out) > SHOWN:
        out = [*out[:SHOWN], f"... and {len(out) - SHOWN} more"]
    return out
