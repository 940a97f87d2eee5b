"""`analyze --wait`, `results`, `status`, `ls`, `cancel` on real analyses: the local dispatcher
runs `python -m inference_job` with the `opencv-face` model on a real video of a panning face."""

from __future__ import annotations

import csv
import json
import re
import uuid
from pathlib import Path

import pytest

from tests.support.videos import PanVideo, noise_video, pan_video
from va_cli.errors import EXIT_ERROR, EXIT_NOT_FOUND
from videoanalysis.tables import IdempotencyKey

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.fixture(scope="module")
def pan(tmp_path_factory: pytest.TempPathFactory) -> PanVideo:
    return pan_video(tmp_path_factory.mktemp("cli-video") / "pan.mp4")


def label_row(table: str, label: str) -> list[str]:
    """The cells of `label`'s row in the summary table (label, detections, frames, best score)."""
    for line in table.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃|]", line) if c.strip()]
        if cells and cells[0] == label:
            return cells
    raise AssertionError(f"no {label!r} row in:\n{table}")


def test_analyze_wait_summarises_and_results_agree(cli_user, pan: PanVideo, tmp_path: Path) -> None:
    run = cli_user(
        "analyze", str(pan.path), "--model", "opencv-face", "--score-threshold", "0", "--wait", "--poll", "0.2"
    )
    assert run.exit_code == 0, run.output
    assert run.stderr == ""  # not a terminal: no bars, no noise
    task_id, _, table = run.stdout.partition("\n")
    uuid.UUID(task_id)
    assert f"{pan.frames} frames analysed" in table
    _, detections, frames, _ = label_row(table, "face")
    assert int(frames) >= 0.9 * pan.frames and int(detections) >= int(frames)

    outputs = {}
    for fmt in ("json", "csv", "coco"):
        out = tmp_path / f"result.{fmt}"
        res = cli_user("results", task_id, "--format", fmt, "--output", str(out), "--page-size", "5")
        assert res.exit_code == 0, res.output
        outputs[fmt] = out.read_text()
    data = json.loads(outputs["json"])
    assert data["status"] == "SUCCEEDED" and data["frames_done"] == pan.frames
    assert [f["frame"] for f in data["detections"]] == list(range(pan.frames))  # all 5 pages, in order
    from_json = sorted((f["frame"], o["label"], tuple(o["box"])) for f in data["detections"] for o in f["objects"])
    rows = list(csv.DictReader(outputs["csv"].splitlines()))
    from_csv = sorted((int(r["frame"]), r["label"], tuple(float(r[k]) for k in ("x1", "y1", "x2", "y2"))) for r in rows)
    coco = json.loads(outputs["coco"])
    names = {c["id"]: c["name"] for c in coco["categories"]}
    from_coco = sorted(
        (
            a["image_id"],
            names[a["category_id"]],
            (a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]),
        )
        for a in coco["annotations"]
    )
    assert from_json == from_csv == from_coco and len(from_json) == int(detections)
    assert len(coco["images"]) == pan.frames and set(names.values()) == {"face"}
    hits = sum(any(iou(box, pan.face_boxes[i]) >= 0.5 for j, _, box in from_json if j == i) for i in range(pan.frames))
    assert hits >= 0.9 * pan.frames  # the boxes follow the panning face

    # Tracks: the one face is one track, in every export.
    assert {a["track_id"] for a in coco["annotations"]} - {None} == {1}
    assert {r["track_id"] for r in rows} - {""} == {"1"}
    mot = tmp_path / "result.mot"
    assert cli_user("results", task_id, "--format", "mot", "--output", str(mot)).exit_code == 0
    mot_rows = [line.split(",") for line in mot.read_text().splitlines()]
    tracked = sorted((f["frame"] + 1, o["box"]) for f in data["detections"] for o in f["objects"] if o["track_id"])
    assert [(int(r[0]), [float(r[2]), float(r[3])]) for r in mot_rows] == [(n, box[:2]) for n, box in tracked]
    assert all(r[1] == "1" and r[7:] == ["-1", "-1", "-1"] for r in mot_rows) and int(mot_rows[0][0]) >= 1
    x, y, w, h = (float(v) for v in mot_rows[0][2:6])
    assert [x, y, x + w, y + h] == pytest.approx(tracked[0][1], abs=0.02)
    tracks_csv = cli_user("results", task_id, "--format", "tracks-csv").stdout
    (track,) = list(csv.DictReader(tracks_csv.splitlines()))
    assert track["track_id"] == "1" and track["label"] == "face" and int(track["frames_seen"]) == len(mot_rows)
    listed = cli_user("tracks", task_id)
    assert listed.exit_code == 0 and re.search(r"^\s*1\s+face\s", listed.stdout, re.M), listed.stdout

    view = cli_user("view", task_id)
    assert view.exit_code == 0 and f"/tasks/{task_id}/view?viewer_token=" in view.stdout
    status = cli_user("status", task_id)
    assert status.exit_code == 0 and "SUCCEEDED" in status.stdout and f"{pan.frames}/{pan.frames}" in status.stdout
    assert task_id in cli_user("ls").stdout
    late = cli_user("cancel", task_id)
    assert late.exit_code == EXIT_ERROR and late.stderr.strip() == "error: task already ended: SUCCEEDED"


def test_progress_bars_on_a_terminal(cli_user, tmp_path: Path) -> None:
    video = pan_video(tmp_path / "short.mp4", frames=6)
    run = cli_user(
        "analyze",
        str(video.path),
        "--model",
        "opencv-face",
        "--wait",
        "--poll",
        "0.1",
        env={"TTY_COMPATIBLE": "1", "COLUMNS": "120"},
    )
    assert run.exit_code == 0, run.output
    bars = ANSI.sub("", run.stderr)
    size_kb = f"{video.path.stat().st_size / 1000:.1f}"
    assert re.search(rf"upload .*{re.escape(size_kb)}/{re.escape(size_kb)} kB", bars), bars
    assert re.search(r"SUCCEEDED .*6/6 frames", bars), bars
    assert "face" in ANSI.sub("", run.stdout)


def test_cancel_a_running_task(cli_user, tmp_path: Path) -> None:
    video = pan_video(tmp_path / "long.mp4", frames=150, step=1)
    run = cli_user("analyze", str(video.path), "--model", "opencv-face")
    assert run.exit_code == 0, run.output
    task_id = run.stdout.strip()
    cancelled = cli_user("cancel", task_id)
    assert cancelled.exit_code == 0 and cancelled.stderr.strip() == f"task {task_id} cancelled"
    status = cli_user("status", task_id).stdout
    assert "CANCELLED" in status and "cancelled by the owner" in status
    again = cli_user("cancel", task_id)  # idempotent
    assert again.exit_code == 0
    deleted = cli_user("delete", task_id)
    assert deleted.exit_code == 0 and deleted.stderr.strip() == f"task {task_id} deleted"
    gone = cli_user("status", task_id)
    assert gone.exit_code == EXIT_NOT_FOUND and gone.stderr.strip() == f"error: task {task_id} not found"


def test_parameters_reach_the_job_and_an_empty_result_says_so(cli_user, tmp_path: Path) -> None:
    video = noise_video(tmp_path / "noise.mp4", frames=10)
    run = cli_user(
        "analyze",
        str(video),
        "--model",
        "opencv-face",
        "--frame-stride",
        "2",
        "--labels",
        "face",
        "--score-threshold",
        "0.7",
        "--shards",
        "2",
        "--wait",
        "--poll",
        "0.1",
    )
    assert run.exit_code == 0, run.output
    task_id, _, summary = run.stdout.partition("\n")
    assert "noise.mp4: 5 frames analysed" in summary and "no objects detected" in summary
    status = cli_user("status", task_id).stdout
    assert "5/5" in status and "frame_stride=2" in status and "labels=['face']" in status
    assert "score_threshold=0.7" in status and "tracker=ocsort" in status and "shards=2" in status
    assert "2 asked, " in status  # the plan, or that it is not made yet, follows
    csv_out = cli_user("results", task_id, "--format", "csv")
    assert csv_out.stdout == "frame,timestamp,label,score,x1,y1,x2,y2,track_id\n"


async def test_analyze_sends_an_idempotency_key_of_its_own(cli_user, tmp_path: Path) -> None:
    """A retried upload of one `analyze` answers the same task; two `analyze` make two."""
    video = noise_video(tmp_path / "n.mp4", frames=4)
    ids = [cli_user("analyze", str(video)).stdout.strip() for _ in range(2)]
    keys = [await IdempotencyKey.get(task_id=task_id) for task_id in ids]
    assert ids[0] != ids[1] and keys[0].key != keys[1].key
    assert all(k.key.startswith("cli-") and k.status_code == 202 for k in keys)
