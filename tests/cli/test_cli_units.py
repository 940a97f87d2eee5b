"""The CLI's pieces without a server: upload body, token store, exports, error lines."""

from __future__ import annotations

import base64
import csv
import io
import json
import stat
import time
from pathlib import Path

import httpx
import pytest
from python_multipart.multipart import MultipartParser, parse_options_header
from typer.testing import CliRunner

from tests.support.ports import free_port
from va_cli.client import error_detail, token_expiry
from va_cli.credentials import Credentials, CredentialStore
from va_cli.errors import EXIT_UNREACHABLE, CliError
from va_cli.export import open_output, write_coco, write_csv, write_json
from va_cli.main import app
from va_cli.upload import MultipartUpload

FRAMES = [
    {"frame": 0, "timestamp": 0.0, "objects": [{"label": "face", "score": 0.9, "box": [10, 20, 50, 80]}]},
    {"frame": 2, "timestamp": 0.2, "objects": []},
    {
        "frame": 4,
        "timestamp": 0.4,
        "objects": [
            {"label": "face", "score": 0.8, "box": [12, 20, 52, 80]},
            {"label": "cat", "score": 0.6, "box": [0, 0, 4, 3]},
        ],
    },
]


def parse_multipart(upload: MultipartUpload) -> dict[str, bytes]:
    """Parse the streamed body with the same parser the API uses."""
    parts: dict[str, bytes] = {}
    state = {"name": b"", "data": bytearray(), "hdr": bytearray()}

    def on_header_value(d: bytes, s: int, e: int) -> None:
        state["hdr"].extend(d[s:e])

    def on_header_end() -> None:
        value, opts = parse_options_header(bytes(state["hdr"]))
        if value == b"form-data":
            state["name"] = opts[b"name"]
        state["hdr"].clear()

    def on_part_end() -> None:
        parts[state["name"].decode()] = bytes(state["data"])
        state["data"] = bytearray()

    _, opts = parse_options_header(upload.headers["Content-Type"])
    parser = MultipartParser(
        opts[b"boundary"],
        {
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": lambda d, s, e: state["data"].extend(d[s:e]),
            "on_part_end": on_part_end,
        },
    )
    for chunk in upload:
        parser.write(chunk)
    parser.finalize()
    return parts


def test_upload_body_streams_in_chunks_with_exact_length(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    payload = bytes(range(256)) * 5000  # 1.28 MB
    video.write_bytes(payload)
    progress: list[int] = []
    upload = MultipartUpload(
        video,
        "videofile",
        {"model": "opencv-face", "labels": "face,cat"},
        on_chunk=progress.append,
        chunk_size=64 * 1024,
    )
    chunks = list(upload)
    assert max(len(c) for c in chunks) <= 64 * 1024  # never the whole file at once
    assert sum(len(c) for c in chunks) == int(upload.headers["Content-Length"])
    assert sum(progress) == len(payload) and len(progress) == 20
    parts = parse_multipart(upload)
    assert parts == {"model": b"opencv-face", "labels": b"face,cat", "videofile": payload}


def test_credentials_file_is_private_and_per_server(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "cfg")
    store.save("http://a:1/", Credentials("a@x.io", "acc", "ref"))
    store.save("http://b:2", Credentials("b@x.io", "acc2", "ref2"))
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.get("http://a:1") == Credentials("a@x.io", "acc", "ref")
    assert store.forget("http://a:1") and store.get("http://a:1") is None
    assert store.get("http://b:2").email == "b@x.io"
    assert [p.name for p in store.directory.iterdir()] == ["credentials.json"]  # no temp left


def test_token_expiry_reads_the_jwt_claim() -> None:
    claims = base64.urlsafe_b64encode(json.dumps({"exp": 1234567890}).encode()).rstrip(b"=").decode()
    assert token_expiry(f"h.{claims}.s") == 1234567890
    assert token_expiry("not-a-jwt") is None


def test_error_detail_flattens_validation_errors() -> None:
    body = {
        "detail": [
            {"loc": ["body", "score_threshold"], "msg": "must be <= 1"},
            {"loc": ["body", "frame_stride"], "msg": "must be >= 1"},
        ]
    }
    response = httpx.Response(422, json=body)
    assert error_detail(response) == "score_threshold: must be <= 1; frame_stride: must be >= 1"
    assert error_detail(httpx.Response(413, json={"detail": "video larger\nthan 1 MB"})) == "video larger than 1 MB"


def test_exports_agree(tmp_path: Path) -> None:
    meta = {"task_id": "t1", "status": "SUCCEEDED", "model": "m", "video_name": "v.mp4"}
    js, cs, co = io.StringIO(), io.StringIO(), io.StringIO()
    write_json(js, meta, iter(FRAMES))
    write_csv(cs, iter(FRAMES))
    write_coco(co, meta, iter(FRAMES))
    data = json.loads(js.getvalue())
    assert data["task_id"] == "t1" and data["detections"] == FRAMES
    rows = list(csv.DictReader(io.StringIO(cs.getvalue())))
    assert [(r["frame"], r["label"], r["x2"]) for r in rows] == [
        ("0", "face", "50"),
        ("4", "face", "52"),
        ("4", "cat", "4"),
    ]
    coco = json.loads(co.getvalue())
    assert [i["id"] for i in coco["images"]] == [0, 2, 4]
    assert coco["categories"] == [{"id": 1, "name": "face"}, {"id": 2, "name": "cat"}]
    assert [(a["image_id"], a["category_id"], a["bbox"]) for a in coco["annotations"]] == [
        (0, 1, [10, 20, 40, 60]),
        (4, 1, [12, 20, 40, 60]),
        (4, 2, [0, 0, 4, 3]),
    ]


def test_output_file_appears_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError), open_output(target) as fh:
        fh.write("partial")
        raise RuntimeError("connection lost")
    assert list(tmp_path.iterdir()) == []
    with open_output(target) as fh:
        fh.write("{}")
    assert target.read_text() == "{}"
    with pytest.raises(CliError, match="no folder"), open_output(tmp_path / "missing" / "out.json"):
        pass


def test_server_down_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("VA_CONFIG_DIR", str(tmp_path))
    exp = base64.urlsafe_b64encode(json.dumps({"exp": time.time() + 3600}).encode()).decode()
    CredentialStore(tmp_path).save(url, Credentials("a@x.io", f"h.{exp}.s", "r"))
    for args in (["ls"], ["login", "--email", "a@x.io", "--password", "secret123"]):
        result = CliRunner().invoke(app, ["--url", url, *args])
        assert result.exit_code == EXIT_UNREACHABLE, result.output
        assert result.stderr.strip() == f"error: server unreachable at {url}"
        assert result.stdout == ""


@pytest.mark.parametrize(
    "command", ["signup", "login", "logout", "analyze", "status", "results", "tracks", "cancel", "ls"]
)
def test_help_everywhere(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], prog_name="videoanalysis")
    assert result.exit_code == 0 and f"Usage: videoanalysis {command}" in result.stdout


def test_results_formats_are_the_exporters() -> None:
    from va_cli.commands.results import Format
    from va_cli.export import FORMATS

    assert [f.value for f in Format] == list(FORMATS)


def test_a_waiting_task_says_why() -> None:
    from rich.console import Console

    from va_cli.render import task_table

    task = {"task_id": "t", "status": "PENDING", "frames_done": 0, "frames_total": None}
    waiting = {"reason": "Unschedulable", "message": "waiting for a node: 0/3 nodes are available"}
    console = Console(width=200, record=True)
    console.print(task_table({**task, "waiting": waiting}))
    assert "Unschedulable: waiting for a node: 0/3 nodes are available" in console.export_text()
    console.print(task_table({**task, "waiting": None}))
    assert console.export_text().count("waiting") == 0
