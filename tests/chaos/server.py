"""Crashes of the embedded server (`python -m api`: SQLite, local dispatcher): killed alone
(its analysis lives on as an orphan), killed with its analyses, stopped gracefully."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import httpx

from tests.chaos.aggregate import read_sqlite
from tests.chaos.harness import BATCH, Outcome, job_pids, sqlite_row
from tests.support.accounts import sign_up
from tests.support.api_server import embedded_env, spawn, wait_healthy
from tests.support.paths import ROOT
from tests.support.ports import free_port


class EmbeddedServer:
    """One data folder; `start()` runs a server on it, as `make run` would, again after a crash."""

    def __init__(self, data_dir: Path, lease_ttl_s: float = 2.0) -> None:
        self.data_dir = data_dir
        self.db = data_dir / "videoanalysis.sqlite3"
        self.proc: asyncio.subprocess.Process | None = None
        self.port = free_port()
        self.env = embedded_env(
            data_dir,
            self.port,
            PYTHONPATH=str(ROOT),
            VA_LEASE_TTL_S=str(lease_ttl_s),  # read by the analyses it starts
            VA_WRITE_BATCH_FRAMES=str(BATCH),
            VA_PROGRESS_INTERVAL_S="60",
            VA_LOCAL_BACKOFF_SECONDS="0.5",
            VA_LOCAL_POLL_SECONDS="0.2",
        )
        self.headers: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        # stderr not kept: a server killed mid-run many times would fill an unread pipe
        self.proc = await spawn(self.env, stderr=asyncio.subprocess.DEVNULL)
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
            await wait_healthy(client, self.proc, tries=300)

    async def sign_in(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            _, self.headers = await sign_up(client)

    async def upload(self, video: Path) -> str:
        async with httpx.AsyncClient(base_url=self.url, timeout=60) as client:
            with open(video, "rb") as f:
                resp = await client.post(
                    "/tasks/video-objects-detection/",
                    headers=self.headers,
                    files={"videofile": (video.name, f, "video/mp4")},
                )
        assert resp.status_code == 202, resp.text
        return resp.json()["task_id"]

    def position(self, task_id: str) -> int:
        row = sqlite_row(self.db, "SELECT next_frame FROM tasks WHERE id = ?", task_id)
        return int(row[0]) if row else 0

    async def wait_position(self, task_id: str, frame: int, timeout: float = 60) -> int:
        for _ in range(int(timeout / 0.02)):
            if (pos := self.position(task_id)) >= frame:
                return pos
            await asyncio.sleep(0.02)
        raise AssertionError(f"task {task_id} never reached frame {frame}")

    async def wait_final(self, task_id: str, timeout: float = 90) -> str:
        async with httpx.AsyncClient(base_url=self.url, timeout=30, headers=self.headers) as client:
            for _ in range(int(timeout / 0.2)):
                body = (await client.get(f"/tasks/video-analysis-result/{task_id}/?limit=1")).json()
                if body["ready"]:
                    return body["status"]
                await asyncio.sleep(0.2)
        raise AssertionError(f"task {task_id} did not end")

    async def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        await asyncio.wait_for(self.proc.wait(), 30)

    def outcome(self, case: str, task_id: str, expected: int, crashed_at: int) -> Outcome:
        status = sqlite_row(self.db, "SELECT status FROM tasks WHERE id = ?", task_id)[0]
        rows, distinct = sqlite_row(
            self.db, "SELECT count(*), count(DISTINCT frame_index) FROM frame_detections WHERE task_id = ?", task_id
        )
        return Outcome(case, status, expected, rows, distinct, crashed_at, read_sqlite(self.db, task_id))


async def server_crash(data_dir: Path, video: Path, frames: int, at: int, mode: str) -> list[Outcome]:
    """`mode`: "server" (SIGKILL the server only), "all" (the server and its analyses),
    "graceful" (SIGINT). A second upload waits in the queue when the crash hits."""
    server = EmbeddedServer(data_dir)
    await server.start()
    await server.sign_in()
    first, queued = await server.upload(video), await server.upload(video)
    await server.wait_position(first, at)
    if mode == "graceful":
        await server.kill(signal.SIGINT)
    else:
        orphans = job_pids(first)
        await server.kill()
        if mode == "all":
            for pid in orphans:
                os.kill(pid, signal.SIGKILL)
    crashed = server.position(first)
    if mode == "graceful":  # the analysis released its lease and left the task open
        status, holder = sqlite_row(server.db, "SELECT status, lease_holder FROM tasks WHERE id = ?", first)
        assert (status, holder) == ("RUNNING", None), (status, holder)
    await server.start()
    try:
        for task_id in (first, queued):
            await server.wait_final(task_id)
    finally:
        await server.kill(signal.SIGINT)
    names = {
        "server": "kill -9 the server (orphan analysis lives on)",
        "all": "kill -9 the server and its analyses",
        "graceful": "graceful stop of the server (SIGINT)",
    }
    return [
        server.outcome(names[mode], first, frames, crashed),
        server.outcome(names[mode] + ": the queued task", queued, frames, 0),
    ]
