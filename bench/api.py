"""`make bench-api`: the API's authenticated reads against a bare FastAPI app, side by side.

Both servers run at once under the same uvicorn call (`api.__main__.serve`, access log on), the
project on a fresh PostgreSQL database with the migrated schema and seeded rows (other users'
tasks, the caller's tasks, a result of `--frames` frames). Debian's `wrk` drives each endpoint in
turn, the order alternating between repeats; medians of the repeats are printed with the ratio of
each endpoint's requests/s to the bare app's. Then: `/me/` and the bare app with 200 keep-alive
clients (p95, errors), and `/healthz`'s p95 alone and while 16 clients keep signing in with a
wrong password (with the sign-in rate limits raised where this build has such a setting).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench import api_setup, wrk
from bench.common import row

WIDTHS = (26, 10, 9, 9, 9, 8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--frames", type=int, default=100, help="frames on the result page")
    parser.add_argument("--users", type=int, default=200, help="other users, each with --tasks-per-user tasks")
    parser.add_argument("--tasks-per-user", type=int, default=50)
    parser.add_argument("--pg", default=os.environ.get("VA_TEST_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument(
        "--api-source",
        type=Path,
        help="serve the project's API from this checkout (e.g. an older commit, for a before/after)",
    )
    args = parser.parse_args(argv)
    wrk.require_wrk()
    with tempfile.TemporaryDirectory(prefix="va-bench-api-") as tmp, api_setup.database(args.pg) as url:
        raised = api_setup.signin_limit_overrides()
        env = api_setup.api_env(url, Path(tmp) / "data", raised)
        source = args.api_source.resolve() if args.api_source else None
        if source:
            env["PYTHONPATH"] = str(source)
        api_port, bare_port = api_setup.free_port(), api_setup.free_port()
        with (
            api_setup.server("api", api_port, env, Path(tmp) / "api.log", "/healthz", cwd=source) as api,
            api_setup.server("bench.api_bare", bare_port, {}, Path(tmp) / "bare.log", "/me/") as bare,
        ):
            email = "bench@example.com"
            owner, token = api_setup.signup(api, email)
            result = asyncio.run(
                api_setup.seed_rows(
                    url, owner, users=args.users, tasks_per_user=args.tasks_per_user, frames=args.frames
                )
            )
            auth = {"Authorization": f"Bearer {token}"}
            targets = {
                "GET /healthz": (f"{api}/healthz", {}),
                "GET /me/": (f"{api}/me/", auth),
                "GET /tasks/": (f"{api}/tasks/", auth),
                f"GET result ({args.frames} frames)": (
                    f"{api}/tasks/video-analysis-result/{result}/?limit={args.frames}",
                    auth,
                ),
                "bare FastAPI /me/": (f"{bare}/me/", {}),
            }
            print(f"project API from {source or 'this checkout'}")
            print(
                f"seeded {args.users * args.tasks_per_user + args.tasks_per_user + 1} tasks, {args.frames} frames; "
                f"{os.cpu_count()} CPUs; wrk -t2 -c{args.connections} -d{args.seconds:g}s, {args.repeats} repeats",
                flush=True,
            )
            throughput(targets, args)
            crowd({k: targets[k] for k in ("GET /me/", "bare FastAPI /me/")}, args)
            storm(api, email, raised, args)
    return 0


def _interleaved(targets: dict, args: argparse.Namespace, connections: int) -> dict[str, list[wrk.Result]]:
    for url, headers in targets.values():  # warm-up: connections, caches, the JIT-free interpreter's imports
        wrk.run(url, connections=connections, seconds=1, headers=headers)
    results: dict[str, list[wrk.Result]] = {name: [] for name in targets}
    names = list(targets)
    for i in range(args.repeats):
        for name in names if i % 2 == 0 else reversed(names):
            url, headers = targets[name]
            results[name].append(wrk.run(url, connections=connections, seconds=args.seconds, headers=headers))
    return results


def _median(results: list[wrk.Result], pick: Callable[[wrk.Result], float]) -> float:
    return statistics.median(pick(r) for r in results)


def table(targets: dict, args: argparse.Namespace, connections: int, tail: str) -> None:
    """Every endpoint side by side over `connections` keep-alive connections: req/s, p50, the
    `tail` percentile ("p99", "p95") and the ratio to the bare app."""
    results = _interleaved(targets, args, connections)
    bare = _median(results["bare FastAPI /me/"], lambda r: r.rps)
    print(f"\n{connections} keep-alive connections (medians):")
    print(row("endpoint", "req/s", "p50 ms", f"{tail} ms", "/bare", "errors", widths=WIDTHS))
    for name, rs in results.items():
        rps = _median(rs, lambda r: r.rps)
        print(
            row(
                name,
                f"{rps:.0f}",
                f"{_median(rs, lambda r: r.p50_ms):.1f}",
                f"{_median(rs, lambda r: getattr(r, f'{tail}_ms')):.1f}",
                f"{rps / bare:.2f}",
                sum(r.errors + r.non2xx for r in rs),
                widths=WIDTHS,
            ),
            flush=True,
        )


def throughput(targets: dict, args: argparse.Namespace) -> None:
    table(targets, args, args.connections, "p99")


def crowd(targets: dict, args: argparse.Namespace) -> None:
    table(targets, args, 200, "p95")


def storm(api: str, email: str, raised: dict[str, str], args: argparse.Namespace) -> None:
    """/healthz's p95 over 16 connections, alone, then with 16 wrong-password sign-ins running."""
    body = json.dumps({"email": email, "password": "not the password"})
    script = wrk.post_script("/signin", body)
    try:
        quiet, loud, signins = [], [], []
        for _ in range(args.repeats):
            quiet.append(wrk.run(f"{api}/healthz", connections=16, seconds=args.seconds))
            hostile = wrk.start(f"{api}/signin", connections=16, seconds=args.seconds + 1, script=script)
            loud.append(wrk.run(f"{api}/healthz", connections=16, seconds=args.seconds))
            signins.append(wrk.finish(hostile))
            api_setup.wait_quiet(f"{api}/healthz")  # sign-ins wrk left in flight are still being answered
    finally:
        script.unlink()
    limits = ", ".join(f"{k}={v}" for k, v in raised.items()) or "none: this build has no sign-in rate-limit setting"
    print(f"\n/healthz p95 over 16 connections, alone vs. with 16 wrong-password sign-ins (raised limits: {limits}):")
    print(
        f"  alone {_median(quiet, lambda r: r.p95_ms):.1f} ms, during the storm {_median(loud, lambda r: r.p95_ms):.1f} ms"
        f" ({_median(loud, lambda r: r.rps):.0f} req/s); sign-ins answered "
        f"{_median(signins, lambda r: r.rps):.1f}/s, statuses >= 400: {sum(r.non2xx for r in signins)}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
