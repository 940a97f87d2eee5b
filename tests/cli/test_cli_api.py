"""The real CLI against the real API over HTTP (uvicorn, PostgreSQL, local dispatcher)."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx

from tests.support.api_server import MAX_UPLOAD_BYTES
from tests.support.videos import pan_video, png_image
from va_cli.client import ApiClient, token_expiry
from va_cli.credentials import CredentialStore
from va_cli.errors import EXIT_AUTH, EXIT_ERROR, EXIT_NOT_FOUND

PASSWORD = "correct horse battery"


def jwt_with_exp(exp: float) -> str:
    claims = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).rstrip(b"=").decode()
    return f"e30.{claims}.c2ln"


def one_error_line(result, exit_code: int) -> str:
    """The single `error: …` line a failed command must print, with its exit code."""
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0].removeprefix("error: ")


def test_signup_keeps_a_private_token_and_login_checks_password(cli_as, api_server) -> None:
    run = cli_as("alice")
    email = f"alice-{uuid.uuid4().hex[:8]}@example.com"
    assert run("ls").exit_code == EXIT_AUTH  # not logged in yet
    result = run("signup", "--email", email, "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    store = CredentialStore(run.config_dir)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    creds = store.get(api_server)
    assert creds.email == email and creds.access_token and creds.refresh_token
    assert run("ls").stdout.strip() == "no tasks yet"

    again = run("signup", "--email", email, "--password", PASSWORD)
    assert one_error_line(again, EXIT_ERROR) == "a user with this email already exists"
    wrong = run("login", "--email", email, "--password", "wrong password")
    assert one_error_line(wrong, EXIT_ERROR) == "wrong email or password"
    assert run("logout").exit_code == 0 and store.get(api_server) is None
    assert run("login", "--email", email, "--password", PASSWORD).exit_code == 0
    assert store.get(api_server).email == email


def test_expired_or_rejected_access_token_is_refreshed(cli_user, api_server) -> None:
    store = CredentialStore(cli_user.config_dir)
    creds = store.get(api_server)
    # Rejected by the server (bad signature): the client refreshes and retries once.
    store.save(api_server, type(creds)(creds.email, "not.a.token", creds.refresh_token))
    assert cli_user("ls").exit_code == 0
    refreshed = store.get(api_server).access_token
    assert refreshed != "not.a.token" and token_expiry(refreshed) > time.time()
    # Expired by its own claim: refreshed before it is sent (with the rotated refresh token).
    creds = store.get(api_server)
    stale = jwt_with_exp(time.time() - 60)
    store.save(api_server, type(creds)(creds.email, stale, creds.refresh_token))
    assert cli_user("ls").exit_code == 0
    assert store.get(api_server).access_token != stale
    # A refresh token the server refuses: one line asking to log in again.
    store.save(api_server, type(creds)(creds.email, "not.a.token", "bad-refresh"))
    assert "login" in one_error_line(cli_user("ls"), EXIT_AUTH)


def test_unknown_and_foreign_tasks_are_not_found(cli_user, cli_as) -> None:
    missing = str(uuid.uuid4())
    for command in ("status", "results", "cancel"):
        assert one_error_line(cli_user(command, missing), EXIT_NOT_FOUND) == f"task {missing} not found"
    assert one_error_line(cli_user("status", "3f-nope"), EXIT_NOT_FOUND).startswith("task 3f-nope not found")


def test_refused_uploads_show_the_server_detail(cli_user, tmp_path: Path) -> None:
    image = png_image(tmp_path / "still.png")
    assert "video" in one_error_line(cli_user("analyze", str(image)), EXIT_ERROR).lower()
    video = pan_video(tmp_path / "pan.mp4", frames=4).path
    assert one_error_line(cli_user("analyze", str(video), "--model", "nope"), EXIT_ERROR).startswith(
        "unknown model 'nope'; known models: "
    )
    usage = cli_user("analyze", str(video), "--score-threshold", "2")
    assert usage.exit_code == 2 and "score-threshold" in usage.stderr  # refused before any upload
    too_big = tmp_path / "big.mp4"
    too_big.write_bytes(os.urandom(MAX_UPLOAD_BYTES + 1))
    assert one_error_line(cli_user("analyze", str(too_big)), EXIT_ERROR) == (
        f"upload exceeds the limit of {MAX_UPLOAD_BYTES} bytes"
    )
    assert cli_user("ls").stdout.strip() == "no tasks yet"  # nothing half-created


def test_console_script_in_its_own_process(api_server: str, tmp_path: Path) -> None:
    """The installed `videoanalysis` entry point: help, and a one-line error on stderr."""
    script = Path(sys.executable).with_name("videoanalysis")
    env = {**os.environ, "VA_CONFIG_DIR": str(tmp_path), "VA_URL": api_server}
    done = subprocess.run([script, "--help"], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "analyze" in done.stdout and "results" in done.stdout, done.stderr
    done = subprocess.run([script, "status", str(uuid.uuid4())], env=env, capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (EXIT_AUTH, "")
    assert (
        done.stderr == f"error: not logged in to {api_server}: run `videoanalysis login` (or `videoanalysis signup`)\n"
    )


def test_two_commands_refreshing_at_once_stay_logged_in(cli_user, api_server) -> None:
    """Each thread is a command with its own client: the store's lock makes the one-time refresh
    token traded once, and neither command is logged out."""
    store = CredentialStore(cli_user.config_dir)
    creds = store.get(api_server)
    store.save(api_server, type(creds)(creds.email, jwt_with_exp(time.time() - 60), creds.refresh_token))
    tokens: list[str] = []

    def command() -> None:
        with ApiClient(api_server, CredentialStore(cli_user.config_dir)) as api:
            tokens.append(api._access_token())

    threads = [threading.Thread(target=command) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(tokens) == 4 and all(token_expiry(t) > time.time() for t in tokens)
    assert cli_user("ls").exit_code == 0
    creds = store.get(api_server)
    refreshed = httpx.post(f"{api_server}/authentication/token-refresh", json={"refresh_token": creds.refresh_token})
    assert refreshed.status_code == 200  # the session was never taken for a replay
