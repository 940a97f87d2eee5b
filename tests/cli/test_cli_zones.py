"""`analyze --zones FILE`, `events` and `results --format events-csv` on a real analysis: two
faces crossing a vertical line in opposite directions, one zone over the right half."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from bench.tracking_scenes import scene_video
from va_cli.errors import EXIT_ERROR

ZONES_YAML = """\
# the middle of the frame, and its right half
lines:
  - {name: middle, start: [0.5, 0.0], end: [0.5, 1.0]}
zones:
  - name: right
    polygon: [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]
"""


@pytest.fixture(scope="module")
def crossing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scene_video("crossing", tmp_path_factory.mktemp("cli-zones") / "crossing.avi")


def test_zones_from_a_file_give_totals_events_and_a_csv(cli_user, crossing: Path, tmp_path: Path) -> None:
    rules = tmp_path / "zones.yaml"
    rules.write_text(ZONES_YAML)
    run = cli_user("analyze", str(crossing), "--model", "opencv-face", "--zones", str(rules), "--wait", "--poll", "0.2")
    assert run.exit_code == 0, run.output
    task_id = run.stdout.partition("\n")[0]
    assert re.search(r"^\s*middle\s+face\s+1\s+1\s*$", run.stdout, re.M), run.stdout
    assert re.search(r"^\s*right\s+face\s+2\s+2\s+\d+\s+\d+\.\d\d\s*$", run.stdout, re.M), run.stdout
    listed = cli_user("events", task_id, "--zone", "right", "--kind", "left")
    assert listed.exit_code == 0 and len(re.findall(r"\bright\s+left\b", listed.stdout)) == 2, listed.stdout
    rows = list(csv.DictReader(cli_user("results", task_id, "--format", "events-csv").stdout.splitlines()))
    assert sorted(r["kind"] for r in rows) == ["entered", "entered", "in", "left", "left", "out"]
    assert all(bool(r["dwell_s"]) == (r["kind"] == "left") for r in rows)
    assert [int(r["frame_index"]) for r in rows] == sorted(int(r["frame_index"]) for r in rows)
    status = cli_user("status", task_id)
    assert re.search(r"^\s*middle\s+face\s+1\s+1\s*$", status.stdout, re.M), status.stdout


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("zones: [", "not YAML or JSON"),
        ("- 1\n- 2\n", "expected a mapping with `zones:` and/or `lines:`"),
        ("lines: {name: x}\n", "`lines` must be a list"),
    ],
)
def test_a_zones_file_of_the_wrong_shape_is_refused_before_upload(
    cli_user, crossing: Path, tmp_path: Path, text: str, reason: str
) -> None:
    rules = tmp_path / "zones.yaml"
    rules.write_text(text)
    run = cli_user("analyze", str(crossing), "--zones", str(rules))
    assert run.exit_code == EXIT_ERROR and reason in run.stderr, run.output


def test_bad_geometry_is_the_server_s_reason(cli_user, crossing: Path, tmp_path: Path) -> None:
    rules = tmp_path / "zones.json"
    rules.write_text('{"zones": [{"name": "flat", "polygon": [[0, 0], [0.5, 0.5], [1, 1]]}]}')
    run = cli_user("analyze", str(crossing), "--zones", str(rules))
    assert run.exit_code == EXIT_ERROR and "zone flat: the polygon has no area" in run.stderr, run.output
