"""Running Debian's `wrk` and reading the line `report.lua` prints."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPORT = Path(__file__).with_name("report.lua")


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int  # socket errors and timeouts
    non2xx: int


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is missing: `make bench-api` installs it (apt-get install wrk)")
    return path


def post_script(path: str, body: str, content_type: str = "application/json") -> Path:
    """A report script that also makes every request a POST of `body` (a temporary file)."""
    lua = (
        f'wrk.method = "POST"\nwrk.path = {json.dumps(path)}\nwrk.body = {json.dumps(body)}\n'
        f'wrk.headers["Content-Type"] = {json.dumps(content_type)}\n' + REPORT.read_text()
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as out:
        out.write(lua)
    return Path(out.name)


def command(
    url: str, *, connections: int, seconds: float, headers: dict[str, str] | None = None, script: Path = REPORT
) -> list[str]:
    cmd = [require_wrk(), "-t2", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "-s", str(script)]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    return [*cmd, url]


def parse(output: str) -> Result:
    line = next((x for x in output.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no report:\n{output}")
    r = json.loads(line.removeprefix("WRKJSON "))
    return Result(
        rps=r["requests"] / (r["duration_us"] / 1e6),
        p50_ms=r["p50_us"] / 1000,
        p95_ms=r["p95_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        errors=r["errors"],
        non2xx=r["non2xx"],
    )


def run(url: str, **kwargs: object) -> Result:
    proc = subprocess.run(command(url, **kwargs), capture_output=True, text=True, check=True)  # type: ignore[arg-type]
    return parse(proc.stdout)


def start(url: str, **kwargs: object) -> subprocess.Popen[str]:
    """A wrk running in the background (read it with `finish`)."""
    return subprocess.Popen(command(url, **kwargs), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # type: ignore[arg-type]


def finish(proc: subprocess.Popen[str]) -> Result:
    out, _ = proc.communicate()
    return parse(out)
