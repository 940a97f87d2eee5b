"""Leases are stamped and compared with the database's clock, not the machine's that writes
them: a writer whose clock runs ahead or behind stamps the same expiry, and a lease stamped by
a machine whose clock is 20 s behind is not taken over while it is live."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tortoise import Tortoise

from tests.support.job_harness import JobHarness
from videoanalysis import clock
from videoanalysis.lease import LeaseHeld, acquire, renew
from videoanalysis.tables import Task

TTL_S = 30.0


def skew(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """This process's clock off by `seconds`: every local time is read through `clock.local_now`."""
    monkeypatch.setattr(clock, "SKEW", timedelta(seconds=seconds))


async def database_now():
    _, rows = await Tortoise.get_connection("default").execute_query("SELECT now() AS now")
    return rows[0]["now"]


@pytest.mark.parametrize("seconds", [20.0, -20.0])
async def test_a_skewed_writer_stamps_the_databases_expiry(
    harness: JobHarness, monkeypatch: pytest.MonkeyPatch, seconds: float
) -> None:
    task = await harness.task("none.mp4")
    skew(monkeypatch, seconds)
    lease = await acquire(task.id, "skewed", ttl_s=TTL_S)
    stamped = (await Task.get(id=task.id)).lease_expires_at
    assert abs((stamped - await database_now()).total_seconds() - TTL_S) < 2
    await renew(lease)
    renewed = (await Task.get(id=task.id)).lease_expires_at
    assert abs((renewed - await database_now()).total_seconds() - TTL_S) < 2


async def test_a_lease_stamped_by_a_slow_clock_is_not_taken_while_live(
    harness: JobHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = await harness.task("none.mp4")
    skew(monkeypatch, -20.0)  # the writer's node runs 20 s behind: its 10 s lease looked expired
    await acquire(task.id, "behind", ttl_s=10.0)
    skew(monkeypatch, 0.0)
    with pytest.raises(LeaseHeld):
        await acquire(task.id, "replacement", ttl_s=10.0)


async def test_on_sqlite_the_embedded_servers_clock_is_the_databases(tmp_path) -> None:
    """One machine: `db_now` is its clock, no query (run in a child with its own Tortoise)."""
    import subprocess
    import sys

    code = (
        "import asyncio, datetime\n"
        "from tortoise import Tortoise\n"
        "from videoanalysis.clock import db_now\n"
        "from videoanalysis.db import tortoise_config\n"
        "async def main():\n"
        f"    await Tortoise.init(config=tortoise_config('sqlite://{tmp_path}/c.sqlite3'))\n"
        "    got = await db_now()\n"
        "    now = datetime.datetime.now(datetime.UTC)\n"
        "    print(abs((now - got).total_seconds()) < 1 and got.tzinfo is not None)\n"
        "    await Tortoise.close_connections()\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "True", out.stderr
