"""Detections written out as JSON, CSV, a COCO dataset or MOTChallenge rows, one page of
frames at a time; tracks, and zone and line events, as CSV.

Frames are `{"frame", "timestamp", "objects": [{"label", "score", "box": [x1, y1, x2, y2],
"track_id"}]}` as the API returns them; no writer holds more than one page of a video's
detections.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from va_cli.errors import CliError
from videoanalysis.track_fields import TRACK_FIELDS

FORMATS = ("json", "csv", "coco", "mot", "tracks-csv", "events-csv")
EVENT_COLUMNS = ("frame_index", "timestamp", "rule", "kind", "track_id", "label", "dwell_s")
CSV_COLUMNS = ("frame", "timestamp", "label", "score", "x1", "y1", "x2", "y2", "track_id")


def write_json(out: IO[str], meta: dict[str, Any], frames: Iterable[dict]) -> None:
    """The API's result with all pages joined: `{...task fields..., "detections": [...]}`.

    Each frame is written as soon as its page is read.
    """
    head = json.dumps(meta)[:-1]
    out.write(head + (", " if meta else "") + '"detections": [')
    for n, frame in enumerate(frames):
        out.write(("," if n else "") + "\n  " + json.dumps(frame))
    out.write("\n]}\n")


def write_csv(out: IO[str], frames: Iterable[dict]) -> None:
    """One row per detected object; frames without objects give no row."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for frame in frames:
        for obj in frame.get("objects", []):
            track = obj.get("track_id")
            row = [frame["frame"], frame["timestamp"], obj["label"], obj["score"], *obj["box"]]
            writer.writerow([*row, "" if track is None else track])


def write_mot(out: IO[str], frames: Iterable[dict]) -> None:
    """MOTChallenge rows `frame,id,x,y,w,h,score,-1,-1,-1` (frames counted from 1, the
    video's frame index + 1), tracked objects only: what trackeval and the MOT tools read."""
    for frame in frames:
        for obj in frame.get("objects", []):
            if obj.get("track_id") is None:
                continue
            x1, y1, x2, y2 = obj["box"]
            values = (frame["frame"] + 1, obj["track_id"], x1, y1, round(x2 - x1, 2), round(y2 - y1, 2), obj["score"])
            out.write(",".join(str(v) for v in values) + ",-1,-1,-1\n")


def write_tracks_csv(out: IO[str], tracks: Iterable[dict]) -> None:
    """One row per track (`GET /tasks/{id}/tracks/`), the best box as `x1 y1 x2 y2`."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TRACK_FIELDS)
    for track in tracks:
        row = {**track, "best_box": " ".join(str(v) for v in track["best_box"])}
        writer.writerow([row[k] for k in TRACK_FIELDS])


def write_events_csv(out: IO[str], events: Iterable[dict]) -> None:
    """One row per zone or line event (`GET /tasks/{id}/events/`), in frame order; `dwell_s`
    is empty but for `left`."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EVENT_COLUMNS)
    for event in events:
        writer.writerow(["" if event.get(k) is None else event[k] for k in EVENT_COLUMNS])


def write_coco(out: IO[str], meta: dict[str, Any], frames: Iterable[dict]) -> None:
    """A COCO detection dataset: one image per analysed frame, boxes as [x, y, w, h] with scores.

    Images stream straight out; annotations go to a temporary file meanwhile, because the
    category list is known only after the last frame.
    """
    categories: dict[str, int] = {}
    size = {k: meta[k] for k in ("width", "height") if meta.get(k)}
    stem = Path(str(meta.get("video_name") or meta.get("task_id") or "frame")).stem
    with tempfile.TemporaryFile("w+") as annotations:
        out.write(
            '{"info": '
            + json.dumps({"description": f"detections of task {meta.get('task_id')}", "model": meta.get("model")})
            + ',\n "images": ['
        )
        ann_id = 0
        for n, frame in enumerate(frames):
            image_id = int(frame["frame"])
            image = {
                "id": image_id,
                "file_name": f"{stem}_{image_id:06d}.jpg",
                "frame_index": image_id,
                "timestamp": frame["timestamp"],
                **size,
            }
            out.write(("," if n else "") + "\n  " + json.dumps(image))
            for obj in frame.get("objects", []):
                x1, y1, x2, y2 = obj["box"]
                cat = categories.setdefault(obj["label"], len(categories) + 1)
                w, h = x2 - x1, y2 - y1
                ann_id += 1
                annotations.write(
                    ("," if ann_id > 1 else "")
                    + "\n  "
                    + json.dumps(
                        {
                            "id": ann_id,
                            "image_id": image_id,
                            "category_id": cat,
                            "bbox": [x1, y1, w, h],
                            "area": w * h,
                            "iscrowd": 0,
                            "score": obj["score"],
                            "track_id": obj.get("track_id"),
                        }
                    )
                )
        out.write('\n ],\n "annotations": [')
        annotations.seek(0)
        shutil.copyfileobj(annotations, out)
        out.write(
            '\n ],\n "categories": ' + json.dumps([{"id": i, "name": name} for name, i in categories.items()]) + "}\n"
        )


def export(fmt: str, out: IO[str], meta: dict[str, Any], frames: Iterable[dict]) -> None:
    if fmt == "json":
        write_json(out, meta, frames)
    elif fmt == "csv":
        write_csv(out, frames)
    elif fmt == "coco":
        write_coco(out, meta, frames)
    elif fmt == "mot":
        write_mot(out, frames)
    else:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


@contextmanager
def open_output(path: Path | None) -> Iterator[IO[str]]:
    """stdout, or a temp file beside `path` renamed over it only when everything was written."""
    if path is None or str(path) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    path = path.expanduser()
    if not path.parent.is_dir():
        raise CliError(f"cannot write {path}: no folder {path.parent}")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
